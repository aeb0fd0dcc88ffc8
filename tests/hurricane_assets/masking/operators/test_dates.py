from __future__ import annotations

import datetime as dt

import pytest
from presidio_anonymizer.entities import InvalidParamError

from hurricane_assets.masking.operators.dates import DateGeneralisation, DateShift


def test_shift_is_per_entity_keeps_intervals_and_never_zero(key):
    op = DateShift()
    p = {"key": key, "entity": "customer", "context": "C1", "max_days": 30}
    a, b = dt.date(2024, 1, 10), dt.date(2024, 3, 1)
    sa, sb = op.operate(a, p), op.operate(b, p)
    assert sb - sa == b - a and sa != a and abs((sa - a).days) <= 30
    others = {op.operate(a, {**p, "context": f"C{i}"}) for i in range(20)}
    assert len(others) > 5


def test_shift_round_trips_iso_text_as_presidio_passes_it(key):
    assert isinstance(DateShift().operate("2024-01-10", {"key": key, "context": "C1"}), str)
    with pytest.raises(ValueError, match="not an ISO date"):
        DateShift().operate("yesterday", {"key": key})


def test_generalisation_floors_to_band_and_keeps_type():
    op = DateGeneralisation()
    assert op.operate(dt.date(1987, 6, 15), {"years": 1}) == dt.date(1987, 1, 1)
    assert op.operate(dt.date(1987, 6, 15), {"years": 5}) == dt.date(1985, 1, 1)
    ts = dt.datetime(1987, 6, 15, 13, 5, tzinfo=dt.timezone.utc)
    assert op.operate(ts, {"years": 10}) == dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc)
    assert DateGeneralisation.coarser({"years": 1}) == {"years": 5}
    assert DateGeneralisation.coarser({"years": 10}) is None
    with pytest.raises(InvalidParamError, match="years must be"):
        op.validate({"years": 0})
