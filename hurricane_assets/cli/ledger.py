"""`hurricane ledger`: verify the ledger, show its tail, write a checkpoint."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.errors import fail

app = typer.Typer(help="The tamper-evident ledger: verify it, show entries, checkpoint it.", no_args_is_help=True)
console = Console()


@app.command()
def verify(
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    uri: str = typer.Option(None, help="ledger table URI (default: $HURRICANE_HOME/ledger)"),
) -> None:
    """Check contiguity, hashes, links, keys, signatures, checkpoints and every witness's copy; exit 1
    naming the first bad entry (or the witness that disagrees), 2 if the URI holds no ledger."""
    from hurricane_assets.identity import TrustRootError
    from hurricane_assets.ledger import verify_ledger
    from hurricane_assets.ledger.verify import LedgerInputError

    try:
        result = verify_ledger(uri)
    except (LedgerInputError, TrustRootError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    elif result.ok:
        console.print(f"[green]ledger OK[/]: {summary(result)}")
    else:
        typer.echo(f"ledger INVALID at seq {result.first_bad_seq}: {result.problem}")
    if not result.ok:
        raise typer.Exit(code=1)


def summary(result) -> str:
    return (
        f"{result.entries} entries, {result.signatures_checked} signatures, {result.checkpoints_checked} checkpoints, "
        f"{result.cosigned_entries} entries cosigned by {result.witnesses} witnesses"
    )


@app.command()
def show(
    tail: int = typer.Option(20, "--tail", help="how many of the latest entries"),
    as_json: bool = typer.Option(False, "--json", help="print entries as JSON lines"),
) -> None:
    """Show the latest entries (payloads hold hashes and references only, never data)."""
    from hurricane_assets.ledger import Ledger

    if tail < 1:
        fail(f"--tail must be at least 1, got {tail}")
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
    """Sign a Merkle checkpoint of the whole ledger now, have every witness cosign it, print the note."""
    from hurricane_assets.identity import TrustRootError
    from hurricane_assets.ledger import Ledger

    ledger = Ledger()
    try:
        written = ledger.checkpoint()
    except TrustRootError as exc:
        fail(str(exc))
    if written is None:
        typer.echo("ledger is empty: nothing to checkpoint")
        return
    typer.echo(written.full_note(), nl=False)
    for refusal in ledger.last_refusals:
        typer.echo(f"refused: {refusal}", err=True)
    if ledger.last_refusals:
        raise typer.Exit(code=1)
