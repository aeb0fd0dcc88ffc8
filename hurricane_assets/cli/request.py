"""`hurricane request DOMAIN.DATASET -c COLUMN …`: ask for columns of another domain's dataset; the
same negotiation and delivery as a failing monitor's need, as real Dagster runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.display import short_path
from hurricane_assets.cli.errors import CHECK_FAILED, DENIED

if TYPE_CHECKING:  # the client imports the engines: loaded only when the command runs
    from hurricane_assets.client import HurricaneClient
    from hurricane_assets.sharing.request import RequestOutcome

console = Console()


def request(
    dataset: str = typer.Argument(..., help="DOMAIN.DATASET, e.g. payments.transactions"),
    columns: list[str] = typer.Option(..., "--column", "-c", help="a column to ask for (repeat the option)"),
    purpose: str = typer.Option(..., help="what the data is for, e.g. fraud_detection"),
    env: str = typer.Option("preprod", help="where the copy goes: preprod or dev (prod only if policy allows)"),
    consumer: str = typer.Option(None, "--as", help="the domain asking (default $HURRICANE_DOMAIN)"),
    as_json: bool = typer.Option(False, "--json", help="print the outcome as JSON (refusals included)"),
    progress: bool = typer.Option(True, help="show a progress line per step on stderr"),
) -> None:
    """Negotiate and deliver COLUMNs of DATASET for PURPOSE into ENV.

    Exit 1 when a column is refused (each refusal names the policy and reason), 2 on a malformed request,
    3 when the copy was written but failed its blocking join check (the contract stays active).
    Whatever the outcome, every contract the negotiation signed is shown."""
    from hurricane_assets.client import HurricaneClient

    client = HurricaneClient(domain=consumer)
    outcome = client.request_outcome(dataset, columns, purpose, env, progress=progress)
    if as_json:
        typer.echo(json.dumps(outcome_json(outcome), indent=2))
    else:
        print_outcome(client, outcome)
    failed = outcome.check_failure()
    if failed is not None:
        typer.echo(f"error: {failed}", err=True)
        raise typer.Exit(code=CHECK_FAILED)
    if not outcome.granted:
        raise typer.Exit(code=DENIED)


def outcome_json(outcome: RequestOutcome) -> dict:
    contract = outcome.contract
    return {
        "dataset": outcome.request.name, "granted": outcome.granted,
        "contract_id": contract.contract_id if contract else None,
        "share_uri": contract.share_uri if contract else None,
        "rows": None if outcome.frame is None else len(outcome.frame),
        "failed_checks": list(outcome.failed_checks),
        "columns": {column: method.value for column, method in contract.terms.columns.items()} if contract else {},
        "refused": [{"column": r.column, "policy_ids": list(r.policy_ids), "reasons": list(r.reasons)}
                    for r in outcome.refused],
        "negotiation_id": outcome.negotiation_id,
        "signed": [{"contract_id": c.contract_id, "dataset": f"{c.producer}.{c.dataset}",
                    "columns": {column: method.value for column, method in c.terms.columns.items()}}
                   for c in outcome.signed],
    }


def print_outcome(client: HurricaneClient, outcome: RequestOutcome) -> None:
    from hurricane_assets.sharing.request import describe_contract

    contract = outcome.contract
    if contract is not None:
        rows = "not delivered" if outcome.frame is None else f"{len(outcome.frame)} rows"
        console.print(f"contract [bold]{contract.contract_id}[/]: {rows} at {short_path(contract.share_uri)}")
        table = Table("column", "masking", "class", box=None, padding=(0, 1))
        for column, method, classification, _ in client.contract_columns(contract.contract_id).itertuples(index=False):
            table.add_row(column, method, classification)
        console.print(table)
    for other in (c for c in outcome.signed if c is not contract):
        typer.echo(f"signed {describe_contract(other)}")
    for r in outcome.refused:
        typer.echo(f"refused {r}")
