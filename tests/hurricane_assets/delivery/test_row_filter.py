from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from hurricane_assets.delivery.row_filter import RowFilterError, apply_row_filter
from negotiation_graph.terms import Predicate, RowFilter

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture
def table():
    return pa.table({
        "id": [f"t{i}" for i in range(6)],
        "channel": ["online", "wallet", "instant_p2p", None, "online", "wallet"],
        "amount": [5.0, 50.0, 500.0, 10.0, None, 80.0],
        "ts": pa.array([NOW - timedelta(days=d) for d in (1, 5, 10, 40, 2, 3)], pa.timestamp("us", tz="UTC")),
    })


def run(table, **kw):
    return apply_row_filter(table, RowFilter(**kw), event_time="ts", keys=("id",), now=NOW)


def test_everything_passes_through(table):
    assert run(table) is table


def test_predicates_are_a_conjunction_and_nulls_are_excluded(table):
    out = run(table, all_of=(Predicate(column="channel", op="in", values=("online", "wallet")),
                              Predicate(column="amount", op=">=", values=(10,))))
    assert out["id"].to_pylist() == ["t1", "t5"]


def test_between_and_time_window(table):
    out = run(table, all_of=(Predicate(column="amount", op="between", values=(5, 80)),), since_days=30)
    assert out["id"].to_pylist() == ["t0", "t1", "t5"]


def test_sample_is_stable_across_calls(table):
    big = pa.table({"id": [f"k{i}" for i in range(5000)], "ts": pa.array([NOW] * 5000, pa.timestamp("us", tz="UTC"))})
    a = run(big, sample_fraction=0.1)
    assert 350 < a.num_rows < 650
    assert a["id"].to_pylist() == run(big, sample_fraction=0.1)["id"].to_pylist()


def test_unknown_column_is_a_clear_error(table):
    with pytest.raises(RowFilterError, match="'country' is not in the dataset"):
        run(table, all_of=(Predicate(column="country", op="eq", values=("GB",)),))


def test_wrong_value_type_is_a_clear_error(table):
    with pytest.raises(RowFilterError, match="do not fit double"):
        run(table, all_of=(Predicate(column="amount", op="eq", values=("lots",)),))
