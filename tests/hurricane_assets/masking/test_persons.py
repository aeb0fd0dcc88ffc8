"""Issue 11: privacy judged per person — k counted in persons over every quasi-identifier, the
suppression limit enforced (fail closed), stable prod keys tokenized, buckets from the data or the
contract, and no exact prod value of any PII column anywhere below prod."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hurricane_assets.catalog.manifest import Column, ManifestError, load_manifest
from hurricane_assets.masking.columns import mask_column
from hurricane_assets.masking.copy import copy_masked, failed_report_path
from hurricane_assets.masking.engine import mask_table
from hurricane_assets.masking.kanonymity import KAnonymityError, enforce_k_anonymity, group_sizes
from hurricane_assets.masking.operators.generalise import quantile_edges
from hurricane_assets.masking.plans import ColumnRule, default_plan, plan_from_contract
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table, table_exists
from negotiation_graph.terms import MaskingMethod as M

LOWER = ("preprod", "dev")


def test_a_group_counts_persons_not_rows():
    t = pa.table({"day": ["d1"] * 5 + ["d2"] * 5, "who": ["a"] * 5 + ["a", "b", "c", "d", "e"]})
    rows, _ = group_sizes(t, ["day"])
    persons, _ = group_sizes(t, ["day"], t.column("who"))
    assert rows.tolist() == [5] * 10
    assert persons.tolist() == [1] * 5 + [5] * 5  # one customer's five rows are one person


def _gate(table, rules, key, k=5, max_suppression=0.05, persons="who"):
    def regeneralise(column, params):
        return mask_column(table.column(column).combine_chunks(), rules[column].model_copy(update={"params": params}),
                           key, table)

    masked = table
    for c, r in rules.items():
        masked = masked.set_column(masked.column_names.index(c), c,
                                   mask_column(table.column(c).combine_chunks(), r, key, table))
    return enforce_k_anonymity(masked, rules, regeneralise, k=k, max_suppression=max_suppression,
                               persons=table.column(persons) if persons else None, person_column=persons)


def test_one_person_with_many_rows_is_not_anonymous_and_gets_generalised(key):
    # 40 people, 10 payments each, each person on their own day: rows look like groups of 10,
    # persons are alone until the days are coarsened to a month.
    days = [dt.datetime(2025, 3, 1 + i // 10 % 28, 12, i % 60) for i in range(400)]
    who = [f"c{i // 10}" for i in range(400)]
    rules = {"ts": ColumnRule(operator="generalize_date", params={"days": 1}, quasi_identifier=True),
             "who": ColumnRule(operator="keep")}
    out, outcome = _gate(pa.table({"ts": pa.array(days, pa.timestamp("us")), "who": who}), rules, key)
    assert outcome.satisfied and outcome.smallest_group >= 5 and outcome.to_dict()["counted_in"] == "persons (who)"
    assert outcome.final_params["ts"] != {"days": 1}
    kept = out.filter(pc.is_valid(out.column("ts")))
    assert kept.num_rows >= 0.95 * out.num_rows
    assert group_sizes(kept, ["ts"], kept.column("who"))[0].min() >= 5


def test_suppression_beyond_the_limit_fails_closed(key):
    # 4 persons in all: k=5 is unreachable whatever is generalised; every row would be suppressed.
    who = ["a", "b", "c", "d"] * 5
    rules = {"born": ColumnRule(operator="generalize_date", params={"years": 1}, quasi_identifier=True),
             "who": ColumnRule(operator="keep")}
    table = pa.table({"born": [dt.date(1980 + i % 4, 1, 2) for i in range(20)], "who": who})
    with pytest.raises(KAnonymityError, match=r"20 of 20 rows \(100.0%\) are in groups of fewer than 5 persons"):
        _gate(table, rules, key)


def test_a_quasi_identifier_past_its_ladder_is_withheld_whole(key):
    # 30 persons, each with a unique country: nothing to coarsen a kept string to but "any".
    rules = {"country": ColumnRule(operator="keep", quasi_identifier=True), "who": ColumnRule(operator="keep")}
    out, outcome = _gate(pa.table({"country": [f"C{i}" for i in range(30)], "who": [f"p{i}" for i in range(30)]}),
                         rules, key)
    assert outcome.satisfied and out.column("country").null_count == 30
    assert outcome.final_params["country"] == {"withheld": True}


def test_copy_fails_closed_with_its_report_and_writes_no_table(catalog, prod_world):
    with pytest.raises(KAnonymityError, match="customers.profiles"):
        copy_masked(catalog, "customers", "profiles", "preprod", k=100_000)
    assert not table_exists(hurricane_paths().table_uri("preprod", "customers", "profiles"))
    failed = json.loads(failed_report_path("preprod", "customers", "profiles").read_text())
    assert failed["k_anonymity"]["satisfied"] is False and failed["k_anonymity"]["k"] == 100_000


def test_every_copy_is_k_anonymous_over_persons_with_times_and_amounts_coarsened(catalog, prod_world):
    for (domain, dataset) in prod_world:
        spec = catalog.dataset(domain, dataset)
        if "preprod" not in spec.allowed_environments:
            continue
        report = copy_masked(catalog, domain, dataset, "preprod")
        kanon = report.k_anonymity
        assert kanon["satisfied"] and kanon["suppressed_rows"] <= 0.05 * report.rows, (dataset, kanon)
        assert kanon["counted_in"].startswith("persons"), dataset
        temporal = [c for c, col in spec.columns.items() if col.type in ("date", "timestamp")]
        assert set(temporal) <= set(kanon["quasi_identifiers"]), dataset
        masked = read_table(hurricane_paths().table_uri("preprod", domain, dataset))
        for column in temporal:
            values = [v for v in masked.column(column).to_pylist() if v is not None]
            assert all(getattr(v, "microsecond", 0) == 0 and getattr(v, "hour", 0) == 0 for v in values), column
    amounts = read_table(hurricane_paths().table_uri("preprod", "payments", "transactions")).column("amount")
    raw = prod_world[("payments", "transactions")].column("amount")
    assert pc.count_distinct(amounts).as_py() <= 20 < pc.count_distinct(raw).as_py()


@pytest.mark.parametrize(("domain", "dataset", "key_column"), [
    ("payments", "transactions", "txn_id"), ("support", "tickets", "ticket_id"),
    ("marketing", "web_sessions", "session_id"), ("risk", "alerts", "alert_id"), ("risk", "alerts", "txn_id"),
])
def test_stable_prod_keys_are_tokenized_below_prod_and_still_join(catalog, domain, dataset, key_column):
    rule = default_plan(catalog.dataset(domain, dataset), "preprod").rules[key_column]
    assert rule.operator == "hmac_token" and rule.unique
    assert default_plan(catalog.dataset(domain, dataset), "prod").rules[key_column].operator == "keep"


def test_txn_ids_of_copies_and_shares_join_in_the_same_environment(catalog, prod_world, keyring):
    alerts = mask_table(prod_world[("risk", "alerts")], default_plan(catalog.dataset("risk", "alerts"), "preprod"),
                        keyring, k=None).table
    share_plan = plan_from_contract(catalog.dataset("payments", "transactions"), "preprod",
                                    {"txn_id": M.none, "customer_id": M.tokenize, "channel": M.none})
    assert share_plan.raised_to_floor == ("txn_id",)
    share = mask_table(prod_world[("payments", "transactions")], share_plan, keyring, k=None).table
    raw_ids = set(prod_world[("payments", "transactions")].column("txn_id").to_pylist())
    assert not raw_ids & set(share.column("txn_id").to_pylist())
    joined = set(alerts.column("txn_id").to_pylist()) & set(share.column("txn_id").to_pylist())
    assert len(joined) == prod_world[("risk", "alerts")].num_rows


def test_a_contract_may_not_keep_amounts_or_times_exact_below_prod(catalog):
    plan = plan_from_contract(catalog.dataset("payments", "transactions"), "preprod",
                              {"customer_id": M.tokenize, "amount": M.none, "event_ts": M.none})
    assert plan.rules["amount"].operator == "bucket" and plan.rules["event_ts"].operator == "generalize_date"
    assert set(plan.raised_to_floor) == {"amount", "event_ts", "txn_id"} - {"txn_id"}
    shifted = plan_from_contract(catalog.dataset("payments", "transactions"), "preprod",
                                 {"customer_id": M.tokenize, "event_ts": M.format_preserving})
    assert shifted.rules["event_ts"].operator == "date_shift" and not shifted.rules["event_ts"].quasi_identifier
    assert plan_from_contract(catalog.dataset("payments", "transactions"), "prod",
                              {"amount": M.none}).rules["amount"].operator == "keep"


def test_generalize_buckets_come_from_the_data_or_the_contract(catalog, prod_world, keyring):
    tickets = prod_world[("support", "tickets")]
    plan = plan_from_contract(catalog.dataset("support", "tickets"), "preprod",
                              {"customer_id": M.tokenize, "priority": M.generalize, "satisfaction": M.generalize})
    assert plan.rules["priority"].params == {"edges": [1, 2, 3, 4]}  # the manifest's buckets
    assert plan.rules["satisfaction"].params == {"quantiles": 20}
    out = mask_table(tickets, plan, keyring, k=None).table
    # Support's 1-4 and 1-5 scales survive: no collapse to the constant 0 of a fixed width of 10.
    assert sorted(set(out.column("priority").drop_null().to_pylist())) == [1, 2, 3, 4]
    assert len(set(out.column("satisfaction").drop_null().to_pylist())) >= 4
    assert out.column("satisfaction").null_count == tickets.column("satisfaction").null_count


def test_quantile_edges_are_rounded_rather_than_read_off_one_value():
    values = pa.array([137.42 + i * 3.117 for i in range(1000)])
    edges = quantile_edges(values, 10)
    assert len(edges) == 10 and not set(edges) & set(values.to_pylist())
    assert all(e == float(f"{e:.2g}") for e in edges)  # two significant digits
    assert quantile_edges(pa.array([1, 2, 3, 4, 4, None]), 20) == [1, 2, 3, 4]


def test_manifest_buckets_and_privacy_thresholds_are_validated(tmp_path):
    with pytest.raises(ValueError, match="buckets apply to int64 or float64"):
        Column(type="string", classification="internal", buckets=(1, 2))
    with pytest.raises(ValueError, match="strictly increasing"):
        Column(type="int64", classification="internal", buckets=(3, 2))
    path = tmp_path / "product.yaml"
    path.write_text("""domain: d
owner: o
description: x
datasets:
  t:
    description: x
    entity: customer
    keys: [id]
    event_time: ts
    freshness: {max_lag_hours: 1}
    privacy: {k: 5, sensitive: [nope]}
    columns:
      id: {type: string, classification: internal, nullable: false}
      ts: {type: timestamp, classification: internal}
""")
    with pytest.raises(ManifestError, match=r"product.yaml: datasets.t: .*privacy.sensitive names 'nope'"):
        load_manifest(path)
    path.write_text(path.read_text().replace("{k: 5, sensitive: [nope]}", "{max_linkability_risk: 2}"))
    with pytest.raises(ManifestError, match=r"datasets.t.privacy.max_linkability_risk"):
        load_manifest(path)


def _pii_values(catalog, world) -> dict[str, set]:
    """Every exact prod value of every PII column of the catalog (free text aside), by column."""
    found: dict[str, set] = {}
    for (domain, dataset), table in world.items():
        for name, column in catalog.dataset(domain, dataset).columns.items():
            if column.pii is None or column.pii.value == "FREE_TEXT":
                continue
            values = {v for v in table.column(name).to_pylist() if v is not None and v != ""}
            if column.pii.value == "DATE_OF_BIRTH":  # a year band's 1 January is not a leak of a birthday
                values = {v for v in values if (v.month, v.day) != (1, 1)}
            found.setdefault(f"{column.pii.value}", set()).update(values)
    return found


def test_no_lower_environment_table_holds_an_exact_prod_value_of_a_pii_column(catalog, prod_world):
    for (domain, dataset) in prod_world:
        for env in catalog.dataset(domain, dataset).allowed_environments:
            if env in LOWER:
                copy_masked(catalog, domain, dataset, env)
    prod = _pii_values(catalog, prod_world)
    checked = 0
    for env in LOWER:
        root = hurricane_paths().home / "envs" / env
        for log in root.glob("*/*/_delta_log"):
            table = read_table(str(log.parent))
            for column in table.columns:
                values = set(column.drop_null().to_pylist())
                for entity, real in prod.items():
                    leaked = values & real
                    assert not leaked, f"{log.parent.relative_to(root)}: {len(leaked)} exact prod {entity} value(s)"
                    checked += 1
    assert checked > 0


def test_a_shifted_time_keeps_no_time_of_day(catalog, prod_world, keyring):
    # A whole-day shift kept each payment's time of day to the microsecond, unique per payment: one
    # known payment's time found its row, the person's token, and through the offset all their events.
    prod = prod_world[("payments", "transactions")]
    plan = plan_from_contract(catalog.dataset("payments", "transactions"), "preprod",
                              {"customer_id": M.tokenize, "event_ts": M.format_preserving})
    shifted = mask_table(prod, plan, keyring, k=None).table.column("event_ts").to_pylist()
    real = prod.column("event_ts").to_pylist()
    assert all(t is None or t.time() == dt.time(0) for t in shifted)
    real_times = {t.time() for t in real if t is not None and t.time() != dt.time(0)}
    assert real_times and not real_times & {t.time() for t in shifted if t is not None}
    offsets: dict[str, set[int]] = {}
    for customer, before, after in zip(prod.column("customer_id").to_pylist(), real, shifted):
        if before is not None:
            offsets.setdefault(customer, set()).add((after.date() - before.date()).days)
    assert all(len(days) == 1 and 0 not in days for days in offsets.values())  # intervals in days survive
