from __future__ import annotations

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.delivery.deliver import deliver
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.inputs import share_inputs_for
from hurricane_assets.sharing.lifecycle import end_share
from hurricane_assets.sharing.platform import SharingPlatform

from tests.hurricane_assets.share_terms import agreement_for, fraud_terms


def test_only_delivered_active_shares_become_model_inputs(share_catalog, share_prod_tables):
    platform = SharingPlatform.from_environment(share_catalog)
    transactions, profiles, tickets = sign_agreements(
        [agreement_for(fraud_terms(), platform.gate),
         agreement_for(fraud_terms(producer="customers", dataset="profiles",
                                   columns={"customer_id": "tokenize", "account_opened_at": "none"}), platform.gate),
         agreement_for(fraud_terms(producer="support", dataset="tickets",
                                   columns={"customer_id": "tokenize", "priority": "none"}), platform.gate)],
        **platform.signing,
    ).contracts
    deliver(transactions, **platform.delivering)
    deliver(profiles, **platform.delivering)
    deliver(tickets, **platform.delivering)
    end_share(tickets, ContractStatus.revoked, reason="test", by="agent:risk/consumer", store=platform.store, ledger=platform.ledger)
    inputs = {i.contract_id: i for i in share_inputs_for("risk", ("transaction", "customer"), environment="preprod", catalog=share_catalog)}
    assert set(inputs) == {transactions.contract_id, profiles.contract_id}
    assert inputs[transactions.contract_id].join_entity == "transaction"
    assert inputs[profiles.contract_id].join_entity == "customer"
    assert set(inputs[transactions.contract_id].columns) == set(transactions.terms.shared_columns())
    assert share_inputs_for("risk", ("transaction",), environment="dev", catalog=share_catalog) == []
