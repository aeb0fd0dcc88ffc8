"""The model store and the monitor's reports on an S3 API (the moto server the tests start), under the
owning domain's own prefix and credentials: a model trained in one pod is loaded in another."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import write_deltalake

from hurricane_assets import object_files
from hurricane_assets.masking.copy import failed_report_path
from hurricane_assets.models import store_files
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import ModelNotFound, StoredModelError, load_model, model_dir, save_model, versions
from hurricane_assets.models.training import predict, train_model
from hurricane_assets.monitoring.monitor import run_monitor
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table, storage_options
from tests.hurricane_assets.models.tiny_model import malicious_model_file, tiny_model

pytestmark = pytest.mark.e2e
VERSION_FILES = ["manifest.json", "metrics.json", "model.skops", "plan.json", "reference.parquet"]


@pytest.fixture
def risk_root(s3_root, monkeypatch) -> str:
    """risk's own prefix and keys, as its pods get them (moto accepts any keys)."""
    root = f"{s3_root}/risk-domain"
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT_RISK", root)
    monkeypatch.setenv("HURRICANE_AWS_ACCESS_KEY_ID_RISK", "risk-key")
    monkeypatch.setenv("HURRICANE_AWS_SECRET_ACCESS_KEY_RISK", "risk-secret")
    return root


def objects(s3_server, prefix: str) -> list[str]:
    """Keys under `prefix` (an s3:// URI), relative to it, read with boto3: not through the code under test."""
    key = prefix.removeprefix(f"s3://{s3_server.bucket}/").rstrip("/") + "/"
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=key)
    return sorted(o["Key"].removeprefix(key) for o in listed.get("Contents", []))


def test_a_model_stored_in_one_pod_is_loaded_whole_in_another_from_its_domains_prefix(
        risk_root, s3_server, hurricane_home, tmp_path, monkeypatch):
    trained = tiny_model()
    stored = save_model(trained)
    root = f"{risk_root}/models/risk/fraud_model"
    assert stored.path == f"{root}/v0001"
    assert objects(s3_server, root) == ["current", *(f"v0001/{name}" for name in VERSION_FILES)]
    assert not (hurricane_home / "models").exists()

    monkeypatch.setenv("HURRICANE_HOME", str(tmp_path / "monitor-pod"))  # another pod: nothing local in common
    loaded = load_model("risk", "fraud_model")
    assert (loaded.version, loaded.plan, loaded.metrics) == ("v0001", trained.plan, trained.metrics)
    pd.testing.assert_frame_equal(loaded.reference(), trained.reference)
    features = trained.reference[["amount"]]
    np.testing.assert_array_equal(predict(loaded.estimator, features), predict(trained.estimator, features))
    assert versions("risk", "fraud_model") == ["v0001"]


class Crash(Exception):
    """The pod dies here."""


def test_current_names_a_version_only_after_every_file_of_it_is_on_s3(risk_root, s3_server, monkeypatch):
    first = save_model(tiny_model())
    root = model_dir("risk", "fraud_model")
    features = first.reference()[["amount"]]

    def no_pointer(*_):
        raise Crash

    with monkeypatch.context() as crash:  # every file of v0002 written, then the crash before `current`
        crash.setattr(store_files, "set_pointer", no_pointer)
        with pytest.raises(Crash):
            save_model(tiny_model(weight=0.01))
    assert objects(s3_server, f"{root}/v0002") == VERSION_FILES
    assert object_files.read_text(f"{root}/current") == "v0001"
    served = load_model("risk", "fraud_model")
    assert served.version == "v0001"
    np.testing.assert_array_equal(predict(served.estimator, features), predict(first.estimator, features))

    write_bytes = object_files.write_bytes

    def dies_at_the_model_file(target, data):
        if str(target).endswith("/model.skops"):
            raise Crash
        write_bytes(target, data)

    with monkeypatch.context() as crash:  # the crash half-way through v0003's files
        crash.setattr(object_files, "write_bytes", dies_at_the_model_file)
        with pytest.raises(Crash):
            save_model(tiny_model(weight=0.1))
    assert objects(s3_server, f"{root}/v0003") == ["metrics.json", "plan.json", "reference.parquet"]
    assert load_model("risk", "fraud_model").version == "v0001"
    with pytest.raises(ModelNotFound, match="has no version 'v0003'"):
        load_model("risk", "fraud_model", "v0003")

    assert save_model(tiny_model()).version == "v0004"  # a prefix left by a crash is never reused
    assert load_model("risk", "fraud_model").version == "v0004"


def test_a_model_object_replaced_on_s3_is_refused_before_it_is_read(risk_root, s3_server, tmp_path):
    """The attacker writes the object with their own client, past the platform's code."""
    stored = save_model(tiny_model())
    marker = tmp_path / "code-ran"
    model_file = f"{stored.path}/model.skops"
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=model_file.removeprefix(f"s3://{s3_server.bucket}/"),
                                  Body=malicious_model_file(marker))
    with pytest.raises(StoredModelError, match=re.escape(model_file) + r": sha256 \w+ does not match"):
        load_model("risk", "fraud_model")
    assert not marker.exists()


def test_a_domains_models_and_reports_are_reached_with_its_own_keys_never_another_domains(risk_root, s3_root, monkeypatch):
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT_PAYMENTS", f"{s3_root}/payments-domain")
    monkeypatch.setenv("HURRICANE_AWS_ACCESS_KEY_ID_PAYMENTS", "payments-key")
    monkeypatch.setenv("HURRICANE_AWS_SECRET_ACCESS_KEY_PAYMENTS", "payments-secret")
    paths = hurricane_paths()
    risk_model = f"{model_dir('risk', 'fraud_model')}/v0001/model.skops"
    risk_report = f"{paths.domain_reports('risk')}/monitors/risk/fraud_model/v0001-0123456789abcdef.html"
    failed_copy = str(failed_report_path("preprod", "risk", "alerts"))  # a masked copy's report that failed closed
    assert risk_model.startswith(f"{risk_root}/models/risk/") and risk_report.startswith(f"{risk_root}/reports/")
    assert failed_copy.startswith(f"{risk_root}/reports/masking/risk/")
    assert {storage_options(uri)["AWS_ACCESS_KEY_ID"] for uri in (risk_model, risk_report, failed_copy)} == {"risk-key"}
    payments_model = f"{model_dir('payments', 'some_model')}/v0001/model.skops"
    assert payments_model.startswith(f"{s3_root}/payments-domain/models/payments/")
    assert storage_options(payments_model)["AWS_ACCESS_KEY_ID"] == "payments-key"
    # payments' pod holds its own keys and not risk's: risk's objects get the process's keys, never payments'
    for name in ("HURRICANE_AWS_ACCESS_KEY_ID_RISK", "HURRICANE_AWS_SECRET_ACCESS_KEY_RISK"):
        monkeypatch.delenv(name)
    assert storage_options(risk_model)["AWS_ACCESS_KEY_ID"] == "hurricane-local"


def copy_tables_to(env: str, domain: str, home: Path) -> None:
    """`domain`'s `env` tables of the locally installed world to where the settings put them now."""
    for table in sorted((home / "envs" / env / domain).iterdir()):
        uri = hurricane_paths().table_uri(env, domain, table.name)
        write_deltalake(uri, read_table(str(table)), storage_options=storage_options(uri))


def test_the_monitor_reads_a_model_trained_in_another_pod_and_writes_its_report_to_s3(
        risk_root, s3_server, install_world, hurricane_home, tmp_path, monkeypatch):
    install_world("calm")
    copy_tables_to("preprod", "risk", hurricane_home)  # the fraud model's rows and labels, in risk's prefix
    spec = load_model_spec("risk", "fraud_model")
    save_model(train_model(spec))

    monkeypatch.setenv("HURRICANE_HOME", str(tmp_path / "monitor-pod"))
    result = run_monitor(spec)
    assert result.model_version == "v0001" and result.passed
    reports = f"{risk_root}/reports/monitors/risk/fraud_model"
    assert result.report_path == f"{reports}/v0001-{result.monitor_id}.html"
    assert objects(s3_server, reports) == [f"v0001-{result.monitor_id}.html"]
    html = object_files.read_text(result.report_path)
    assert html.lstrip().lower().startswith("<!doctype html>") and html.rstrip().endswith("</html>")  # whole
    assert not (tmp_path / "monitor-pod" / "reports").exists() and not (hurricane_home / "reports").exists()


def test_a_retrain_request_lives_beside_current_on_s3_and_the_next_save_answers_it(risk_root, s3_server):
    """The erasure's request to retrain, written and read by the domain's own pods on its prefix."""
    from hurricane_assets.models.store import pending_retrain, request_retrain

    save_model(tiny_model())
    root = f"{risk_root}/models/risk/fraud_model"
    request_retrain("risk", "fraud_model", "v0001", "1 erased person(s) in its training window")
    assert "retrain.json" in objects(s3_server, root)
    assert pending_retrain("risk", "fraud_model") == {
        "version": "v0001", "reason": "1 erased person(s) in its training window", "key": "v0001"}
    save_model(tiny_model(weight=0.5))
    assert "retrain.json" not in objects(s3_server, root) and pending_retrain("risk", "fraud_model") is None
