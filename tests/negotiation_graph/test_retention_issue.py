"""Retention as a negotiated issue the consumer values up to its model's training window: rows older
than the retention are deleted from the share, so a shorter retention leaves the older part of the
window without the feature. The bargain settles on a retention covering the window where the
producer's policy allows it, and on the policy's cap where it does not."""

from dataclasses import replace

import pytest
from pydantic import ValidationError

from negotiation_graph.feasibility import anchor, explore
from negotiation_graph.runner import Negotiator
from negotiation_graph.scoring import consumer_utility
from tests.negotiation_graph.ports_in_memory import TableGate
from tests.negotiation_graph.sample_world import context, fraud_need, listings, rules

PAYMENTS, CHARGEBACKS, CUSTOMERS = listings()
TRAINING_DAYS = 45


def agreed_retention(need, gate=None) -> dict[str, int]:
    report = Negotiator(context(gate=gate)).run(need)
    assert report.outcome.status in ("agreed", "partial")
    return {a.dataset: a.terms.retention_days for a in report.agreements}


def test_the_training_window_is_a_retention_step_and_worth_reaching():
    need = fraud_need(training_days=TRAINING_DAYS)  # asks 120 days, trains on 45
    region = explore(TableGate(rules()), need, PAYMENTS)
    assert region.retention_days == (30, TRAINING_DAYS, 60, 120)
    short = anchor(need, PAYMENTS, region)
    covering = short.model_copy(update={"retention_days": TRAINING_DAYS})
    features = ("channel", "device")
    # linear in the covered share of the window: 30 of 45 days keep two thirds of the value
    ratio = consumer_utility(need, PAYMENTS, short, features) / consumer_utility(need, PAYMENTS, covering, features)
    assert ratio == pytest.approx(30 / TRAINING_DAYS, rel=0.01)


def test_the_rules_agree_on_a_retention_covering_the_training_window():
    """Catches: `retention_cover` dropped from the consumer's utility (the bargain then settles on the
    producer's shortest retention, whose enforcement deletes most of what the model trains on)."""
    without = agreed_retention(fraud_need())
    assert min(without.values()) < TRAINING_DAYS  # the old story: a retention shorter than the window
    with_window = agreed_retention(fraud_need(need_id="need-fraud-2", training_days=TRAINING_DAYS))
    assert with_window and all(days >= TRAINING_DAYS for days in with_window.values()), with_window


def test_the_producers_policy_caps_the_retention_below_the_window():
    table = rules()
    table["payments.transactions"] = replace(table["payments.transactions"], max_retention_days=30)
    agreed = agreed_retention(fraud_need(training_days=TRAINING_DAYS), TableGate(table))
    assert agreed["transactions"] == 30 and agreed["profiles"] >= TRAINING_DAYS


def test_a_need_asking_less_retention_than_its_model_trains_on_is_an_error():
    with pytest.raises(ValidationError, match="retention_days 30 is shorter than training_days 45"):
        fraud_need(retention_days=30, training_days=TRAINING_DAYS)
