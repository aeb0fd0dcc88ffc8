from __future__ import annotations

import json

import numpy as np
import pytest

from hurricane_assets.models.features import FeaturePlan
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import ModelNotFound, StoredModelError, load_model, model_dir, save_model, versions
from hurricane_assets.models.training import predict, train_model
from tests.hurricane_assets.models.tiny_model import malicious_model_file, malicious_pickle, tiny_model


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
    # features, the label, then per entity column of the rows a keyed digest of whose row it is (erasure)
    assert list(reference.columns) == [*trained.plan.names, "__label__", "__subject__txn_id", "__subject__customer_id"]
    assert reference.attrs["dh.reference_subjects"]["columns"] == {"txn_id": "transaction", "customer_id": "customer"}
    sample = reference[trained.plan.names].iloc[:20]
    np.testing.assert_array_equal(predict(loaded.estimator, sample), predict(trained.estimator, sample))
    assert load_model("risk", "fraud_model", "v0001").version == "v0001"


def test_a_missing_model_or_version_is_a_clear_error(hurricane_home):
    with pytest.raises(ModelNotFound, match="no trained model risk.fraud_model"):
        load_model("risk", "fraud_model")
    (model_dir("risk", "fraud_model")).mkdir(parents=True)
    with pytest.raises(ModelNotFound, match="has no version 'v0007'"):
        load_model("risk", "fraud_model", "v0007")


def _stored_source(**location) -> dict:
    facts = {"type": "string", "classification": "internal", "sensitivity": 1, "refers_to": "transaction"}
    return {"contract_id": "ctr-1", "producer": "payments", "dataset": "transactions",
            "columns": {"txn_id": facts}, "join_entity": "transaction", **location}


def _plan_with(source: dict) -> dict:
    return {"own": [], "sources": [{"source": source, "join": "direct", "source_key": "txn_id", "rows_key": "txn_id",
                                    "features": []}]}


@pytest.mark.parametrize("written_in", ["/old/home", "s3://bucket/prefix"])
def test_an_absolute_path_stored_before_names_reads_the_current_homes_table(hurricane_home, written_in):
    plan = FeaturePlan.model_validate(_plan_with(_stored_source(uri=f"{written_in}/envs/preprod/risk/payments__transactions")))
    (part,) = plan.sources
    assert (part.source.environment, part.source.holder, part.source.table) == ("preprod", "risk", "payments__transactions")
    assert part.source.uri == str(hurricane_home / "envs" / "preprod" / "risk" / "payments__transactions")
    assert "uri" not in json.loads(plan.model_dump_json())["sources"][0]["source"]  # saved again: by name


def test_a_stored_location_that_cannot_be_resolved_is_a_clear_error(hurricane_home):
    version = model_dir("risk", "fraud_model") / "v0001"
    version.mkdir(parents=True)
    (version / "model.skops").write_bytes(b"never read: the plan is checked first")
    (version / "plan.json").write_text(json.dumps(_plan_with(_stored_source(uri="/nowhere/transactions"))))
    with pytest.raises(StoredModelError, match=r"v0001/plan\.json: .*'/nowhere/transactions' is not inside a home's"):
        load_model("risk", "fraud_model", "v0001")
    # a name that is not one path segment cannot lead a read outside the holder's folder
    escaping = _stored_source(environment="preprod", holder="risk", table="../../prod/payments/transactions")
    (version / "plan.json").write_text(json.dumps(_plan_with(escaping)))
    with pytest.raises(StoredModelError, match=r"sources\.0\.source\.table: String should match pattern"):
        load_model("risk", "fraud_model", "v0001")


def test_a_model_file_replaced_after_it_was_stored_is_refused_before_it_is_read(hurricane_home, tmp_path):
    """An attacker with write access to the model store swaps the model file for one that runs code."""
    stored = save_model(tiny_model())
    marker = tmp_path / "code-ran"
    (stored.path / "model.skops").write_bytes(malicious_model_file(marker))
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: sha256 \w+ does not match \w+ recorded in manifest"):
        load_model("risk", "fraud_model")
    assert not marker.exists()


def test_a_version_without_its_digest_is_refused_before_it_is_read(hurricane_home, tmp_path):
    """Deleting the manifest does not switch the check off."""
    stored = save_model(tiny_model())
    marker = tmp_path / "code-ran"
    (stored.path / "model.skops").write_bytes(malicious_model_file(marker))
    (stored.path / "manifest.json").unlink()
    with pytest.raises(StoredModelError, match=r"v0001/manifest\.json: missing: .*model\.skops has no recorded digest"):
        load_model("risk", "fraud_model")
    (stored.path / "manifest.json").write_text('{"sha256": {}}')
    with pytest.raises(StoredModelError, match=r"manifest\.json: no sha256 of model\.skops"):
        load_model("risk", "fraud_model")
    assert not marker.exists()


def _forge_manifest(version_path, model_bytes: bytes) -> None:
    import hashlib

    (version_path / "model.skops").write_bytes(model_bytes)
    (version_path / "manifest.json").write_text(
        json.dumps({"sha256": {"model.skops": hashlib.sha256(model_bytes).hexdigest()}}))


def test_a_model_file_with_a_matching_manifest_still_runs_no_code(hurricane_home, tmp_path):
    """The attacker rewrites the manifest too (the digest only catches a file changed on its own): the
    file names a class whose rebuilding runs code, and only trusted types are ever rebuilt. A store that
    unpickled, or trusted the types a file lists, creates the marker."""
    stored = save_model(tiny_model())
    marker = tmp_path / "code-ran"
    _forge_manifest(stored.path, malicious_model_file(marker))
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: names types a model does not hold "
                                               r"\(tests\.hurricane_assets\.models\.tiny_model\.Trap\); refused"):
        load_model("risk", "fraud_model")
    assert not marker.exists()


def test_a_trusted_partial_around_an_untrusted_function_is_refused(hurricane_home, tmp_path):
    """functools.partial is trusted (the trees' input check is one): one around a function that runs
    code is refused by that function's name."""
    import functools
    import os

    import skops.io as sio

    stored = save_model(tiny_model())
    _forge_manifest(stored.path, sio.dumps({"check": functools.partial(os.system, f"touch {tmp_path / 'ran'}")}))
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: names types a model does not hold \(posix\.system\)"):
        load_model("risk", "fraud_model")
    assert not (tmp_path / "ran").exists()


def test_a_pickled_model_from_an_earlier_release_is_never_unpickled(hurricane_home, tmp_path):
    """A version an earlier release stored (model.joblib and its digest), or one an attacker made look
    like it: refused by name, with what to do, and its pickle is not opened."""
    import hashlib

    stored = save_model(tiny_model())
    marker = tmp_path / "code-ran"
    (stored.path / "model.skops").unlink()
    evil = malicious_pickle(marker)
    (stored.path / "model.joblib").write_bytes(evil)
    (stored.path / "manifest.json").write_text(json.dumps({"sha256": {"model.joblib": hashlib.sha256(evil).hexdigest()}}))
    with pytest.raises(StoredModelError, match=r"v0001/model\.joblib: a pickle stored by an earlier release; "
                                               r"pickles are not loaded .*: retrain the model"):
        load_model("risk", "fraud_model")
    assert not marker.exists()


def test_a_model_file_that_is_not_a_skops_file_is_a_named_error(hurricane_home):
    stored = save_model(tiny_model())
    _forge_manifest(stored.path, b"PK\x03\x04 truncated")
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: not a model file this store can read"):
        load_model("risk", "fraud_model")


def test_an_estimator_holding_an_untrusted_type_fails_at_save_not_at_load(hurricane_home, tmp_path):
    from dataclasses import replace

    from tests.hurricane_assets.models.tiny_model import Trap

    with pytest.raises(StoredModelError, match=r"risk\.fraud_model: the estimator holds types a load would refuse "
                                               r"\(tests\.hurricane_assets\.models\.tiny_model\.Trap\)"):
        save_model(replace(tiny_model(), estimator=Trap(tmp_path / "x")))
    assert versions("risk", "fraud_model") == []


def _planted_version(folder, marker) -> None:
    """A whole version outside the model's folder whose manifest matches its code-running model file."""
    import shutil

    stored = save_model(tiny_model("risk", "fraud_model"))
    shutil.copytree(stored.path, folder)
    _forge_manifest(folder, malicious_model_file(marker))


@pytest.mark.parametrize("pointer", ["../../payments/planted", "ABSOLUTE", "v0001/../../../payments/planted"])
def test_current_naming_a_folder_outside_the_models_versions_is_refused_before_anything_is_read(
        hurricane_home, tmp_path, pointer):
    """An attacker who can write `current` (or a `version` argument) points it at a folder they filled:
    the digest beside it matches, so only the name stands between the store and unpickling it."""
    planted, marker = hurricane_home / "models" / "payments" / "planted", tmp_path / "code-ran"
    _planted_version(planted, marker)
    pointer = str(planted) if pointer == "ABSOLUTE" else pointer
    (model_dir("risk", "fraud_model") / "current").write_text(pointer)
    with pytest.raises(StoredModelError, match=r"fraud_model/current: names '.*', not a version of the model"):
        load_model("risk", "fraud_model")
    with pytest.raises(StoredModelError, match=r"fraud_model version '.*', not a version of the model"):
        load_model("risk", "fraud_model", pointer)
    assert not marker.exists()


def _forged_trees(tmp_path) -> bytes:
    """A well-formed gradient-boosted model whose first tree's root points far outside its nodes:
    compiled prediction would follow the index unchecked (a crash or an out-of-bounds read)."""
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    features = rng.random((200, 1))
    estimator = HistGradientBoostingClassifier(max_iter=3, min_samples_leaf=1).fit(features, features[:, 0] > 0.5)
    nodes = estimator._predictors[0][0].nodes
    nodes["left"][0] = nodes["right"][0] = 50_000_000
    return sio.dumps(estimator)


def test_a_forged_tree_or_a_non_model_is_refused_after_it_is_built(hurricane_home, tmp_path):
    """Rebuilt from trusted types only, a file can still hold trees whose indices leave their arrays,
    or something that is not a classifier at all: refused by name, never served."""
    stored = save_model(tiny_model())
    _forge_manifest(stored.path, _forged_trees(tmp_path))
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: holds a tree whose indices point outside"):
        load_model("risk", "fraud_model")

    import skops.io as sio

    _forge_manifest(stored.path, sio.dumps([1, 2, 3]))
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: holds a list, not a classifier; refused"):
        load_model("risk", "fraud_model")


def test_a_model_file_that_unpacks_beyond_the_limit_is_refused_before_it_is_built(hurricane_home, monkeypatch):
    from hurricane_assets.models import store

    stored = save_model(tiny_model())
    monkeypatch.setattr(store, "MAX_MODEL_BYTES", 1_000)  # a zip bomb, scaled down: the check reads the zip's sizes
    with pytest.raises(StoredModelError, match=r"v0001/model\.skops: unpacks to [\d,]+ bytes, more than the 1,000"):
        load_model("risk", "fraud_model")
    assert load_model.__module__ == "hurricane_assets.models.store" and stored.version == "v0001"


@pytest.mark.parametrize(("file", "content", "message"), [
    ("v0001/metrics.json", b"{}", r"v0001/metrics\.json: not readable as this store wrote it: .*holdout"),
    ("v0001/metrics.json", b"\xff\xfe", r"v0001/metrics\.json: not readable as this store wrote it: UnicodeDecodeError"),
    ("v0001/plan.json", b"\xff\xfe", r"v0001/plan\.json: not a feature plan this version can read: UnicodeDecodeError"),
    ("v0001/manifest.json", b"[" * 100_000, r"v0001/manifest\.json: no sha256 of model\.skops"),
    ("current", b"\xff\xfe", r"fraud_model/current: not readable as this store wrote it: UnicodeDecodeError"),
])
def test_an_unreadable_file_of_a_version_is_an_error_naming_it(hurricane_home, file, content, message):
    save_model(tiny_model())
    (model_dir("risk", "fraud_model") / file).write_bytes(content)
    with pytest.raises(StoredModelError, match=message):
        load_model("risk", "fraud_model")


def test_an_unreadable_retrain_request_asks_for_one_retrain_and_never_loops(hurricane_home):
    """A marker that cannot be read may have named the current version: one retrain, keyed by the
    file's bytes (the same bad file never asks again), and the retrain's save removes it."""
    from hurricane_assets.models.store import pending_retrain

    save_model(tiny_model())
    marker = model_dir("risk", "fraud_model") / "retrain.json"
    for content in (b"{not json", b"[" * 100_000, b'{"version": 7}'):
        marker.write_bytes(content)
        first = pending_retrain("risk", "fraud_model")
        assert first["version"] == "v0001" and first["key"].startswith("unreadable-") and "unreadable" in first["reason"]
        assert pending_retrain("risk", "fraud_model") == first
    save_model(tiny_model(weight=0.5))
    assert not marker.exists() and pending_retrain("risk", "fraud_model") is None

    marker.mkdir()  # a folder where the file should be: asked once (same key after every save), never removed
    keys = {pending_retrain("risk", "fraud_model")["key"]}
    save_model(tiny_model(weight=0.2))
    keys.add(pending_retrain("risk", "fraud_model")["key"])
    assert len(keys) == 1
