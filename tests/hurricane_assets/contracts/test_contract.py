import re

import pytest

from hurricane_assets.contracts import (
    Contract,
    ContractSignatureError,
    ContractStatus,
    IllegalTransitionError,
    sign_contract,
    verify_contract,
)


def test_contract_id_is_uuid7_and_expiry_follows_term(signed, terms):
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-", signed.contract_id)
    assert (signed.expires_at - signed.signed_at).days == terms.term_days
    assert signed.producer == "payments" and signed.consumer == "risk" and signed.dataset == "transactions"


def test_both_signatures_verify(signed, signer):
    verify_contract(signed, signer)


def test_changed_terms_break_the_signatures(signed, signer):
    widened = signed.model_copy(update={"terms": signed.terms.model_copy(update={"retention_days": 365})})
    with pytest.raises(ContractSignatureError, match="producer signature invalid"):
        verify_contract(widened, signer)


def test_missing_or_misattributed_signature_is_rejected(signed, signer):
    with pytest.raises(ContractSignatureError, match="missing the consumer"):
        verify_contract(signed.model_copy(update={"signatures": signed.signatures[:1]}), signer)
    swapped = signed.model_copy(update={"signatures": (signed.signatures[1].model_copy(update={"role": "producer"}), signed.signatures[1])})
    with pytest.raises(ContractSignatureError, match="by 'risk', expected 'payments'"):
        verify_contract(swapped, signer)
    with pytest.raises(ContractSignatureError, match="already signed"):
        sign_contract(signed, "consumer", signer)


def test_status_changes_keep_signatures_valid(signed, signer):
    active = signed.transition("active")
    verify_contract(active, signer)
    assert active.transition(ContractStatus.revoked).status is ContractStatus.revoked


@pytest.mark.parametrize(
    "path,illegal",
    [
        ([], "expired"),
        (["active"], "proposed"),
        (["active", "expired"], "active"),
        (["active", "revoked"], "renewed"),
        (["revoked"], "active"),
    ],
)
def test_illegal_transitions_raise(signed, path, illegal):
    contract = signed
    for status in path:
        contract = contract.transition(status)
    with pytest.raises(IllegalTransitionError, match=f"cannot go from {contract.status.value} to {illegal}"):
        contract.transition(illegal)


def test_unsigned_contract_cannot_become_active(terms):
    contract = Contract.propose(terms, negotiation_id="n", policy_bundle_sha256="0" * 64)
    with pytest.raises(IllegalTransitionError, match="both parties"):
        contract.transition("active")


def test_bad_version_is_rejected(terms):
    with pytest.raises(ValueError, match="version"):
        Contract.propose(terms, negotiation_id="n", policy_bundle_sha256="0" * 64, version="1.0")
