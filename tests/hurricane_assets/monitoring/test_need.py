"""The data need a failed monitor raises: explainable wanted items, nothing the model already has."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from hurricane_assets.catalog import load_catalog
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import save_model
from hurricane_assets.models.training import train_model
from hurricane_assets.monitoring.monitor import run_monitor
from hurricane_assets.monitoring.need import NeedError, build_data_need
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.platform import SharingPlatform
from hurricane_assets.sharing.verdicts import judge_and_act
from negotiation_graph.terms import Environment, NeedSpec
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

TICKET_COLUMNS = {"customer_id": "tokenize", "category": "tokenize", "priority": "generalize",
                  "satisfaction": "generalize"}


@pytest.fixture
def drifted(install_world):
    spec = load_model_spec("risk", "fraud_model")
    install_world("calm")
    save_model(train_model(spec))
    install_world("drifted")
    return spec, run_monitor(spec)


def test_the_need_wants_channel_device_and_account_age_first(drifted):
    spec, result = drifted
    need = build_data_need(result, spec)
    keys = [item.key for item in need.wanted]
    assert set(keys[:3]) == {"channel", "device", "account_age"}
    assert not {"amount", "merchant_category", "hour_of_day", "rule_score", "feature"} & set(keys)
    assert need.has_columns == ("amount", "merchant_category", "hour_of_day", "rule_score")
    # payments records the drifted amount and category too: evidence that it sees the cause
    channel = need.wanted[keys.index("channel")]
    assert channel.columns == ("payments.transactions.channel",)
    assert "also records drifted" in channel.why and "one row per transaction" in channel.why
    assert need.wanted[keys.index("account_age")].weight < channel.weight
    # web sessions do not allow fraud_detection: never asked for
    assert not any(c.startswith("marketing.") for item in need.wanted for c in item.columns)
    assert [f.feature for f in need.drifted_features] == [f.feature for f in result.drifted_features]
    assert need.auc_drop == result.auc_drop and need.report_path == result.report_path


def test_need_id_is_deterministic_and_the_spec_carries_the_weights(drifted):
    spec, result = drifted
    need, again = build_data_need(result, spec), build_data_need(result, spec)
    assert need.need_id == again.need_id and need.need_id.startswith("need-risk-fraud_model-")
    assert need == again
    need_spec = need.to_need_spec()
    assert isinstance(need_spec, NeedSpec)
    assert need_spec.environment is Environment.preprod and need_spec.purpose == "fraud_detection"
    assert need_spec.join_entities == ("transaction", "customer")
    assert need_spec.wanted == {item.key: item.weight for item in need.wanted}
    assert need_spec.has_columns == need.has_columns
    # the window the model trains on (its spec), which the share's retention must cover to be worth it
    assert need.training_days == need_spec.training_days == spec.training.train_days
    assert need_spec.retention_days >= spec.training.train_days
    assert f"{result.auc_baseline:.3f}" in need.prompt and "merchant_category" in need.prompt and "channel" in need.prompt


def test_a_feature_the_model_already_has_is_not_wanted(drifted, deliver_share):
    spec, result = drifted
    payments_share = deliver_share("payments", "transactions")
    with_payments = train_model(spec, [payments_share])
    need = build_data_need(result, spec, plan=with_payments.plan)
    keys = {item.key for item in need.wanted}
    assert {"channel", "device"}.isdisjoint(keys) and "account_age" in keys
    assert {"channel", "device_id"} <= set(need.has_columns)


def test_no_joinable_producer_is_a_clear_error(drifted, tmp_path):
    spec, result = drifted
    for domain in ("risk", "marketing"):  # the consumer, and a producer whose data is not for fraud
        shutil.copytree(default_domains_dir() / domain, tmp_path / domain)
    with pytest.raises(NeedError, match="no other domain offers feature columns joinable on"):
        build_data_need(result, spec, catalog=load_catalog(tmp_path))


def test_a_healthy_model_raises_no_need(drifted, deliver_share):
    spec, _ = drifted
    payments_share = deliver_share("payments", "transactions")
    save_model(train_model(spec, [payments_share]))
    healthy = run_monitor(spec)
    assert healthy.passed
    with pytest.raises(NeedError, match="nothing degraded"):
        build_data_need(healthy, spec)


def _tickets_tried_and_revoked(catalog, model: str = "fraud_model"):
    """What the exchange does after the model retrained with the support tickets and they did not help."""
    platform = SharingPlatform.from_environment(catalog)
    terms = fraud_terms(producer="support", dataset="tickets", columns=TICKET_COLUMNS)
    (tickets,) = sign_agreements([agreement_for(terms, platform.gate)], **platform.signing).contracts
    judge_and_act(platform, "risk", {tickets.contract_id: -0.015}, model=model, evidence="run-1", min_uplift=0.015)
    assert platform.store.get(tickets.contract_id).status is ContractStatus.revoked
    return tickets


def _asks_for_tickets(need) -> bool:
    return any(c.startswith("support.tickets.") for item in need.wanted for c in item.columns)


def test_a_share_revoked_for_not_helping_is_not_asked_for_again(drifted, share_catalog):
    spec, result = drifted
    assert _asks_for_tickets(build_data_need(result, spec))  # first degradation: the tickets are worth a try
    tickets = _tickets_tried_and_revoked(share_catalog)
    need = build_data_need(result, spec)
    assert not _asks_for_tickets(need)
    assert {"channel", "device", "account_age"} <= {item.key for item in need.wanted}  # the rest is still asked for
    # why, visible in the need (the monitor's hurricane/data_need metadata) and in its prompt
    (left,) = need.left_out
    assert (left.producer, left.dataset, left.contract_id) == ("support", "tickets", tickets.contract_id)
    assert left.columns == ("category", "customer_id", "priority", "satisfaction")
    assert left.uplift == -0.015 and "uplift -0.0150 < 0.0150" in left.why
    assert (left.retry_after - left.revoked_at).days == spec.training.train_days
    assert "support.tickets" in need.prompt and "revoked" in need.prompt
    assert '"left_out"' in need.model_dump_json() and tickets.contract_id in need.model_dump_json()


def test_a_revoked_share_is_asked_for_again_after_one_training_window(drifted, share_catalog):
    spec, result = drifted
    _tickets_tried_and_revoked(share_catalog)
    (left,) = build_data_need(result, spec).left_out
    just_before = build_data_need(result, spec, now=left.retry_after - timedelta(minutes=1))
    assert not _asks_for_tickets(just_before) and just_before.left_out == (left,)
    later = build_data_need(result, spec, now=left.retry_after)
    assert _asks_for_tickets(later) and later.left_out == ()


def test_another_models_verdict_leaves_nothing_out(drifted, share_catalog):
    spec, result = drifted
    _tickets_tried_and_revoked(share_catalog, model="other_model")
    need = build_data_need(result, spec)
    assert _asks_for_tickets(need) and need.left_out == ()
