"""`hurricane ledger`: verify the ledger, show its tail, write a checkpoint."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.ledger import Ledger, verify_ledger

app = typer.Typer(help="The tamper-evident ledger: verify it, show entries, checkpoint it.", no_args_is_help=True)
console = Console()


def _fail_input(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def verify(
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    uri: str = typer.Option(None, help="ledger table URI (default: $HURRICANE_HOME/ledger)"),
) -> None:
    """Check contiguity, hashes, links, signatures and checkpoints; exit 1 naming the first bad entry."""
    result = verify_ledger(uri)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    elif result.ok:
        console.print(
            f"[green]ledger OK[/]: {result.entries} entries, {result.signatures_checked} signatures, "
            f"{result.checkpoints_checked} checkpoints"
        )
    else:
        typer.echo(f"ledger INVALID at seq {result.first_bad_seq}: {result.problem}")
    if not result.ok:
        raise typer.Exit(code=1)


@app.command()
def show(
    tail: int = typer.Option(20, "--tail", help="how many of the latest entries"),
    as_json: bool = typer.Option(False, "--json", help="print entries as JSON lines"),
) -> None:
    """Show the latest entries (payloads hold hashes and references only, never data)."""
    if tail < 1:
        _fail_input(f"--tail must be at least 1, got {tail}")
    rows = Ledger().tail(tail)
    if as_json:
        for row in rows:
            typer.echo(json.dumps({**row, "ts": row["ts"].isoformat()}))
        return
    table = Table("seq", "time (UTC)", "type", "actor", "negotiation", "entry hash")
    for row in rows:
        table.add_row(
            str(row["seq"]),
            row["ts"].strftime("%Y-%m-%d %H:%M:%S"),
            row["entry_type"],
            row["actor"],
            row["negotiation_id"] or "",
            row["entry_hash"][:16] + "…",
        )
    console.print(table)


@app.command()
def checkpoint() -> None:
    """Sign and store a Merkle checkpoint of the whole ledger now."""
    written = Ledger().checkpoint()
    if written is None:
        typer.echo("ledger is empty: nothing to checkpoint")
        return
    typer.echo(written.note, nl=False)
