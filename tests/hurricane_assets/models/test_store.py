from __future__ import annotations

import numpy as np
import pytest

from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import ModelNotFound, load_model, model_dir, save_model, versions
from hurricane_assets.models.training import predict, train_model


def test_versions_current_pointer_and_round_trip(install_world, hurricane_home):
    install_world("calm")
    spec = load_model_spec("risk", "fraud_model")
    trained = train_model(spec)
    first, second = save_model(trained), save_model(trained)
    assert (first.version, second.version) == ("v0001", "v0002")
    assert versions("risk", "fraud_model") == ["v0001", "v0002"]
    root = model_dir("risk", "fraud_model")
    assert root == hurricane_home / "models" / "risk" / "fraud_model"
    assert (root / "current").read_text() == "v0002"
    assert not list(root.glob(".*tmp"))

    loaded = load_model("risk", "fraud_model")
    assert loaded.version == "v0002" and loaded.metrics == trained.metrics and loaded.plan == trained.plan
    reference = loaded.reference()
    assert list(reference.columns) == [*trained.plan.names, "__label__"]
    sample = reference[trained.plan.names].iloc[:20]
    np.testing.assert_array_equal(predict(loaded.estimator, sample), predict(trained.estimator, sample))
    assert load_model("risk", "fraud_model", "v0001").version == "v0001"


def test_a_missing_model_or_version_is_a_clear_error(hurricane_home):
    with pytest.raises(ModelNotFound, match="no trained model risk.fraud_model"):
        load_model("risk", "fraud_model")
    (model_dir("risk", "fraud_model")).mkdir(parents=True)
    with pytest.raises(ModelNotFound, match="has no version 'v0007'"):
        load_model("risk", "fraud_model", "v0007")
