"""`hurricane ledger` against a real ledger in the test's HURRICANE_HOME."""

from __future__ import annotations

import json

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.ledger import Ledger, LedgerAppend
from hurricane_assets.ledger.entry import LEDGER_SCHEMA
from hurricane_assets.settings import hurricane_paths

runner = CliRunner()


def _fill(n: int = 12) -> None:
    Ledger().append_batch(
        [LedgerAppend(entry_type="OFFER", actor="agent:payments/producer", payload={"i": i}, negotiation_id="neg-1") for i in range(n)]
    )


def test_verify_ok_plain_and_json():
    _fill()
    result = runner.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 0 and "ledger OK: 12 entries" in result.output
    result = runner.invoke(app, ["ledger", "verify", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True
    assert json.loads(result.output)["witnesses"] == 5


def test_verify_names_the_first_bad_entry(tmp_path):
    _fill()
    rows = DeltaTable(hurricane_paths().ledger).to_pyarrow_table().sort_by("seq").to_pylist()
    rows[5]["payload_json"] = '{"i":55}'
    copy = str(tmp_path / "copy")
    write_deltalake(copy, pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA))
    result = runner.invoke(app, ["ledger", "verify", "--uri", copy])
    assert result.exit_code == 1 and "ledger INVALID at seq 5: payload_hash" in result.output
    result = runner.invoke(app, ["ledger", "verify", "--uri", copy, "--json"])
    assert result.exit_code == 1 and json.loads(result.output)["first_bad_seq"] == 5


def test_show_tail_and_bad_tail():
    _fill()
    result = runner.invoke(app, ["ledger", "show", "--tail", "3", "--json"])
    assert result.exit_code == 0
    assert [json.loads(line)["seq"] for line in result.output.splitlines()] == [9, 10, 11]
    result = runner.invoke(app, ["ledger", "show", "--tail", "3"])
    assert result.exit_code == 0 and "OFFER" in result.output
    result = runner.invoke(app, ["ledger", "show", "--tail", "0"])
    assert result.exit_code == 2 and result.output.strip() == "error: --tail must be at least 1, got 0"


def test_checkpoint_command_writes_a_signed_note():
    result = runner.invoke(app, ["ledger", "checkpoint"])
    assert result.exit_code == 0 and "empty" in result.output
    _fill(3)
    result = runner.invoke(app, ["ledger", "checkpoint"])
    assert result.exit_code == 0 and result.output.startswith("data-hurricane.ledger/")
    lines = result.output.splitlines()
    assert lines[1] == "3" and lines[3] == ""
    # the log's signature, then one cosignature per witness (every domain)
    assert [line.split(" ")[1] for line in lines[4:]] == ["datahurricane-system"] + [
        f"datahurricane-witness-{d}" for d in ("customers", "marketing", "payments", "risk", "support")
    ]


def test_checkpoint_of_no_ledger_writes_nothing(tmp_path, monkeypatch):
    # a HURRICANE_HOME that does not exist (a typo) was created, with a ledger.lock, to say "nothing to checkpoint"
    home = tmp_path / "no-such-home"
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    result = runner.invoke(app, ["ledger", "checkpoint"])
    assert result.exit_code == 0 and result.output == "ledger is empty: nothing to checkpoint\n"
    assert not home.exists()
