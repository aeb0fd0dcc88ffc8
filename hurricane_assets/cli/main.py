"""`hurricane`: the platform's command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from hurricane_assets.cli import contracts as _contracts
from hurricane_assets.cli import demo as _demo
from hurricane_assets.cli import ledger as _ledger
from hurricane_assets.cli import masking as _masking
from hurricane_assets.cli import negotiations as _negotiations

app = typer.Typer(
    name="hurricane",
    help="Data Hurricane: cross-domain data sharing negotiated by agents, inside policy.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Data Hurricane: cross-domain data sharing negotiated by agents, inside policy."""


app.command("demo")(_demo.demo)
app.add_typer(_contracts.app, name="contracts")
app.add_typer(_ledger.app, name="ledger")
app.add_typer(_negotiations.app, name="negotiations")
app.add_typer(_masking.app, name="masking")
