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


def test_a_shifted_timestamp_keeps_its_day_not_its_time_of_day(key):
    p = {"key": key, "entity": "customer", "context": "C1"}
    when = dt.datetime(2024, 1, 10, 2, 28, 34, 345719, tzinfo=dt.timezone.utc)
    shifted = DateShift().operate(when, p)
    assert shifted.time() == dt.time(0) and shifted.tzinfo == dt.timezone.utc
    assert shifted.date() - when.date() == DateShift().operate(when.date(), p) - when.date()
    assert DateShift().operate(when.isoformat(), p) == shifted.isoformat()


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


def test_month_generalisation_floors_to_the_first_of_the_month_and_keeps_type():
    op = DateGeneralisation()
    opened = dt.datetime(2024, 5, 17, 13, 45, 2, 991, tzinfo=dt.timezone.utc)
    assert op.operate(opened, {"months": 1}) == dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    assert op.operate(dt.date(2024, 5, 17), {"months": 1}) == dt.date(2024, 5, 1)
    assert op.operate(dt.date(2024, 5, 17), {"months": 3}) == dt.date(2024, 4, 1)
    assert op.operate(dt.date(2024, 12, 31), {"months": 6}) == dt.date(2024, 7, 1)
    assert op.operate("2024-05-17", {"months": 1}) == "2024-05-01"
    # The engine's per-column path gives the same values (nulls never reach the operator).
    assert op.mask_distinct([opened, None], {"months": 1}) == [dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc), None]


def test_month_ladder_runs_into_year_bands():
    ladder, params = [], {"months": 1}
    while params is not None:
        ladder.append(params)
        params = DateGeneralisation.coarser(params)
    assert ladder == [{"months": 1}, {"months": 3}, {"months": 6}, {"years": 1}, {"years": 5}, {"years": 10}]


@pytest.mark.parametrize(("params", "message"), [
    ({"months": 5}, "months must divide a year"), ({"months": 0}, "months must divide a year"),
    ({"months": True}, "months must divide a year"), ({"years": 1, "months": 1}, "one of years, months or days, not years and months"),
])
def test_bad_month_params_are_refused(params, message):
    with pytest.raises(InvalidParamError, match=message):
        DateGeneralisation().validate(params)


@pytest.mark.parametrize("tz", ["UTC", "+00:00"])
@pytest.mark.parametrize("params", [{"days": 1}, {"days": 7}, {"months": 1}, {"months": 3}, {"months": 6},
                                    {"years": 1}, {"years": 5}, {"years": 10}])
def test_the_column_path_floors_timestamps_as_the_per_value_path_does(tz, params):
    # UTC columns take a shortcut (floored as naive timestamps); every band must land where `operate`
    # puts it, before and after 1970, at day and year edges, nulls kept
    import pyarrow as pa

    zone = dt.timezone.utc
    stamps = [dt.datetime(1987, 6, 15, 13, 5, tzinfo=zone), dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=zone),
              dt.datetime(1955, 3, 1, 0, 0, tzinfo=zone), dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=zone),
              dt.datetime(2025, 1, 1, tzinfo=zone), None]
    arr = pa.array(stamps, type=pa.timestamp("us", tz=tz))
    op = DateGeneralisation()
    expected = [None if v is None else op.operate(v, params) for v in stamps]
    out = op.mask_array(arr, params)
    assert out.type == arr.type
    assert out.to_pylist() == expected


BANDS = [{"days": 1}, {"days": 7}, {"months": 1}, {"months": 3}, {"months": 6},
         {"years": 1}, {"years": 5}, {"years": 10}]


@pytest.mark.parametrize("base", BANDS, ids=lambda p: f"from-{next(iter(p.items()))}")
def test_a_band_declared_coarser_than_the_base_is_the_same_from_the_base_s_output(base):
    """The k gate floors a column's masked values instead of its prod values where the operator says
    that gives the same (`coarsens_output_of`): every such pair, over timestamps of 150 years (every
    day of four of them), before and after 1970, as timestamps, dates and ISO text."""
    import pyarrow as pa

    zone = dt.timezone.utc
    start = dt.datetime(1899, 11, 3, 17, 45, 1, 250, tzinfo=zone)
    stamps = [start + dt.timedelta(days=d * 37, seconds=d * 3593, microseconds=d) for d in range(1500)]
    stamps += [dt.datetime(2022, 1, 1, 6, tzinfo=zone) + dt.timedelta(days=d, hours=d % 24) for d in range(1461)]
    op = DateGeneralisation()
    arr = pa.array(stamps, pa.timestamp("us", tz="UTC"))
    dates = pa.array([s.date() for s in stamps], pa.date32())
    declared = [p for p in BANDS if DateGeneralisation.coarsens_output_of(base, p)]
    assert base in declared
    for params in declared:
        for column in (arr, dates):
            assert op.mask_array(op.mask_array(column, base), params).equals(op.mask_array(column, params)), params
        for value in (stamps[7], stamps[1600], stamps[2000].isoformat(), stamps[2500].date()):
            assert op.operate(op.operate(value, base), params) == op.operate(value, params), (params, value)


def test_a_month_is_not_the_same_from_a_week_so_it_is_not_declared():
    """1970-01-01 was a Thursday: 2 February 1970 lies in the week from 29 January, whose month is January."""
    op = DateGeneralisation()
    day = dt.date(1970, 2, 2)
    assert op.operate(op.operate(day, {"days": 7}), {"months": 1}) != op.operate(day, {"months": 1})
    assert not DateGeneralisation.coarsens_output_of({"days": 7}, {"months": 1})
    assert not DateGeneralisation.coarsens_output_of({"months": 3}, {"months": 1})
    assert not DateGeneralisation.coarsens_output_of({"months": 1}, {"days": 7})
