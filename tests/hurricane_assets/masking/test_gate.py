"""The privacy gate beside the split (`gate.py`): the k gate and the measured checks run as one more
task of the column work, in either process, with exactly the result they give after it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from hurricane_assets.catalog.manifest import PrivacyThresholds
from hurricane_assets.masking import columns, parallel
from hurricane_assets.masking.columns import ColumnWork, mask_column
from hurricane_assets.masking.engine import mask_table
from hurricane_assets.masking.gate import PrivacyGate
from hurricane_assets.masking.kanonymity import KAnonymityError
from hurricane_assets.masking.measure import measure_privacy
from hurricane_assets.masking.plans import ColumnRule, MaskingPlan
from hurricane_assets.masking.registry import operator_class

THRESHOLDS = PrivacyThresholds(k=5, max_singling_out_risk=1.0, max_linkability_risk=1.0, sample_persons=200)


def _plan(person_rule: ColumnRule | None = None, postcode_length: int = 3) -> MaskingPlan:
    rules = {
        "customer_id": person_rule or ColumnRule(operator="hmac_token", params={"entity": "customer"}, unique=True),
        "email": ColumnRule(operator="email"),
        "postcode": ColumnRule(operator="prefix", params={"length": postcode_length}, quasi_identifier=True),
        "born": ColumnRule(operator="generalize_date", params={"years": 1}, quasi_identifier=True),
    }
    types = {"customer_id": "string", "email": "string", "postcode": "string", "born": "date"}
    return MaskingPlan(dataset="test.people", env="preprod", source="test", rules=rules, expected_types=types,
                       person_column="customer_id")


def _people(n: int = 3000) -> pa.Table:
    # persons with two rows each, postcodes of a few districts, birthdays spread over 70 years
    return pa.table({
        "customer_id": [f"cust_{i // 2:05d}" for i in range(n)],
        "email": [f"p{i // 2}@example.org" for i in range(n)],
        "postcode": [f"{'ABCDEFGH'[i % 8]}{i % 5}{i % 3} {i % 9}XY" for i in range(n)],
        "born": [dt.date(1930 + i * 37 % 70, 1 + i % 12, 1 + i % 28) for i in range(n)],
    })


def _same(a, b) -> None:
    assert a.table.equals(b.table)
    assert a.report.model_dump(exclude={"created_at"}) == b.report.model_dump(exclude={"created_at"})


def _after_the_split(monkeypatch) -> None:
    monkeypatch.setattr(PrivacyGate, "beside", lambda self, work: None)


def _all_in_the_helper(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "_halves", lambda weights: ([], list(range(len(weights)))))
    monkeypatch.setattr(parallel, "STEALING", False)


@pytest.fixture
def small_light(monkeypatch):
    """Light below 500 µs: this test's 360 postcodes (prefix, 1 µs each) are, its 1,500 tokens are not."""
    monkeypatch.setattr(columns, "LIGHT_COLUMN_MICROS", 500)


def test_the_gate_beside_the_split_gives_what_it_gives_after_it(keyring, monkeypatch, small_light):
    table, plan = _people(), _plan()
    seen = []
    real_run_split = columns.run_split
    monkeypatch.setattr(columns, "run_split",
                        lambda tasks, weights, **kw: seen.append(len(tasks)) or real_run_split(tasks, weights, **kw))

    here = mask_table(table, plan, keyring, k=5, thresholds=THRESHOLDS, split=False)
    split = mask_table(table, plan, keyring, k=5, thresholds=THRESHOLDS, split=True)
    with monkeypatch.context() as m:
        _all_in_the_helper(m)
        helper = mask_table(table, plan, keyring, k=5, thresholds=THRESHOLDS, split=True)
    assert seen == [3, 3, 3]  # customer_id, email, and the gate; postcode was light enough to mask first
    with monkeypatch.context() as m:
        _after_the_split(m)
        after = mask_table(table, plan, keyring, k=5, thresholds=THRESHOLDS, split=True)
    for other in (split, helper, after):
        _same(other, here)
    k_anonymity = here.report.k_anonymity
    assert k_anonymity["satisfied"] and k_anonymity["actions"], "the gate must have had work to do"
    assert here.report.measured["values"]["k"] >= 5 and here.report.measured["passed"]


def test_a_k_gate_failing_in_the_helper_fails_the_copy_with_its_outcome_and_report(keyring, monkeypatch):
    # every person alone in their postcode: no generalisation within the limit makes groups of 50
    table = _people(400).set_column(2, "postcode", pa.array([f"Z{i}" for i in range(400)]))
    plan = _plan()
    with pytest.raises(KAnonymityError) as here:
        mask_table(table, plan, keyring, k=500, split=False)
    _all_in_the_helper(monkeypatch)
    with pytest.raises(KAnonymityError) as helper:
        mask_table(table, plan, keyring, k=500, split=True)
    assert str(helper.value) == str(here.value)
    assert helper.value.outcome == here.value.outcome
    assert helper.value.report.model_dump(exclude={"created_at"}) == here.value.report.model_dump(exclude={"created_at"})


def _measured_on_the_output(table, plan, result, thresholds) -> dict:
    """The measurement as its definition reads it: the output table's own person column."""
    return measure_privacy(table, result.table, quasi_identifiers=plan.quasi_identifiers(),
                           person_column=plan.person_column, thresholds=thresholds).to_dict()


@pytest.mark.parametrize("person_rule", [
    None,  # a key tokenized one-to-one (checked): prod ids group the rows as the tokens do
    ColumnRule(operator="prefix", params={"length": 7}),  # "cust_00": a hundred customers look like one
])
def test_the_measurement_groups_persons_as_the_output_does(keyring, small_light, person_rule):
    table, plan = _people(), _plan(person_rule)
    thresholds = THRESHOLDS.model_copy(update={"k": 1})  # measured and reported, not judged here
    gate = PrivacyGate(table, plan, keyring, k=5, max_suppression=0.05, thresholds=thresholds)
    beside = gate.beside(ColumnWork(table, plan.rules, keyring.key))
    result = mask_table(table, plan, keyring, k=5, thresholds=thresholds, split=True)
    assert result.report.measured == _measured_on_the_output(table, plan, result, thresholds)
    if person_rule is None:
        assert beside is not None and "customer_id" not in beside[0].column_names
    else:  # the masked ids must be read, and masking them is work for the split: the gate waits for it
        assert beside is None
        assert gate.reads()[-1] == "customer_id"
        # the output shows two persons, "cust_00" and "cust_01": the gate's k over prod ids says nothing of that
        assert result.report.measured["values"]["k"] <= 2 < result.report.k_anonymity["smallest_group"]


def test_a_column_is_ready_before_the_split_only_when_its_work_is_light(keyring):
    n = 2 * int(columns.LIGHT_COLUMN_MICROS / operator_class("hmac_token").cost_per_value)  # tokens: not light
    table = pa.table({"postcode": [f"NW{i % 20} {i % 7}XE" for i in range(n)],
                      "ticket": [f"t{i}" for i in range(n)]})
    rules = {"postcode": ColumnRule(operator="prefix", params={"length": 3}, quasi_identifier=True),
             "ticket": ColumnRule(operator="hmac_token", params={"entity": "ticket"})}
    work = ColumnWork(table, rules, keyring.key)
    postcode = work.ready("postcode")
    assert postcode is not None
    assert postcode.equals(mask_column(table.column("postcode").combine_chunks(), rules["postcode"], keyring.key, table))
    assert work.ready("ticket") is None  # twice the light limit's worth of distinct tokens: work for the split
    masked, _ = work.run(split=False)
    assert masked["postcode"].values.equals(postcode) and masked["postcode"].distinct_before == 140


def test_coarsening_masked_dates_gives_what_masking_prod_dates_again_gives(keyring, monkeypatch):
    """The gate floors a date column's masked values (a few thousand days) where the operator declares
    that the same (`coarsens_output_of`): the table and report equal those of masking prod's
    microseconds again at every step, and the shortcut was taken."""
    from hurricane_assets.masking.operators.dates import DateGeneralisation

    n = 4000
    zone = dt.timezone.utc
    table = pa.table({
        "customer_id": [f"cust_{i:05d}" for i in range(n)],
        "opened": pa.array([None if i % 41 == 0 else  # nulls: a value of their own in every grouping
                             dt.datetime(2015, 3, 1, tzinfo=zone) + dt.timedelta(days=i * 13 % 3000, seconds=i * 7)
                             for i in range(n)], pa.timestamp("us", tz="UTC")),
        "born": [dt.date(1940, 1, 1) + dt.timedelta(days=i * 379 % 25000) for i in range(n)],
        "postcode": [f"{'ABCDEFGH'[i % 8]}{i % 7} {i % 5}XY" for i in range(n)],
    })
    rules = {
        "customer_id": ColumnRule(operator="hmac_token", params={"entity": "customer"}, unique=True),
        "opened": ColumnRule(operator="generalize_date", params={"days": 1}, quasi_identifier=True),
        "born": ColumnRule(operator="generalize_date", params={"years": 1}, quasi_identifier=True),
        "postcode": ColumnRule(operator="prefix", params={"length": 3}, quasi_identifier=True),
    }
    types = {"customer_id": "string", "opened": "timestamp", "born": "date", "postcode": "string"}
    plan = MaskingPlan(dataset="test.opened", env="preprod", source="test", rules=rules, expected_types=types,
                       person_column="customer_id")
    declared = []
    real = DateGeneralisation.coarsens_output_of.__func__
    monkeypatch.setattr(DateGeneralisation, "coarsens_output_of",
                        classmethod(lambda cls, base, params: declared.append(params) or real(cls, base, params)))
    shortcut = mask_table(table, plan, keyring, k=5, thresholds=THRESHOLDS)
    steps = shortcut.report.k_anonymity["actions"]
    assert sum("opened" in s for s in steps) >= 3 and any("born" in s for s in steps), steps
    assert declared and any("months" in p or "years" in p for p in declared)

    monkeypatch.setattr(DateGeneralisation, "coarsens_output_of", classmethod(lambda cls, base, params: False))
    _same(shortcut, mask_table(table, plan, keyring, k=5, thresholds=THRESHOLDS))
