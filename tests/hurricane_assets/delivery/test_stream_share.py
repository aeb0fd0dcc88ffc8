"""Deliveries of tables larger than memory (issue 13 item 5): the streamed share, in tiny batches,
holds the in-memory share's rows and report; redelivering it unchanged writes nothing; the spill
file is gone afterwards."""

from __future__ import annotations

import pytest
from deltalake import DeltaTable

from hurricane_assets.delivery import share as share_module
from hurricane_assets.delivery.deliver import deliver
from hurricane_assets.storage import read_table
from negotiation_graph.terms import Predicate, RowFilter
from tests.hurricane_assets.delivery.test_deliver import signed
from tests.hurricane_assets.masking.test_stream import comparable, rows_of
from tests.hurricane_assets.share_terms import fraud_terms

TINY = 89


def run(share_parts, contract):
    return deliver(contract, **{k: share_parts[k] for k in ("catalog", "gate", "signer", "ledger")})


def streaming(monkeypatch) -> list:
    monkeypatch.setenv("HURRICANE_STREAM_ROWS", "0")
    monkeypatch.setenv("HURRICANE_STREAM_BATCH_ROWS", str(TINY))
    monkeypatch.setenv("HURRICANE_STREAM_CACHE_VALUES", "40")
    shares = []
    original = share_module.share_for_delivery

    def spy(*args, **kwargs):
        shares.append(original(*args, **kwargs))
        return shares[-1]

    monkeypatch.setattr("hurricane_assets.delivery.deliver.share_for_delivery", spy)
    return shares


@pytest.mark.parametrize("row_filter", [None, RowFilter(all_of=(Predicate(column="channel", op="in",
                                                                          values=("online", "wallet")),),
                                                        since_days=30)], ids=["all rows", "row filter"])
def test_a_streamed_share_equals_the_in_memory_share(share_parts, share_prod_tables, monkeypatch, row_filter):
    """Catches a share whose batches lose or repeat rows, a row filter or erasure applied to one pass
    only, a per-batch k-anonymity count, a digest that changes between identical deliveries."""
    terms = fraud_terms() if row_filter is None else fraud_terms(row_filter=row_filter)
    contract = signed(share_parts, terms)
    in_memory = run(share_parts, contract)
    expected = read_table(contract.share_uri)
    shares = streaming(monkeypatch)
    streamed = run(share_parts, contract)
    assert streamed.changed  # the streamed digest is of another batch layout (share.py)
    got = read_table(contract.share_uri)
    assert got.schema == expected.schema and rows_of(got) == rows_of(expected)
    assert (streamed.rows, streamed.columns) == (in_memory.rows, in_memory.columns)
    assert comparable(streamed.privacy) == comparable(in_memory.privacy)
    # the retention is applied once, on the last pass, as in memory (prod holds 120 days, the terms keep 90)
    assert streamed.retention.past == in_memory.retention.past and (row_filter is not None or in_memory.retention.past > 0)
    assert shares[-1].largest_batch <= TINY and not shares[-1].spill.exists()
    again = run(share_parts, contract)
    assert not again.changed and again.table_version == streamed.table_version == DeltaTable(contract.share_uri).version()

