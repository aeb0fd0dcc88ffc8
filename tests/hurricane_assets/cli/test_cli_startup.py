"""The command line starts light: `hurricane --help` (and every command module) loads no engine.

Each command imports what it runs (Dagster, LangGraph, Presidio, Delta, pandas) when it runs; at
module level they made `hurricane --help` take 4.6 s, 1 s of it Presidio's anonymizer importing its
analyzer and spaCy. A new top-level import of an engine in any command module turns this red.
"""

from __future__ import annotations

import subprocess
import sys

ENGINES = ("dagster", "pandas", "numpy", "pyarrow", "deltalake", "langgraph", "langchain_core", "presidio_anonymizer",
           "presidio_analyzer", "spacy", "evidently", "sklearn", "cedarpy", "openlineage", "cryptography")


def test_loading_the_command_line_loads_no_engine():
    probe = ("import sys, hurricane_assets.cli.main; "
             f"print(','.join(m for m in {ENGINES!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_help_lists_every_command_group():
    from typer.testing import CliRunner

    from hurricane_assets.cli.main import app

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("demo", "request", "catalog", "contracts", "ledger", "lineage", "keys", "negotiations", "masking",
                  "approvers"):
        assert group in result.output
