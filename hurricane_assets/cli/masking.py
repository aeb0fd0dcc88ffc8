"""`hurricane masking`: show a dataset's masking plan, make a masked lower-environment copy."""

from __future__ import annotations

import json

import typer
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.catalog import load_catalog
from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.engine import SchemaDriftError, UnclassifiedColumnError
from hurricane_assets.masking.keys import MaskingKeyError
from hurricane_assets.masking.plans import PlanError, default_plan

app = typer.Typer(help="Masked copies of prod data for preprod and dev.", no_args_is_help=True)


def _fail_input(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _dataset(domain: str, dataset: str):
    try:
        return load_catalog().dataset(domain, dataset)
    except KeyError as exc:
        _fail_input(str(exc).strip("'\""))


@app.command("plan")
def plan(domain: str, dataset: str, env: str = typer.Option("preprod", help="target environment")) -> None:
    """Print the default masking plan of DOMAIN.DATASET for ENV as JSON."""
    spec = _dataset(domain, dataset)
    try:
        masking_plan = default_plan(spec, env, name=f"{domain}.{dataset}")
    except PlanError as exc:
        _fail_input(str(exc))
    typer.echo(json.dumps({"version": masking_plan.version, **masking_plan.model_dump(mode="json")}, indent=2))


@app.command("copy")
def copy(domain: str, dataset: str, env: str = typer.Option("preprod", help="preprod or dev"),
         k: int = typer.Option(5, min=1, help="k-anonymity target over the quasi-identifiers")) -> None:
    """Mask DOMAIN.DATASET from prod into ENV and print the privacy report."""
    _dataset(domain, dataset)
    try:
        report = copy_masked(load_catalog(), domain, dataset, env, k=k)
    except (PlanError, SchemaDriftError, UnclassifiedColumnError, MaskingKeyError, TableNotFoundError) as exc:
        _fail_input(str(exc))
    typer.echo(report.to_json())
