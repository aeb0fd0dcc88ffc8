"""A small world for graph tests: listings shaped like the reference catalog, table policies for
them, and the fraud model's need. Only test data; the real catalog is tested in the runtime tests."""

from __future__ import annotations

from datetime import UTC, datetime

from negotiation_graph.context import NegotiationContext, NegotiationLimits, fixed_clock
from negotiation_graph.ports import ColumnFacts, ProducerListing
from negotiation_graph.terms import Environment, MaskingMethod, NeedSpec
from tests.negotiation_graph.ports_in_memory import MemoryLedger, SeededSigner, ShareRule, StaticDirectory, TableGate

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
M = MaskingMethod


def col(type_: str, classification: str, *, pii=None, refers_to=None, tags=(), description="") -> ColumnFacts:
    rank = ["public", "internal", "confidential", "restricted"].index(classification)
    return ColumnFacts(type=type_, classification=classification, sensitivity=rank, pii=pii,
                       refers_to=refers_to, tags=tuple(tags), description=description)


def listings() -> list[ProducerListing]:
    return [
        ProducerListing(
            producer="payments", dataset="transactions", entity="transaction",
            description="One row per payment transaction.", join_entities=("transaction", "customer"),
            columns={
                "txn_id": col("string", "internal", refers_to="transaction"),
                "customer_id": col("string", "internal", pii="CUSTOMER_ID", refers_to="customer"),
                "amount": col("float64", "internal", tags=("feature",)),
                "channel": col("string", "internal", tags=("feature", "channel"), description="Payment channel."),
                "device_id": col("string", "confidential", pii="DEVICE_ID", refers_to="device", tags=("feature", "device")),
                "card_number": col("string", "restricted", pii="CREDIT_CARD"),
            },
            allowed_purposes=("fraud_detection", "customer_analytics"), allowed_environments=("prod", "preprod", "dev"),
            freshness_hours=1,
        ),
        ProducerListing(
            producer="payments", dataset="chargebacks", entity="chargeback",
            description="Chargebacks raised against transactions.", join_entities=("transaction", "customer"),
            columns={
                "chargeback_id": col("string", "internal"),
                "txn_id": col("string", "internal", refers_to="transaction"),
                "reason": col("string", "internal"),
            },
            allowed_purposes=("fraud_detection",), allowed_environments=("prod", "preprod"), freshness_hours=24,
        ),
        ProducerListing(
            producer="customers", dataset="profiles", entity="customer",
            description="One row per customer, current profile.", join_entities=("customer",),
            columns={
                "customer_id": col("string", "internal", pii="CUSTOMER_ID", refers_to="customer"),
                "national_id": col("string", "restricted", pii="NATIONAL_ID"),
                "segment": col("string", "internal", tags=("feature",)),
                "account_opened_at": col("timestamp", "internal", tags=("feature", "account_age")),
            },
            allowed_purposes=("fraud_detection", "churn_prediction"), allowed_environments=("prod", "preprod", "dev"),
            freshness_hours=24,
        ),
    ]


def rules(**overrides: ShareRule) -> dict[str, ShareRule]:
    table = {
        "payments.transactions": ShareRule(
            purposes=("fraud_detection", "customer_analytics"), environments=("prod", "preprod", "dev"),
            min_masking={"txn_id": M.none, "customer_id": M.tokenize, "amount": M.none, "channel": M.none,
                         "device_id": M.tokenize},
            max_retention_days=180, max_term_days=180,
        ),
        "payments.chargebacks": ShareRule(
            purposes=("fraud_detection",), environments=("prod", "preprod"),
            min_masking={"chargeback_id": M.none, "txn_id": M.none, "reason": M.none},
        ),
        "customers.profiles": ShareRule(
            purposes=("fraud_detection", "churn_prediction"), environments=("prod", "preprod", "dev"),
            min_masking={"customer_id": M.tokenize, "segment": M.none, "account_opened_at": M.generalize},
            max_retention_days=90, max_term_days=90,
        ),
    }
    return table | overrides


def fraud_need(**changes) -> NeedSpec:
    fields = dict(
        need_id="need-fraud-1", consumer="risk", model="fraud_model", purpose="fraud_detection",
        environment=Environment.preprod, join_entities=("customer", "transaction"),
        wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3}, freshness_hours=24,
        retention_days=120, term_days=120, prompt="The fraud model drifted on channel and device.",
    )
    return NeedSpec(**(fields | changes))


def context(*, gate=None, ledger=None, strategy=None, estimator=None, limits=None, directory=None, clock=None) -> NegotiationContext:
    extra = {"strategy": strategy} if strategy is not None else {}
    return NegotiationContext(
        gate=gate if gate is not None else TableGate(rules()),
        ledger=ledger if ledger is not None else MemoryLedger(),
        signer=SeededSigner(),
        directory=directory if directory is not None else StaticDirectory(listings()),
        estimator=estimator,
        clock=clock or fixed_clock(T0),
        limits=limits or NegotiationLimits(),
        **extra,
    )


def ticking_clock(step_s: float):
    """A clock that advances `step_s` seconds on every reading."""
    from datetime import timedelta

    readings = iter(range(10**9))
    return lambda: T0 + timedelta(seconds=step_s * next(readings))
