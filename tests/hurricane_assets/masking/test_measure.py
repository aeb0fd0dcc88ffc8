"""Measured privacy (k, ℓ, singling-out, linkability, inference) on hand-computed tables, and the
checks blocking a copy or a share that misses its manifest's thresholds."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hurricane_assets.catalog.manifest import PrivacyThresholds
from hurricane_assets.masking.copy import copy_masked, failed_report_path
from hurricane_assets.masking.measure import PrivacyCheckFailed, measure_privacy
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import table_exists


def _measure(prod, masked, **thresholds):
    return measure_privacy(prod, masked, quasi_identifiers=["zip"], person_column="who",
                           thresholds=PrivacyThresholds(**thresholds))


def test_k_and_risks_by_hand():
    # Group A: 5 persons; group B: 1 person (p5, twice); a suppressed row (null zip) matches nothing.
    masked = pa.table({"zip": ["A"] * 5 + ["B", "B", None], "who": [f"p{i}" for i in range(5)] + ["p5", "p5", "p6"],
                       "ill": ["x", "x", "y", "x", "y", "z", "z", "x"]})
    m = _measure(masked, masked, sensitive=("ill",), sample_persons=50)
    assert m.values["k"] == 1 and m.values["l_diversity"] == 1
    assert m.sample_persons == 6  # p6 is not a target: nothing of theirs is published
    assert m.values["singling_out_risk"] == pytest.approx(1 / 6)
    rate, base = (5 * (1 / 5) + 1) / 6, 1 / 6
    assert m.values["linkability_risk"] == pytest.approx((rate - base) / (1 - base))
    assert not m.passed and any(f.startswith("k 1 below 5") for f in m.failures)


def test_a_k_anonymous_table_passes_and_inference_needs_a_skewed_group():
    zips = ["A"] * 5 + ["B"] * 5
    masked = pa.table({"zip": zips, "who": [f"p{i}" for i in range(10)], "ill": ["x"] * 5 + ["y", "z", "y", "z", "y"]})
    m = _measure(masked, masked, sensitive=("ill",), l_diversity=1, max_inference_risk=1.0)
    assert m.passed and m.values["k"] == 5 and m.values["singling_out_risk"] == 0.0
    # Group A says "x" for everyone: knowing a target's zip gives away their value.
    assert m.values["inference_risk"] > 0.5
    assert not _measure(masked, masked, sensitive=("ill",), max_inference_risk=0.5).passed
    assert m.values["linkability_risk"] == pytest.approx((1 / 5 - 1 / 10) / (1 - 1 / 10))
    assert not _measure(masked, masked, sensitive=("ill",), l_diversity=2).passed  # group A has one value


def test_two_known_events_single_out_persons_that_each_row_hides():
    # Every group holds two persons or more (k = 2 row by row), but p1's two groups share only p1,
    # and so do p2's: an attacker who knows two events of p1 finds p1's token and all their rows.
    masked = pa.table({"zip": ["A", "B", "A", "C", "B", "C", "A", "B"],
                       "who": ["p0", "p0", "p1", "p1", "p2", "p2", "p3", "p3"]})
    m = _measure(masked, masked, k=2)
    assert m.values["k"] == 2 and m.values["singling_out_risk"] == 0.0
    assert m.values["two_event_singling_out_risk"] == pytest.approx(2 / 4)
    assert m.passed and m.check("two_event_singling_out_risk") == (
        True, "two_event_singling_out_risk = 0.5000 (reported, no threshold set)")
    limited = _measure(masked, masked, k=2, max_two_event_singling_out_risk=0.25)
    assert not limited.passed and limited.failures == ("two_event_singling_out_risk 0.5000 above 0.25",)
    one_row_each = pa.table({"zip": ["A", "A", "B", "B"], "who": ["p0", "p1", "p2", "p3"]})
    assert _measure(one_row_each, one_row_each, k=2).values["two_event_singling_out_risk"] is None


def test_a_copy_missing_a_threshold_is_not_written(catalog, prod_world, monkeypatch):
    spec = catalog.dataset("customers", "profiles")
    strict = spec.privacy.model_copy(update={"max_linkability_risk": 0.0})
    monkeypatch.setattr(type(spec), "privacy", property(lambda self: strict), raising=False)
    with pytest.raises(PrivacyCheckFailed, match="linkability_risk .* above 0.0; nothing was written"):
        copy_masked(catalog, "customers", "profiles", "preprod")
    assert not table_exists(hurricane_paths().table_uri("preprod", "customers", "profiles"))
    assert failed_report_path("preprod", "customers", "profiles").exists()


def test_every_copy_carries_its_measurement(catalog, prod_world):
    report = copy_masked(catalog, "payments", "transactions", "preprod")
    measured = report.measured
    assert measured["passed"] and measured["values"]["k"] >= 5 and measured["sample_persons"] > 0
    assert set(measured["quasi_identifiers"]) == {"amount", "event_ts"}
    # a customer's payments carry one token: two known payments (day, amount band) single out 0.44 of
    # this world's customers, though each row's group holds five persons or more
    assert measured["values"]["two_event_singling_out_risk"] > 0.3
