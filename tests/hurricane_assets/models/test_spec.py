from __future__ import annotations

import pytest
import yaml

from hurricane_assets.models.spec import ModelSpecError, load_model_spec, load_model_specs

RISK = {
    "models": {
        "fraud_model": {
            "purpose": "fraud_detection",
            "rows": "alerts",
            "time_column": "created_at",
            "entity_keys": {"transaction": "txn_id", "customer": "customer_id"},
            "label": {"dataset": "fraud_labels", "column": "is_fraud", "join_on": "txn_id"},
            "features": ["amount", "merchant_category"],
        }
    }
}


def test_the_domains_specs_load_against_the_catalog():
    fraud = load_model_spec("risk", "fraud_model")
    assert (fraud.domain, fraud.rows, fraud.training.environment) == ("risk", "alerts", "preprod")
    assert fraud.entity_keys == {"transaction": "txn_id", "customer": "customer_id"}
    assert fraud.features == ("amount", "merchant_category", "hour_of_day", "rule_score")
    assert fraud.datasets == ("alerts", "fraud_labels")
    churn = load_model_spec("marketing", "churn_model")
    assert churn.own_sources[0].dataset == "web_sessions" and churn.purpose == "churn_prediction"


def test_a_domain_without_models_has_none():
    assert load_model_specs("payments") == {}


def test_an_unknown_model_names_the_known_ones():
    with pytest.raises(KeyError, match="fraud_model"):
        load_model_spec("risk", "nope")


def _with(path, change):
    spec = yaml.safe_load(yaml.safe_dump(RISK))
    change(spec["models"]["fraud_model"])
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda m: m.update(rows="nope"), "models.fraud_model.rows", "risk has no dataset 'nope'"),
        (lambda m: m["features"].append("colour"), "models.fraud_model.features.2", "has no column 'colour'"),
        (lambda m: m["label"].update(column="txn_id"), "models.fraud_model.label.column", "must be a bool column"),
        (lambda m: m["label"].pop("join_on"), "models.fraud_model.label.join_on", "required"),
        (lambda m: m["entity_keys"].update(customer="txn_id"), "models.fraud_model.entity_keys.customer", "refers to"),
        (lambda m: m["entity_keys"].pop("transaction"), "models.fraud_model.entity_keys", "rows' own entity"),
        (lambda m: m.update(purpose="marketing_campaigns"), "models.fraud_model.purpose", "does not allow purpose"),
        (lambda m: m.update(training={"environment": "dev"}), "models.fraud_model.training.environment", "not allowed in dev"),
        (lambda m: m.update(time_column="amount"), "models.fraud_model.time_column", "timestamp"),
        (lambda m: m.update(colour="red"), "models.fraud_model.colour", "Extra inputs"),
        (lambda m: m.update(thresholds={"auc_drop": 2}), "models.fraud_model.thresholds.auc_drop", "less than 1"),
    ],
)
def test_a_bad_spec_names_file_field_and_reason(tmp_path, change, field, reason):
    path = _with(tmp_path / "models.yaml", change)
    with pytest.raises(ModelSpecError) as caught:
        load_model_specs("risk", path=path)
    assert caught.value.path == str(path)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  fraud_model: [\n")
    with pytest.raises(ModelSpecError, match=r"models.yaml: line \d+: not valid YAML"):
        load_model_specs("risk", path=path)


def test_a_file_without_models_is_refused(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(ModelSpecError, match="<root>"):
        load_model_specs("risk", path=path)
