"""The ledger's id index lives beside the home: a new `Ledger` reads only the entries the index has
not seen, a lost index is rebuilt from the table, and either way a known id with other content is
refused."""

from __future__ import annotations

import shutil

import pytest

from hurricane_assets.ledger import Ledger, LedgerAppend
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.ports import LedgerConflict


def batch(n: int, start: int = 0) -> list[LedgerAppend]:
    return [LedgerAppend(entry_type="OFFER", actor="system:ledger", payload={"n": i}, entry_id=f"e-{i}")
            for i in range(start, start + n)]


def reads(monkeypatch) -> list:
    seen = []
    original = Ledger.read

    def spy(self, columns=None, since_seq=None):
        seen.append(since_seq)
        return original(self, columns, since_seq)

    monkeypatch.setattr(Ledger, "read", spy)
    return seen


def test_a_new_ledger_reads_only_what_its_index_has_not_seen(monkeypatch):
    Ledger().append_batch(batch(50))
    seen = reads(monkeypatch)
    receipts = Ledger().append_batch(batch(2, start=49))  # one known, one new
    assert [r.seq for r in receipts] == [49, 50]
    assert seen == [], "the index was current: no read of the table at all"
    with pytest.raises(LedgerConflict, match="e-10"):
        Ledger().append(entry_type="OFFER", actor="system:ledger", payload={"n": "other"}, entry_id="e-10")


def test_a_lost_index_is_rebuilt_and_still_refuses_a_rewrite(monkeypatch):
    Ledger().append_batch(batch(20))
    shutil.rmtree(hurricane_paths().home / "ledger-index")
    seen = reads(monkeypatch)
    with pytest.raises(LedgerConflict, match="e-3"):
        Ledger().append(entry_type="OFFER", actor="system:ledger", payload={"n": "other"}, entry_id="e-3")
    assert seen == [-1], "rebuilt by one read from the start"
    assert Ledger().append_batch(batch(1, start=3))[0].seq == 3
