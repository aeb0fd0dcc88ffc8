"""`hurricane`: the platform's command line. Each command group lives in its own module; errors of
every command meet one boundary (`errors.HurricaneGroup`)."""

from __future__ import annotations

import typer

from hurricane_assets.cli import approvers as _approvers
from hurricane_assets.cli import catalog as _catalog
from hurricane_assets.cli import contracts as _contracts
from hurricane_assets.cli import demo as _demo
from hurricane_assets.cli import erasure as _erasure
from hurricane_assets.cli import keys as _keys
from hurricane_assets.cli import ledger as _ledger
from hurricane_assets.cli import lineage as _lineage
from hurricane_assets.cli import masking as _masking
from hurricane_assets.cli import negotiations as _negotiations
from hurricane_assets.cli import request as _request
from hurricane_assets.cli.errors import HurricaneGroup

EXIT_CODES = ("Exit codes: 0 ok; 1 a request denied or a check failed (ledger verify, the demo's loop); "
              "2 bad input (arguments, options, unreadable state files); 3 a request's copy delivered but "
              "failing its blocking join check; 130 interrupted (Ctrl-C). Errors are one line on stderr.")

app = typer.Typer(
    name="hurricane",
    cls=HurricaneGroup,
    help="Data Hurricane: cross-domain data sharing negotiated by agents, inside policy.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Data Hurricane: cross-domain data sharing negotiated by agents, inside policy (the help shows EXIT_CODES)."""


app.command("demo")(_demo.demo)
app.command("request")(_request.request)
app.add_typer(_catalog.app, name="catalog")
app.add_typer(_contracts.app, name="contracts")
app.add_typer(_ledger.app, name="ledger")
app.add_typer(_lineage.app, name="lineage")
app.add_typer(_keys.app, name="keys")
app.add_typer(_negotiations.app, name="negotiations")
app.add_typer(_masking.app, name="masking")
app.add_typer(_approvers.app, name="approvers")
app.add_typer(_erasure.app, name="erasure")


if __name__ == "__main__":
    app()
