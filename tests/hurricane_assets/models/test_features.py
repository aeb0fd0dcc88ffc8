"""Feature derivation on small hand-made frames: every kind, decided by catalog facts only."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hurricane_assets.models.features import FeatureError, FeatureKind, build_features, novelty, plan_features
from hurricane_assets.models.sources import ShareInput
from hurricane_assets.models.spec import load_model_spec
from negotiation_graph.ports import ColumnFacts

T0 = pd.Timestamp("2025-05-01", tz="UTC")


def facts(type_: str, refers_to: str | None = None, tags=("feature",)) -> ColumnFacts:
    return ColumnFacts(type=type_, classification="internal", sensitivity=1, refers_to=refers_to, tags=tags)


OWN = {"amount": facts("float64"), "merchant_category": facts("string"), "hour_of_day": facts("int64"),
       "rule_score": facts("float64")}


def rows() -> pd.DataFrame:
    return pd.DataFrame({
        "txn_id": ["t1", "t2", "t3", "t4"],
        "customer_id": ["tokA", "tokA", "tokB", "tokA"],
        "amount": [10.0, 20.0, 30.0, 40.0],
        "merchant_category": ["fuel", "fuel", "travel", "crypto"],
        "hour_of_day": pd.array([1, 2, 3, None], dtype="Int64"),
        "rule_score": [0.1, 0.2, 0.3, 0.4],
        "created_at": [T0 + pd.Timedelta(days=d) for d in (0, 1, 2, 3)],
    })


def share(name: str, columns: dict[str, ColumnFacts], join_entity: str, event_time: str | None = None) -> ShareInput:
    producer, dataset = name.split(".")
    return ShareInput(contract_id=f"ctr-{dataset}", producer=producer, dataset=dataset, environment="preprod",
                      holder="risk", table=f"{producer}__{dataset}",
                      columns=columns, join_entity=join_entity, event_time=event_time)


PAYMENTS = share("payments.transactions", {
    "txn_id": facts("string", "transaction", ()), "customer_id": facts("string", "customer", ()),
    "channel": facts("string", tags=("feature", "channel")), "device_id": facts("string", "device"),
    "event_ts": facts("timestamp", tags=()),
}, "transaction", event_time="event_ts")
PROFILES = share("customers.profiles", {
    "customer_id": facts("string", "customer", ()), "account_opened_at": facts("timestamp"),
    "vip": facts("bool"),
}, "customer")
TICKETS = share("support.tickets", {
    "customer_id": facts("string", "customer", ()), "category": facts("string"), "satisfaction": facts("float64"),
}, "customer")

FRAMES = {
    PAYMENTS.prefix: pd.DataFrame({
        # device tokens: dev1 is tokA's usual device, dev9 new in t4; t0 is older history outside the rows
        "txn_id": ["t0", "t1", "t2", "t3", "t4"],
        "customer_id": ["tokA", "tokA", "tokA", "tokB", "tokA"],
        "channel": ["online", "online", "wallet", "online", "instant_p2p"],
        "device_id": ["dev1", "dev1", "dev1", "dev1", "dev9"],
        "event_ts": [T0 - pd.Timedelta(days=9), *(T0 + pd.Timedelta(days=d) for d in (0, 1, 2, 3))],
    }),
    PROFILES.prefix: pd.DataFrame({
        "customer_id": ["tokA", "tokB"],
        "account_opened_at": [T0 - pd.Timedelta(days=100), T0 - pd.Timedelta(days=2)],
        "vip": [True, False],
    }),
    TICKETS.prefix: pd.DataFrame({
        "customer_id": ["tokA", "tokA", "tokA"],
        "category": ["fees", "fees", "app_bug"],
        "satisfaction": [1.0, 3.0, None],
    }),
}


@pytest.fixture(scope="module")
def spec():
    return load_model_spec("risk", "fraud_model")


def test_direct_and_aggregated_shares_become_prefixed_features(spec):
    data = rows()
    plan = plan_features(spec, "transaction", OWN, data, [PAYMENTS, PROFILES, TICKETS], FRAMES)
    kinds = {f.name: f.kind for f in plan.features}
    assert kinds == {
        "amount": FeatureKind.numeric, "merchant_category": FeatureKind.categorical,
        "hour_of_day": FeatureKind.numeric, "rule_score": FeatureKind.numeric,
        "payments__transactions__channel": FeatureKind.categorical,
        "payments__transactions__device_id": FeatureKind.novelty,
        "customers__profiles__account_opened_at": FeatureKind.age_days,
        "customers__profiles__vip": FeatureKind.boolean,
        "support__tickets__count": FeatureKind.count,
        "support__tickets__category__share_fees": FeatureKind.category_share,
        "support__tickets__category__share_app_bug": FeatureKind.category_share,
        "support__tickets__satisfaction__mean": FeatureKind.mean,
    }
    assert plan.skipped["payments__transactions.event_ts"] == "the table's own event time"
    assert plan.skipped["payments__transactions.txn_id"] == "join key"
    assert plan.features_from("ctr-transactions") == ["payments__transactions__channel", "payments__transactions__device_id"]

    matrix = build_features(plan, spec, "transaction", data, FRAMES)
    assert list(matrix.columns) == plan.names
    # novelty is judged on the share's whole history, per customer, in event order
    assert matrix["payments__transactions__device_id"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert matrix["customers__profiles__account_opened_at"].tolist() == [100.0, 101.0, 4.0, 103.0]
    assert matrix["customers__profiles__vip"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert matrix["support__tickets__count"].tolist() == [3.0, 3.0, 0.0, 3.0]
    assert matrix["support__tickets__category__share_fees"].iloc[0] == pytest.approx(2 / 3)
    assert math.isnan(matrix["support__tickets__satisfaction__mean"].iloc[2])  # no tickets: unknown, not zero
    assert matrix["support__tickets__satisfaction__mean"].iloc[0] == 2.0
    assert math.isnan(matrix["hour_of_day"].iloc[3])


def test_category_codes_keep_the_training_vocabulary(spec):
    train = rows().iloc[:3]
    plan = plan_features(spec, "transaction", OWN, train, [], {})
    merchant = next(f for f in plan.features if f.name == "merchant_category")
    assert merchant.vocabulary == ("fuel", "travel")  # by frequency, then by value
    matrix = build_features(plan, spec, "transaction", rows(), {})
    codes = matrix["merchant_category"].tolist()
    assert codes[:3] == [0.0, 0.0, 1.0] and math.isnan(codes[3])  # crypto was never seen: unknown


def test_a_high_cardinality_string_is_not_a_category(spec):
    data = rows().assign(merchant_category=[f"m{i}" for i in range(4)])
    many = pd.concat([data] * 10, ignore_index=True)
    many["merchant_category"] = [f"m{i}" for i in range(len(many))]
    plan = plan_features(spec, "transaction", OWN, many, [], {})
    assert "merchant_category" not in plan.names
    assert "not a category" in plan.skipped["merchant_category"]


def test_novelty_falls_back_to_the_rows_owner_and_time():
    values = pd.Series(["d1", "d1", "d2", None, "d2", "d1"])
    owner = pd.Series(["a", "b", "a", "a", "a", "a"])
    order = pd.Series([4, 1, 2, 3, 5, 0])
    seen = novelty(values, owner, order).tolist()
    # in time order: a/d1 (t0) new, b/d1 new, a/d2 new, missing, a/d1 (t4) seen, a/d2 (t5) seen
    assert seen[:3] == [0.0, 1.0, 1.0] and math.isnan(seen[3]) and seen[4:] == [0.0, 1.0]
    assert novelty(values, None, order).tolist()[:2] == [0.0, 0.0]  # no owner: first time anywhere


def test_a_share_joined_on_a_foreign_entity_is_refused(spec):
    stray = share("support.tickets", {"ticket_id": facts("string", "ticket", ())}, "ticket")
    with pytest.raises(FeatureError, match=r"ctr-tickets .*join entity 'ticket' is not one of"):
        plan_features(spec, "transaction", OWN, rows(), [stray], {stray.prefix: pd.DataFrame({"ticket_id": ["x"]})})


def test_a_share_without_its_join_column_is_refused(spec):
    stray = share("support.tickets", {"category": facts("string")}, "customer")
    with pytest.raises(ValueError, match="no column refers to its join entity 'customer'"):
        plan_features(spec, "transaction", OWN, rows(), [stray], {stray.prefix: pd.DataFrame({"category": ["x"]})})


def test_aggregated_share_features_are_point_in_time(spec):
    """A scored row sees only its customer's tickets at or before its own time: none filed later."""
    timed = share("support.tickets", {**TICKETS.columns, "created_at": facts("timestamp", tags=())}, "customer",
                  event_time="created_at")
    tickets = pd.DataFrame({
        "customer_id": ["tokA", "tokA", "tokA", "tokA", "tokB"],
        "category": ["fees", "fees", "app_bug", "fees", "fees"],
        "satisfaction": [1.0, 3.0, None, 5.0, 4.0],
        # day 1 and day 3 tie with t2's and t4's own times (they count); day 5 and tokB's day 9 are after every row
        "created_at": [T0 + pd.Timedelta(days=d) for d in (-1, 1, 3, 5, 9)],
    })
    frames = {**FRAMES, timed.prefix: tickets}
    data = rows()
    plan = plan_features(spec, "transaction", OWN, data, [timed], frames)
    matrix = build_features(plan, spec, "transaction", data, frames)
    assert matrix["support__tickets__count"].tolist() == [1.0, 2.0, 0.0, 3.0]
    assert matrix["support__tickets__category__share_fees"].tolist()[:2] == [1.0, 1.0]
    assert matrix["support__tickets__category__share_fees"].iloc[3] == pytest.approx(2 / 3)
    assert matrix["support__tickets__category__share_app_bug"].iloc[3] == pytest.approx(1 / 3)
    means = matrix["support__tickets__satisfaction__mean"].tolist()
    assert means[0] == 1.0 and means[1] == 2.0 and math.isnan(means[2]) and means[3] == 2.0
    # the scored rows' order does not matter (features come back aligned to the rows' index)
    shuffled = data.iloc[[3, 0, 2, 1]]
    again = build_features(plan, spec, "transaction", shuffled, frames)
    pd.testing.assert_frame_equal(again.sort_index(), matrix)
