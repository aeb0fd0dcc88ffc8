"""A need negotiated on the real platform becomes signed contracts, once."""

from __future__ import annotations

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.sharing.negotiate import negotiate_need
from hurricane_assets.sharing.platform import SharingPlatform
from negotiation_graph.terms import NeedSpec

FRAUD_NEED = NeedSpec(
    need_id="need-fraud-1", consumer="risk", model="fraud_model", purpose="fraud_detection",
    environment="preprod", join_entities=("transaction", "customer"),
    wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3},
    has_columns=("amount", "merchant_category", "hour_of_day", "rule_score"),
)


def test_need_to_signed_contracts_inside_policy_and_idempotent(share_catalog):
    platform = SharingPlatform.from_environment(share_catalog)
    outcome = negotiate_need(FRAUD_NEED, platform)
    assert outcome.negotiation.status == "done"
    shared = {(c.producer, c.dataset): c for c in outcome.contracts}
    assert ("payments", "transactions") in shared and ("customers", "profiles") in shared
    for contract in outcome.contracts:
        assert contract.status is ContractStatus.active
        assert platform.gate.evaluate(contract.terms).allowed
        assert "card_number" not in contract.terms.shared_columns()
        assert "national_id" not in contract.terms.shared_columns()
    ledger_size = len(platform.ledger)
    again = negotiate_need(FRAUD_NEED, platform)
    assert [c.contract_id for c in again.contracts] == [c.contract_id for c in outcome.contracts]
    assert len(platform.ledger) == ledger_size
    assert verify_ledger().ok
