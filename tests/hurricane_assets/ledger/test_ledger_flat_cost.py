"""What keeps an append's cost flat in the ledger's size, and that none of it loosens the chain:
the writer's remembered tip (no log re-read when it holds the last version), and compaction of the
small files one commit per negotiation leaves."""

import contextlib

import pytest
from deltalake import DeltaTable

import hurricane_assets.ledger.ledger as ledger_module
from hurricane_assets.ledger import Ledger, verify_ledger
from hurricane_assets.settings import hurricane_paths

ACTOR = "agent:payments/producer"


def append(ledger: Ledger, i: int):
    return ledger.append(entry_type="OFFER", actor=ACTOR, payload={"round": i}, negotiation_id="neg-1")


def test_small_commits_are_compacted_and_the_chain_continues(monkeypatch):
    monkeypatch.setattr(ledger_module, "COMPACT_EVERY", 4)
    ledger = Ledger()
    receipts = [append(ledger, i) for i in range(10)]  # versions 0..9: compactions after 4 and 8
    table = DeltaTable(hurricane_paths().ledger)
    assert len(table.file_uris()) < 10  # without compaction: one file per commit
    assert [r.seq for r in receipts] == list(range(10))
    # the compaction commits carry no entries: the remembered tip still chains the next entry
    nxt = append(ledger, 10)
    rows = ledger.read(["seq", "prev_hash", "entry_hash"]).to_pylist()
    assert nxt.seq == 10 and rows[10]["prev_hash"] == rows[9]["entry_hash"]
    assert verify_ledger().ok and len(Ledger()) == 11


def test_writers_taking_turns_each_see_the_others_tip(monkeypatch):
    first, second = Ledger(), Ledger()
    seqs = [append(writer, i).seq for i, writer in enumerate([first, second, first, first, second])]
    assert seqs == [0, 1, 2, 3, 4]
    rows = first.read(["seq", "prev_hash", "entry_hash"]).to_pylist()
    assert all(rows[i]["prev_hash"] == rows[i - 1]["entry_hash"] for i in range(1, 5))
    assert verify_ledger().ok


def test_writers_taking_turns_across_compactions_chain_on_the_others_tip(monkeypatch):
    """Each writer keeps its table open and updates it with the other's commits; some of those are
    compactions, which carry no tip in their metadata, so the tip is read from the rows."""
    monkeypatch.setattr(ledger_module, "COMPACT_EVERY", 3)
    first, second = Ledger(), Ledger()
    order = [first, second, second, first, second, first, first, second, first, second, second, first]
    assert [append(writer, i).seq for i, writer in enumerate(order)] == list(range(len(order)))
    history = DeltaTable(hurricane_paths().ledger).history()
    assert any(commit.get("operation") == "OPTIMIZE" for commit in history)  # compactions did happen
    rows = second.read(["seq", "prev_hash", "entry_hash"]).to_pylist()
    assert all(rows[i]["prev_hash"] == rows[i - 1]["entry_hash"] for i in range(1, len(order)))
    assert verify_ledger().ok


def test_reading_a_column_the_ledger_does_not_have_names_it():
    ledger = Ledger()
    append(ledger, 0)
    with pytest.raises(ValueError, match="no column 'signatures'"):
        ledger.read(["seq", "signatures"])


def test_a_writer_that_missed_a_commit_re_reads_the_log(monkeypatch):
    first, second = Ledger(), Ledger()
    append(first, 0)
    append(first, 1)  # first now holds the table open at its last version
    append(second, 2)
    moved = []
    real = Ledger._log_moved
    monkeypatch.setattr(Ledger, "_log_moved", lambda self, table: moved.append(r := real(self, table)) or r)
    assert append(first, 3).seq == 3
    assert moved and moved[0] is True  # it saw the other writer's commit file, so it brought the table up to date


def test_a_commit_landing_between_the_tip_and_the_commit_is_re_chained_not_forked(monkeypatch):
    """Another host commits while this writer brings its id index up to date (which reads through
    the same table object, moving it in place): the writer must re-chain on the new tip. Without the
    moved-table check it chains on the old tip and commits a second seq 3 without any conflict."""
    first, second = Ledger(), Ledger()
    second._writer_lock = contextlib.nullcontext  # another host: it does not share this home's lock
    append(first, 0)
    append(first, 1)
    append(second, 2)  # first's index now lags its next tip, so its next append reads the log
    real = Ledger._refresh_index
    interleaved = []

    def refresh(self, through):
        if self is first and not interleaved:
            interleaved.append(append(second, 3))  # lands after first read its tip
        return real(self, through)

    monkeypatch.setattr(Ledger, "_refresh_index", refresh)
    receipt = append(first, 4)
    rows = Ledger().read(["seq", "prev_hash", "entry_hash"]).to_pylist()
    assert interleaved[0].seq == 3 and receipt.seq == 4
    assert [r["seq"] for r in rows] == [0, 1, 2, 3, 4]
    assert all(rows[i]["prev_hash"] == rows[i - 1]["entry_hash"] for i in range(1, 5))
    assert verify_ledger().ok
