"""The demo's timeline of a monitor step, from the metadata the monitor asset writes."""

from __future__ import annotations

from rich.console import Console

from hurricane_assets.cli import timeline
from hurricane_assets.dagster_layer.embedded_loop import LoopEvent

MONITOR = {"hurricane/auc_current": 0.70, "hurricane/auc_baseline": 0.92, "hurricane/drifted_features": {"amount": 0.75}}


def shown(monkeypatch, meta: dict) -> str:
    console = Console(record=True, width=200)
    monkeypatch.setattr(timeline, "console", console)
    checks = [("risk/fraud_model_monitor", "performance_within_bounds", False, "ROC AUC 0.700 vs baseline 0.920")]
    timeline.show_models(LoopEvent("models", "monitors re-run", {"assets": {"risk/fraud_model_monitor": meta},
                                                                "checks": checks}))
    return console.export_text()


def test_a_failed_monitor_without_a_need_says_why(monkeypatch):
    reason = "risk.fraud_model: no other domain offers feature columns joinable on ['customer', 'transaction']"
    text = shown(monkeypatch, {**MONITOR, "hurricane/no_data_need": reason})
    assert f"checks failed, no data need: {reason}" in text
    assert "✗ risk/fraud_model_monitor performance_within_bounds" in text


def test_a_failed_monitor_with_a_need_names_it(monkeypatch):
    need = {"need_id": "need-risk-fraud_model-abc", "purpose": "fraud_detection", "environment": "preprod",
            "wanted": [{"key": "channel", "weight": 1.55, "why": "drifted"}]}
    text = shown(monkeypatch, {**MONITOR, "hurricane/data_need": need, "hurricane/prompt": "The risk domain asks"})
    assert "data need need-risk-fraud_model-abc for fraud_detection in preprod" in text
    assert "no data need" not in text


def test_a_stale_model_is_shown_as_not_measured(monkeypatch):
    reason = "risk.fraud_model v0002 was trained with share(s) ctr-1, no longer active (revoked or expired)"
    text = shown(monkeypatch, {"hurricane/stale_model": reason})  # no AUC: the monitor did not score
    assert f"risk/fraud_model_monitor: not measured: {reason}" in text


def delivered(monkeypatch, entry) -> str:
    console = Console(record=True, width=200)
    monkeypatch.setattr(timeline, "console", console)
    run = {"risk/payments__transactions": {"dagster/row_count": 10, "dagster/uri": "envs/preprod/risk/x",
                                           "hurricane/delivered_entry": entry}}
    timeline.show_delivery(LoopEvent("delivery", "delivery sensor: 1 delivery run(s)", {"runs": [run]}))
    return console.export_text()


def test_an_unchanged_delivery_says_so_rather_than_ledger_entry_none(monkeypatch):
    assert "unchanged since the last delivery (no new ledger entry)" in delivered(monkeypatch, None)
    assert "ledger entry None" not in delivered(monkeypatch, None)
    assert "ledger entry {'seq': 7" in delivered(monkeypatch, {"seq": 7, "entry_hash": "ab"})
