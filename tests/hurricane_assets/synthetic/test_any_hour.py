"""Prod data generated "now" passes every dataset check whatever the hour and the date: the generator and
the checks read the same clock. The full Dagster story under a clock matrix is in cli/test_demo.py."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.quality import evaluate_dataset_checks
from hurricane_assets.catalog.schema import arrow_schema
from hurricane_assets.clock import utc_now
from hurricane_assets.synthetic import SyntheticConfig, generate

# about every four hours of a day, plus both sides of a month and a year boundary
CLOCKS = [f"2026-06-15T{hour:02d}:{minute:02d}:00+00:00" for hour, minute in
          ((0, 5), (4, 30), (8, 0), (11, 59), (16, 45), (20, 11), (23, 55))]
CLOCKS += ["2026-03-31T23:55:00+00:00", "2026-04-01T00:05:00+00:00", "2026-12-31T23:59:00+00:00",
           "2027-01-01T00:01:00+00:00"]


@pytest.mark.parametrize("now", CLOCKS)
def test_fresh_prod_data_passes_every_check_at_any_hour(now, monkeypatch):
    monkeypatch.setenv("HURRICANE_NOW", now)
    catalog = load_catalog()
    failed = []
    for (domain, dataset), frame in generate(SyntheticConfig(transactions=1000, seed=7, drift_days=30)).items():
        spec = catalog.dataset(domain, dataset)
        table = pa.Table.from_pandas(frame, schema=arrow_schema(spec), preserve_index=False)
        failed += [(domain, dataset, o.name, o.description)
                   for o in evaluate_dataset_checks(spec, table, now=utc_now()) if not o.passed]
    assert not failed
