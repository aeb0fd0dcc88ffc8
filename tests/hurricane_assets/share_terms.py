"""Terms and agreements for share-lifecycle tests (what a negotiation would have produced)."""

from __future__ import annotations

from negotiation_graph.messages import Agreement
from negotiation_graph.terms import MaskingMethod, ShareTerms


def fraud_terms(**changes) -> ShareTerms:
    base = dict(
        producer="payments", consumer="risk", dataset="transactions",
        columns={"txn_id": MaskingMethod.none, "customer_id": MaskingMethod.tokenize,
                 "channel": MaskingMethod.none, "device_id": MaskingMethod.tokenize},
        purpose="fraud_detection", environment="preprod", freshness_hours=24, retention_days=90, term_days=90,
    )
    return ShareTerms(**{**base, **changes})


def agreement_for(terms: ShareTerms, gate, negotiation_id: str = "neg-1") -> Agreement:
    decision = gate.evaluate(terms)
    return Agreement(
        negotiation_id=negotiation_id, producer=terms.producer, consumer=terms.consumer, dataset=terms.dataset,
        terms=terms, terms_sha256=terms.sha256(), policy_decision_id=decision.decision_id,
        policy_bundle_sha256=decision.bundle_sha256, rounds=2, features=("channel", "device"),
    )
