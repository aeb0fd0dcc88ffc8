from __future__ import annotations

from deltalake import DeltaTable

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.delivery.deliver import deliver
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.platform import SharingPlatform
from hurricane_assets.sharing.verdicts import judge_and_act, latest_verdicts
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms


def test_useless_share_is_revoked_useful_one_kept_and_both_verdicts_recorded(share_catalog, share_prod_tables):
    platform = SharingPlatform.from_environment(share_catalog)
    useful, useless = sign_agreements(
        [agreement_for(fraud_terms(), platform.gate),
         agreement_for(fraud_terms(producer="support", dataset="tickets", columns={"customer_id": "tokenize", "priority": "none"}),
                       platform.gate)],
        **platform.signing,
    ).contracts
    for contract in (useful, useless):
        deliver(contract, **platform.delivering)
    verdicts = judge_and_act(platform, "risk", {useful.contract_id: 0.08, useless.contract_id: 0.001},
                             model="fraud_model", evidence="run-1", min_uplift=0.01)
    assert {v.contract_id: v.keep for v in verdicts} == {useful.contract_id: True, useless.contract_id: False}
    assert platform.store.get(useless.contract_id).status is ContractStatus.revoked
    assert not DeltaTable.is_deltatable(useless.share_uri)
    assert DeltaTable.is_deltatable(useful.share_uri)
    assert latest_verdicts(platform.ledger) == {useful.contract_id: True, useless.contract_id: False}
    # the same judgement again (a re-run op) records nothing new
    size = len(platform.ledger)
    judge_and_act(platform, "risk", {useful.contract_id: 0.08}, model="fraud_model", evidence="run-1", min_uplift=0.01)
    assert len(platform.ledger) == size
