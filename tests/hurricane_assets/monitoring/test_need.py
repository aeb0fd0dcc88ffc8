"""The data need a failed monitor raises: explainable wanted items, nothing the model already has."""

from __future__ import annotations

import shutil

import pytest

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import save_model
from hurricane_assets.models.training import train_model
from hurricane_assets.monitoring.monitor import run_monitor
from hurricane_assets.monitoring.need import NeedError, build_data_need
from negotiation_graph.terms import Environment, NeedSpec


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
