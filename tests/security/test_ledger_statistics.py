"""Filtered reads of the ledger trust statistics that nothing signs: the Delta log's min/max per file.

The contract history reads its lifecycle entries with an entry-type filter, which skips every file
whose statistics exclude the types asked for. An insider who rewrote those statistics in the commit
holding a REVOKED entry (no key needed: the log is a JSON file) hid the revocation from every check
that reads the history, and the revoked share was delivered again, while `hurricane ledger verify`,
which reads the whole table, still passed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from hurricane_assets.client import HurricaneClient, ShareUnavailable
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.history import LedgerHistory, LedgerUnreadable
from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.lifecycle import end_share
from tests.security.attacker import commit_files
from tests.security.contract_fixtures import (  # noqa: F401  (fixtures)
    DELIVERY,
    delivered,
    edit_contract_file,
    prod_template,
    share_catalog,
    share_gate,
    share_parts,
    share_prod_tables,
)


def relabel_statistics(entry_type: str, as_type: str) -> int:
    """Rewrite every add action whose statistics name `entry_type` to name `as_type` instead; the
    data files are untouched. Returns the number of actions rewritten."""
    rewritten = 0
    for path in commit_files():
        lines = []
        for line in path.read_text().splitlines():
            action = json.loads(line)
            stats = json.loads(action["add"]["stats"]) if "add" in action and action["add"].get("stats") else None
            if stats and entry_type in (stats["minValues"].get("entry_type"), stats["maxValues"].get("entry_type")):
                for bound in ("minValues", "maxValues"):
                    stats[bound]["entry_type"] = as_type
                action["add"]["stats"] = json.dumps(stats)
                rewritten += 1
            lines.append(json.dumps(action))
        path.write_text("\n".join(lines) + "\n")
    return rewritten


@pytest.fixture
def revoked_then_hidden(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    end_share(contract, ContractStatus.revoked, reason="did not help", by="agent:risk/consumer",
              store=share_parts["store"], ledger=share_parts["ledger"], signer=share_parts["signer"])
    assert relabel_statistics("REVOKED", "MESSAGE") == 1
    return edit_contract_file(share_parts, contract, lambda raw: raw.update(status="active"))


def test_a_revocation_hidden_by_edited_statistics_stops_delivery_instead_of_vanishing(share_parts, revoked_then_hidden):
    # the next process opens the ledger afresh (this one holds the log it read before the edit)
    parts = {**share_parts, "ledger": Ledger()}
    with pytest.raises(LedgerUnreadable, match="statistics do not match its rows: a filtered read skips entries"):
        LedgerHistory.read(parts["ledger"])
    with pytest.raises(DeliveryRefused, match="statistics do not match"):
        deliver(revoked_then_hidden, **{k: parts[k] for k in DELIVERY})
    assert not DeltaTable.is_deltatable(share_uri_for(revoked_then_hidden.terms))
    with pytest.raises(ShareUnavailable):
        HurricaneClient(share_parts["catalog"]).read_share(revoked_then_hidden.contract_id)


def test_verify_names_the_file_whose_statistics_lie(share_parts, revoked_then_hidden):
    result = verify_ledger()
    revoked_seq = max(r["seq"] for r in share_parts["ledger"].read(["seq", "entry_type"]).to_pylist()
                      if r["entry_type"] == "REVOKED")
    assert not result.ok and result.first_bad_seq == revoked_seq
    assert "the Delta log's statistics do not hold for its entries" in result.problem


def test_untouched_statistics_verify(share_parts, share_prod_tables):
    delivered(share_parts)
    assert verify_ledger().ok
    assert LedgerHistory.read(share_parts["ledger"]).rows


def relabel_footer_statistics(entry_type: str, as_type: str) -> int:
    """The same lie one level down: the Parquet footer's row-group statistics of the data file that
    holds `entry_type` (same length, so the footer stays well-formed; the data pages are untouched)."""
    assert len(entry_type) == len(as_type)
    rewritten = 0
    for path in sorted(Path(hurricane_paths().ledger).glob("*.parquet")):
        raw = path.read_bytes()
        footer_length = int.from_bytes(raw[-8:-4], "little")
        start = len(raw) - 8 - footer_length
        footer = raw[start:-8]
        if entry_type.encode() in footer:
            path.write_bytes(raw[:start] + footer.replace(entry_type.encode(), as_type.encode()) + raw[-8:])
            rewritten += 1
    return rewritten


def test_a_revocation_hidden_by_edited_footer_statistics_is_caught_too(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    end_share(contract, ContractStatus.revoked, reason="did not help", by="agent:risk/consumer",
              store=share_parts["store"], ledger=share_parts["ledger"], signer=share_parts["signer"])
    assert relabel_footer_statistics("REVOKED", "MESSAGE") == 1
    assert "REVOKED" in Ledger().read(["entry_type"]).column("entry_type").to_pylist()  # the rows still say it
    with pytest.raises(LedgerUnreadable, match="a filtered read skips entries"):
        LedgerHistory.read(Ledger())
    result = verify_ledger()
    assert not result.ok and "row group statistics of entry_type do not hold" in result.problem
