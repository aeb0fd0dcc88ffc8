"""Trial samples on a drifted world: useful data is estimated worth sharing, useless data is
declined before any contract, and the sample leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.negotiate import negotiate_need
from hurricane_assets.sharing.platform import SharingPlatform
from hurricane_assets.sharing.trial import TrialSampleEstimator
from negotiation_graph.terms import NeedSpec, ShareTerms

NEED = NeedSpec(
    need_id="need-trial", consumer="risk", model="fraud_model", purpose="fraud_detection", environment="preprod",
    join_entities=("transaction", "customer"),
    wanted={"channel": 0.48, "device": 0.48, "account_age": 0.27, "category": 0.1, "priority": 0.1, "satisfaction": 0.1},
    has_columns=("amount", "merchant_category", "hour_of_day", "rule_score"),
)


def terms(producer: str, dataset: str, columns: dict[str, str]) -> ShareTerms:
    return ShareTerms(producer=producer, consumer="risk", dataset=dataset, columns=columns, purpose="fraud_detection",
                      environment="preprod", freshness_hours=24, retention_days=90, term_days=90)


@pytest.fixture
def platform(install_world):
    install_world("drifted")
    return SharingPlatform.from_environment()


def test_estimates_separate_useful_from_useless_data_and_leave_nothing_behind(platform):
    estimator = TrialSampleEstimator(platform)
    useful = estimator.estimate(NEED, terms("payments", "transactions", {"txn_id": "none", "channel": "tokenize", "device_id": "tokenize"}))
    useless = estimator.estimate(NEED, terms("support", "tickets", {"customer_id": "tokenize", "category": "tokenize",
                                                                     "priority": "generalize", "satisfaction": "generalize"}))
    assert useful > 0 >= useless, (useful, useless)
    print(f"trial estimates: useful {useful:+.4f}, useless {useless:+.4f}")
    assert not list(Path(hurricane_paths().env_root("preprod")).glob("risk/_trial__*"))
    trials = [e for e in platform.ledger.tail(5) if '"trial_sample"' in e["payload_json"]]
    assert len(trials) == 2
    assert verify_ledger().ok


def test_a_denied_offer_is_never_sampled(platform):
    assert TrialSampleEstimator(platform).estimate(NEED, terms("payments", "transactions", {"txn_id": "none", "card_number": "tokenize"})) == 0.0
    assert len(platform.ledger) == 0


def test_negotiation_with_trials_declines_the_useless_share(platform):
    """The useless tickets are declined and the transactions agreed. The customers profiles are left
    open: their gain on a half sample of this small world sits near the bar, and the estimate is a
    lower bound, so on some masking keys (each session's world has its own) they are declined too."""
    outcome = negotiate_need(NEED, platform, estimator=TrialSampleEstimator(platform))
    shared = {c.dataset for c in outcome.contracts}
    assert "transactions" in shared and "tickets" not in shared
    assert all(c.status is ContractStatus.active for c in outcome.contracts)
    refusals = [m for m in outcome.negotiation.transcript if "no_value" in m.reason_codes]
    assert any("support" in m.receiver or "support" in m.sender for m in refusals)
    assert not any("payments" in m.receiver or "payments" in m.sender for m in refusals)
