"""A person's request for columns of one dataset negotiates that dataset and nothing else."""

from __future__ import annotations

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.sharing.negotiate import negotiate_need
from hurricane_assets.sharing.platform import SharingPlatform
from hurricane_assets.sharing.request import RequestOutcome, parse_request, request_need


def test_a_request_for_transactions_never_signs_a_contract_on_another_dataset(share_catalog):
    # txn_id and amount are columns of payments.chargebacks too, which a need by column name alone
    # awarded (fewer columns won the tie) and signed while the request reported "refused"
    request = parse_request(share_catalog, "payments.transactions", ["txn_id", "amount"], "fraud_detection",
                            "preprod", "risk")
    platform = SharingPlatform.from_environment(share_catalog)
    outcome = negotiate_need(request_need(share_catalog, request), platform)
    assert [(c.producer, c.dataset) for c in outcome.contracts] == [("payments", "transactions")]
    assert [(c.producer, c.dataset) for c in platform.store.list(status=ContractStatus.active)] \
        == [("payments", "transactions")]
    assert {"txn_id", "amount"} <= set(outcome.contracts[0].terms.shared_columns())
    offered = {(m.terms.producer, m.terms.dataset) for m in outcome.negotiation.transcript if m.terms is not None}
    assert offered == {("payments", "transactions")}


def test_a_denial_names_every_contract_signed_all_the_same(share_catalog):
    request = parse_request(share_catalog, "payments.transactions", ["txn_id", "amount"], "fraud_detection",
                            "preprod", "risk")
    platform = SharingPlatform.from_environment(share_catalog)
    # a need open to every listing: the chargebacks contract the old request signed
    need = request_need(share_catalog, request).model_copy(update={"listings": ()})
    signed = negotiate_need(need, platform).contracts
    assert [(c.producer, c.dataset) for c in signed] == [("payments", "chargebacks")]
    denial = RequestOutcome(request, "n-1", signed, None, None, ()).denial()
    assert denial.signed == signed
    assert f"signed contract {signed[0].contract_id} for payments.chargebacks (txn_id, amount)" in str(denial)
