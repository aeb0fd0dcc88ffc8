"""`hurricane masking`: show a dataset's masking plan, make a masked lower-environment copy."""

from __future__ import annotations

import json

import typer

from hurricane_assets.catalog import load_catalog
from hurricane_assets.cli.errors import fail

app = typer.Typer(help="Masked copies of prod data for preprod and dev.", no_args_is_help=True)


def _dataset(domain: str, dataset: str):
    try:
        return load_catalog().dataset(domain, dataset)
    except KeyError as exc:
        fail(str(exc).strip("'\""))


@app.command("plan")
def plan(domain: str, dataset: str, env: str = typer.Option("preprod", help="target environment")) -> None:
    """Print the default masking plan of DOMAIN.DATASET for ENV as JSON."""
    from hurricane_assets.masking.plans import PlanError, default_plan

    spec = _dataset(domain, dataset)
    try:
        masking_plan = default_plan(spec, env, name=f"{domain}.{dataset}")
    except PlanError as exc:
        fail(str(exc))
    typer.echo(json.dumps({"version": masking_plan.version, **masking_plan.model_dump(mode="json")}, indent=2))


@app.command("copy")
def copy(domain: str, dataset: str, env: str = typer.Option("preprod", help="preprod or dev"),
         k: int = typer.Option(5, min=1, help="k-anonymity target over the quasi-identifiers")) -> None:
    """Mask DOMAIN.DATASET from prod into ENV and print the privacy report."""
    from deltalake.exceptions import TableNotFoundError

    from hurricane_assets.masking.copy import copy_masked
    from hurricane_assets.masking.engine import SchemaDriftError, UnclassifiedColumnError
    from hurricane_assets.masking.kanonymity import KAnonymityError
    from hurricane_assets.masking.keys import MaskingKeyError
    from hurricane_assets.masking.measure import PrivacyCheckFailed
    from hurricane_assets.masking.plans import PlanError

    _dataset(domain, dataset)
    try:
        report = copy_masked(load_catalog(), domain, dataset, env, k=k)
    except (PlanError, SchemaDriftError, UnclassifiedColumnError, MaskingKeyError, TableNotFoundError,
            KAnonymityError, PrivacyCheckFailed) as exc:
        fail(str(exc))
    typer.echo(report.to_json())


@app.command("init-keys")
def init_keys(env: list[str] = typer.Option(None, "--env", help="environment(s); default: prod, preprod and dev"),
              rotate: bool = typer.Option(False, help="also for an environment that holds masked tables (every copy "
                                                      "must then be refreshed)")) -> None:
    """Create the masking key of each environment that has none (keys are never created on use)."""
    from hurricane_assets.masking.keys import MaskingKeyError, init_masking_keys
    from hurricane_assets.settings import ENVIRONMENTS

    try:
        ids = init_masking_keys(tuple(env) if env else ENVIRONMENTS, rotate=rotate)
    except MaskingKeyError as exc:
        fail(str(exc))
    for name, key_id in ids.items():
        typer.echo(f"{name}: key id {key_id}")
