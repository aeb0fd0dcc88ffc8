"""Masking utility per share: the consumer model's AUC on the masked share against the same rows unmasked."""

from __future__ import annotations

from hurricane_assets.delivery.deliver import deliver, masked_share, unmasked_share
from hurricane_assets.models.sources import join_entities, share_from_contract
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.utility import TARGET_RATIO, delivered_at, share_utilities
from hurricane_assets.sharing.contracting import sign_agreements
from negotiation_graph.terms import MaskingMethod
from tests.hurricane_assets.conftest import AS_OF
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

PROFILES = fraud_terms(producer="customers", dataset="profiles",
                       columns={"customer_id": MaskingMethod.tokenize, "account_opened_at": MaskingMethod.generalize})


def test_each_share_reports_auc_masked_against_unmasked(install_world, share_parts):
    install_world("drifted")
    catalog = share_parts["catalog"]
    args = {k: share_parts[k] for k in ("gate", "signer", "ledger", "store")}
    contracts = sign_agreements([agreement_for(t, share_parts["gate"], f"neg-{i}")
                                 for i, t in enumerate((fraud_terms(), PROFILES))], **args).contracts
    for contract in contracts:
        deliver(contract, **{k: share_parts[k] for k in ("catalog", "gate", "signer", "ledger")}, now=AS_OF)
    spec = load_model_spec("risk", "fraud_model")
    shares = [share_from_contract(c, catalog, join_entities(spec, catalog)) for c in contracts]
    payments, profiles = contracts

    # the unmasked version: same rows, identifiers masked alike (they join), every other column as in prod
    as_of = delivered_at(profiles.share_uri)
    masked = masked_share(profiles.terms, catalog=catalog, now=as_of).table
    raw = unmasked_share(profiles.terms, catalog=catalog, now=as_of)
    assert raw["customer_id"].equals(masked["customer_id"]) and raw.column_names == masked.column_names
    assert len(set(raw["account_opened_at"].to_pylist())) > 5 * len(set(masked["account_opened_at"].to_pylist()))

    utility = share_utilities(spec, shares, catalog=catalog)
    assert set(utility) == {payments.contract_id, profiles.contract_id}
    for figure in utility.values():
        assert figure.ratio == figure.auc_masked / figure.auc_unmasked and figure.target == TARGET_RATIO
        assert figure.auc_unmasked > 0.5 and figure.meets_target == (figure.ratio >= TARGET_RATIO)
    # tokens and kept columns lose nothing: identical features, identical model
    assert utility[payments.contract_id].ratio == 1.0
    # a month instead of the exact opening date keeps nearly all of account age's value
    assert utility[profiles.contract_id].ratio >= TARGET_RATIO
    print({c: (round(u.auc_masked, 4), round(u.auc_unmasked, 4), round(u.ratio, 4)) for c, u in utility.items()})
