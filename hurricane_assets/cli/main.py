"""`hurricane`: the platform's command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="hurricane",
    help="Data Hurricane: cross-domain data sharing negotiated by agents, inside policy.",
    no_args_is_help=True,
    add_completion=False,
)

# Command groups register themselves below, one line each.
