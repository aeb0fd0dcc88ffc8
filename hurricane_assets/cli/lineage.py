"""`hurricane lineage show <contract>`: the OpenLineage events of one contract's share."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.display import short_path

app = typer.Typer(help="OpenLineage events written by negotiations and deliveries.", no_args_is_help=True)
console = Console()


@app.command("show")
def show(
    contract_id: str,
    as_json: bool = typer.Option(False, "--json", help="print the events as JSON lines, as written"),
) -> None:
    """The negotiation runs, delivery runs and drops of one contract's share, oldest first."""
    from hurricane_assets.contracts.store import ContractStore
    from hurricane_assets.lineage.reader import contract_events, lineage_file, read_events

    contract = ContractStore().get(contract_id)
    events = contract_events(contract, read_events())
    if as_json:
        for event in events:
            typer.echo(json.dumps(event))
        return
    console.print(f"[bold]{contract.producer}.{contract.dataset} → {contract.consumer}[/] "
                  f"({contract.terms.environment.value}): {short_path(contract.share_uri)}")
    table = Table(title=f"{len(events)} event(s) in {short_path(str(lineage_file()))}", title_justify="left")
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("event", no_wrap=True)
    table.add_column("run", no_wrap=True)
    table.add_column("job / dataset", overflow="fold")
    for event in events:
        run = event.get("run") or {}
        if "job" in event:
            what, job = event.get("eventType", ""), event["job"].get("name", "")
            parent = ((run.get("facets") or {}).get("parent") or {}).get("run", {}).get("runId")
            if parent:
                job += f" (parent {parent[:8]})"
        else:
            what, job = "DROP", short_path(event.get("dataset", {}).get("name", ""))
        table.add_row(str(event["eventTime"])[:19].replace("T", " "), what, str(run.get("runId", ""))[:8], job)
    console.print(table)
