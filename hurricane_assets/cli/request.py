"""`hurricane request DOMAIN.DATASET -c COLUMN …`: ask for columns of another domain's dataset; the
same negotiation and delivery as a failing monitor's need, as real Dagster runs."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.display import short_path

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

    Exit 1 when a column is refused (each refusal names the policy and reason), 2 on a malformed request."""
    from hurricane_assets.client import HurricaneClient, RequestDenied

    client = HurricaneClient(domain=consumer)
    try:
        frame = client.request(dataset, columns, purpose, env, progress=progress)
        refused, denied = [], None
    except RequestDenied as exc:
        frame, refused, denied = exc.delivered, exc.refused, exc
    contracts = client.contracts(consumer=client.domain, status="active")
    producer, name = dataset.split(".", 1)
    row = contracts[(contracts["producer"] == producer) & (contracts["dataset"] == name)].head(1)
    contract_id = row["contract_id"].iloc[0] if len(row) and frame is not None else None
    masking = client.contract_columns(contract_id) if contract_id else None
    if as_json:
        typer.echo(json.dumps({
            "dataset": dataset, "granted": denied is None, "contract_id": contract_id,
            "share_uri": client.contract(contract_id).share_uri if contract_id else None,
            "rows": None if frame is None else len(frame),
            "columns": {} if masking is None else dict(zip(masking["column"], masking["masking"])),
            "refused": [{"column": r.column, "policy_ids": list(r.policy_ids), "reasons": list(r.reasons)} for r in refused],
            "negotiation_id": denied.negotiation_id if denied else None,
        }, indent=2))
    else:
        if contract_id:
            console.print(f"contract [bold]{contract_id}[/]: {len(frame)} rows at "
                          f"{short_path(client.contract(contract_id).share_uri)}")
            table = Table("column", "masking", "class", box=None, padding=(0, 1))
            for column, method, classification, _ in masking.itertuples(index=False):
                table.add_row(column, method, classification)
            console.print(table)
        for r in refused:
            typer.echo(f"refused {r}")
    if denied is not None:
        raise typer.Exit(code=1)
