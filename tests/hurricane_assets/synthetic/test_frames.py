from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from hurricane_assets.catalog import load_catalog
from hurricane_assets.synthetic.frames import conform
from hurricane_assets.synthetic.timeline import utc_column

SPEC = load_catalog().dataset("support", "tickets")


def tickets(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "ticket_id": ["tk_1", "tk_2"], "customer_id": ["c1", "c2"], "category": ["fees", None],
            "priority": [1, 2], "body": ["hi", "hello"], "satisfaction": [4.0, np.nan],
            "created_at": utc_column(np.array([0, 1_000_000])),
        }
    )
    return frame.assign(**overrides)


def test_conform_orders_columns_and_casts_dtypes():
    out = conform(tickets()[list(reversed(SPEC.column_names()))], SPEC, "support.tickets")
    assert list(out.columns) == SPEC.column_names()
    assert str(out["priority"].dtype) == "Int64" and out.loc[1, "category"] is None


def test_missing_and_extra_columns_are_named():
    with pytest.raises(ValueError, match=r"support.tickets: .*missing \['body'\], extra \['note'\]"):
        conform(tickets().drop(columns="body").assign(note="x"), SPEC, "support.tickets")


def test_nulls_in_a_non_nullable_column_are_refused():
    with pytest.raises(ValueError, match=r"support.tickets.customer_id: .*not nullable.*1 nulls"):
        conform(tickets(customer_id=["c1", None]), SPEC, "support.tickets")


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match=r"support.tickets.created_at: expected datetime64\[us, UTC\]"):
        conform(tickets(created_at=pd.to_datetime(["2025-01-01", "2025-01-02"])), SPEC, "support.tickets")


def test_dates_must_be_date_objects():
    spec = load_catalog().dataset("customers", "profiles")
    from hurricane_assets.synthetic import generate_dataset
    from tests.hurricane_assets.synthetic.conftest import SMALL

    frame = generate_dataset(SMALL, "customers", "profiles")
    assert type(frame.loc[0, "date_of_birth"]) is date
    with pytest.raises(ValueError, match="customers.profiles.date_of_birth: expected datetime.date"):
        conform(frame.assign(date_of_birth="1990-01-01"), spec, "customers.profiles")
