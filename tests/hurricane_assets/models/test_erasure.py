"""An erased person leaves the model store: every stored version's reference loses their row at the
next masked write into the domain's environment, and the monitor keeps working on what is left."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from hurricane_assets.catalog import load_catalog
from hurricane_assets.ledger.ledger import Ledger
from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.erasure import load_erasures, request_erasure
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.models.erasure import UNATTRIBUTED
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import (
    REFERENCE,
    StoredModelError,
    load_model,
    model_dir,
    pending_retrain,
    save_model,
    versions,
)
from hurricane_assets.models.subjects import SUBJECT_PREFIX, digests, subject_column
from hurricane_assets.models.training import LABEL, TrainingError, load_training_data, train_model
from hurricane_assets.monitoring.monitor import run_monitor
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


@pytest.fixture
def churn(install_world):
    """The churn model (one row per customer) trained on the calm world, stored twice: v0001 and v0002."""
    install_world("calm")
    spec = load_model_spec("marketing", "churn_model")
    trained = train_model(spec)
    save_model(trained)
    save_model(trained)
    return spec


def features_of(reference: pd.DataFrame) -> pd.DataFrame:
    return reference[[c for c in reference.columns if not c.startswith(SUBJECT_PREFIX)]]


def victim(spec) -> tuple[str, str, pd.Series]:
    """A customer of the training window whose reference row (features and label) no one else has:
    (prod id, preprod token, that row), found from the training rows, not from the stored digests."""
    data = load_training_data(spec)
    fit, holdout = data.window()
    tokens = data.rows.loc[fit.append(holdout), "customer_id"].reset_index(drop=True)
    reference = features_of(load_model(spec.domain, spec.name).reference())
    unique = ~reference.duplicated(keep=False)
    position = int(unique.to_numpy().argmax())
    token = tokens[position]
    prod = read_table(hurricane_paths().table_uri("prod", "marketing", "churn_labels"))["customer_id"].to_pylist()
    copy = read_table(hurricane_paths().table_uri("preprod", "marketing", "churn_labels"))["customer_id"].to_pylist()
    assert len(prod) == len(copy)  # masking keeps the rows in order
    return prod[copy.index(token)], token, reference.iloc[position]


def stored_strings(path) -> set[str]:
    table = pq.read_table(path)
    return {str(v) for column in table.itercolumns() for v in column.to_pylist()} | {table.schema.to_string()}


def test_an_erased_customer_leaves_every_stored_version_and_the_monitor_still_runs(churn):
    subject, token, row = victim(churn)
    digest = digests([token], Keyring.load("preprod"), "customer")[0]
    before = {v: load_model("marketing", "churn_model", v).reference() for v in versions("marketing", "churn_model")}
    for reference in before.values():
        assert (reference[subject_column("customer_id")] == digest).sum() == 1
        assert (features_of(reference) == row).all(axis=1).sum() == 1
    for version in before:  # the reference names persons by digest only: neither the id nor the token
        assert not {subject, token} & stored_strings(model_dir("marketing", "churn_model") / version / REFERENCE)

    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    report = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")

    assert report.erasure["rows_removed"] == 1
    assert report.erasure["model_references"] == {
        "rows_removed": {"churn_model/v0001": 1, "churn_model/v0002": 1}, "dropped": {},
        "persons_removed": {"churn_model/v0001": 1, "churn_model/v0002": 1},
        "retrain": {"churn_model": "1 erased person(s) in its training window"}}
    for version, old in before.items():
        after = load_model("marketing", "churn_model", version).reference()
        assert digest not in set(after[subject_column("customer_id")])
        assert not (features_of(after) == row).all(axis=1).any(), "the erased person's feature row is still stored"
        kept = old[old[subject_column("customer_id")] != digest].reset_index(drop=True)
        pd.testing.assert_frame_equal(after, kept)  # everyone else's rows, as they were
        assert not list((model_dir("marketing", "churn_model") / version).glob(".*tmp"))
    result = run_monitor(churn)
    assert result.reference_rows == len(before["v0002"]) - 1 and result.model_version == "v0002"

    again = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")  # applied once: nothing left
    assert again.erasure["model_references"] == {"rows_removed": {}, "dropped": {}, "persons_removed": {}, "retrain": {}}


def test_a_reference_stored_before_it_named_its_persons_is_dropped_at_the_first_erasure(churn):
    """It cannot tell an erased person's row from anyone's: it goes whole, the report says why, and
    the version still loads; its monitor asks for a retrain instead of reading a missing file."""
    path = model_dir("marketing", "churn_model") / "v0001"
    old = pd.read_parquet(path / REFERENCE)
    old = old.drop(columns=[c for c in old.columns if c.startswith(SUBJECT_PREFIX)])
    old.attrs = {}
    old.to_parquet(path / REFERENCE, index=False)  # as save_model wrote it before this change
    assert list(load_model("marketing", "churn_model", "v0001").reference().columns)[-1] == LABEL

    nobody_yet = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")
    assert nobody_yet.erasure["model_references"] == {"rows_removed": {}, "dropped": {}, "persons_removed": {}, "retrain": {}}
    assert (path / REFERENCE).exists()  # an empty register erases nobody: the old reference stays

    subject, _, _ = victim(churn)
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    report = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")

    assert report.erasure["model_references"] == {
        "rows_removed": {"churn_model/v0002": 1}, "dropped": {"churn_model/v0001": UNATTRIBUTED},
        "persons_removed": {"churn_model/v0001": 1, "churn_model/v0002": 1},
        "retrain": {"churn_model": "1 erased person(s) in its training window"}}
    assert not (path / REFERENCE).exists()
    stored = load_model("marketing", "churn_model", "v0001")
    assert stored.version == "v0001" and stored.plan.names
    with pytest.raises(StoredModelError, match=r"v0001/reference\.parquet: no reference .*retrain the model"):
        stored.reference()


def test_a_reference_made_under_a_rotated_masking_key_is_dropped(churn, hurricane_home):
    """After a key rotation the stored digests match no one: the reference cannot be kept."""
    subject, _, _ = victim(churn)
    key = hurricane_home / "keys" / "masking-preprod.key"
    key.write_text("ab" * 32)
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    report = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")
    dropped = report.erasure["model_references"]["dropped"]
    assert set(dropped) == {"churn_model/v0001", "churn_model/v0002"}
    assert "made with masking key" in dropped["churn_model/v0001"]
    assert not (model_dir("marketing", "churn_model") / "v0002" / REFERENCE).exists()


def retrain_requests(spec) -> list:
    """What the domain's erasure-retrain sensor (as its code location defines it) asks for now."""
    import dagster as dg

    from hurricane_assets.dagster_layer.models import build_model_definitions

    assets, sensors = build_model_definitions(spec.domain)
    defs = dg.Definitions(assets=assets, sensors=sensors)
    sensor = defs.resolve_sensor_def(f"{spec.domain}_models_erasure_retrain")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def())
        result = sensor.evaluate_tick(context)
    return [(r.run_key, [k.to_user_string() for k in r.asset_selection]) for r in result.run_requests or []]


def test_a_model_that_learned_from_an_erased_person_is_retrained_without_them(churn):
    """The reference losing the person's row is not enough: the served estimator was fitted on it. The
    erasure asks for a retrain of the current version, the domain's sensor requests it once, and the
    retrain leaves the person out; the new version asks for nothing."""
    subject, token, _ = victim(churn)
    assert retrain_requests(churn) == []
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")

    assert pending_retrain("marketing", "churn_model") == {
        "version": "v0002", "reason": "1 erased person(s) in its training window", "key": "v0002"}
    assert retrain_requests(churn) == [("erasure-retrain-churn_model-v0002", ["marketing/churn_model"])]

    retrained = train_model(churn)
    assert retrained.erased_rows == 0  # the copy was refreshed without them before the retrain read it
    save_model(retrained)
    assert pending_retrain("marketing", "churn_model") is None and retrain_requests(churn) == []
    digest = digests([token], Keyring.load("preprod"), "customer")[0]
    assert digest not in set(load_model("marketing", "churn_model").reference()[subject_column("customer_id")])


def test_a_retrain_reading_a_copy_older_than_the_request_leaves_the_person_out(churn):
    """The copy has not been refreshed since the request (its asset runs later): the training rows
    still hold the person, and the fit drops them itself."""
    subject, token, _ = victim(churn)
    before = load_training_data(churn)
    assert (before.rows["customer_id"] == token).sum() == 1
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)

    data = load_training_data(churn)
    assert data.erased_rows == 1 and not (data.rows["customer_id"] == token).any()
    assert len(data.rows) == len(before.rows) - 1
    retrained = train_model(churn)
    assert retrained.erased_rows == 1
    digest = digests([token], Keyring.load("preprod"), "customer")[0]
    assert digest not in set(retrained.reference[subject_column("customer_id")])


def test_a_person_erased_while_the_model_trains_is_caught_when_it_is_stored(churn):
    """The fit read the copy before the request; the copy's refresh marked the version then current;
    the fit's save makes a new version holding the person: the save's own erasure pass marks that one."""
    from hurricane_assets.models.erasure import erase_from_models

    subject, token, _ = victim(churn)
    trained = train_model(churn)  # the register is still empty
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")
    assert pending_retrain("marketing", "churn_model")["version"] == "v0002"

    stored = save_model(trained)  # then, as the model asset does, the register over the store
    erased = erase_from_models("marketing", Keyring.load("preprod"), load_erasures(), catalog=load_catalog())
    assert stored.version == "v0003" and erased.persons_removed == {"churn_model/v0003": 1}
    assert pending_retrain("marketing", "churn_model") == {
        "version": "v0003", "reason": "1 erased person(s) in its training window", "key": "v0003"}
    assert retrain_requests(churn) == [("erasure-retrain-churn_model-v0003", ["marketing/churn_model"])]


def test_a_retrain_on_a_copy_masked_under_a_rotated_key_fails_while_anyone_is_erased(churn, hurricane_home):
    """After a rotation the copy's tokens match no erased person: training on it would learn from them
    again, so it fails, saying which copy to refresh; the refreshed copy trains."""
    subject, _, _ = victim(churn)
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    (hurricane_home / "keys" / "masking-preprod.key").write_text("ab" * 32)
    with pytest.raises(TrainingError, match=r"marketing\.churn_labels@preprod was masked with another key than "
                                            r"preprod's current one.*refresh that copy"):
        train_model(churn)
    for dataset in ("churn_labels", "web_sessions"):  # the model's rows and its own source, under the new key
        copy_masked(load_catalog(), "marketing", dataset, "preprod")
    assert train_model(churn).erased_rows == 0


def test_a_person_outside_the_sampled_reference_still_retrains_the_model(churn, monkeypatch):
    """Above REFERENCE_CAP rows the reference is a sample; whom the version learnt from is kept whole
    (subjects.parquet), so erasing a person the sample missed still asks for the retrain."""
    from hurricane_assets.models import training

    monkeypatch.setattr(training, "REFERENCE_CAP", 50)
    stored = save_model(train_model(churn))
    data = load_training_data(churn)
    fit, holdout = data.window()
    keyring = Keyring.load("preprod")
    sampled = set(load_model("marketing", "churn_model").reference()[subject_column("customer_id")])
    token = next(t for t in data.rows.loc[fit, "customer_id"]
                 if digests([t], keyring, "customer")[0] not in sampled)
    prod = read_table(hurricane_paths().table_uri("prod", "marketing", "churn_labels"))["customer_id"].to_pylist()
    copy = read_table(hurricane_paths().table_uri("preprod", "marketing", "churn_labels"))["customer_id"].to_pylist()
    request_erasure("customer", prod[copy.index(token)], reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    report = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")

    references = report.erasure["model_references"]
    assert f"churn_model/{stored.version}" not in references["rows_removed"]  # the sample never held them
    assert references["persons_removed"][f"churn_model/{stored.version}"] == 1
    assert pending_retrain("marketing", "churn_model")["version"] == stored.version
    people = pd.read_parquet(model_dir("marketing", "churn_model") / stored.version / "subjects.parquet")
    assert digests([token], keyring, "customer")[0] not in set(people["digest"])


@pytest.mark.parametrize("damage", ["garbage", "attrs"])
def test_an_unreadable_reference_is_dropped_and_the_copy_still_completes(churn, damage):
    """One bad file must not stop the erasure (of other versions, and of the copy's own report): it may
    hold the person, so it goes, and the current version is retrained."""
    subject, _, _ = victim(churn)
    path = model_dir("marketing", "churn_model") / "v0002" / REFERENCE
    if damage == "garbage":
        path.write_bytes(b"PAR1 truncated")
    else:  # what it says about its rows is not what this code wrote
        frame = pd.read_parquet(path)
        frame.attrs["dh.reference_subjects"]["salt"] = "x"
        frame.to_parquet(path, index=False)
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(), now=NOW)
    report = copy_masked(load_catalog(), "marketing", "churn_labels", "preprod")

    references = report.erasure["model_references"]
    assert references["rows_removed"] == {"churn_model/v0001": 1}
    assert references["dropped"]["churn_model/v0002"].startswith("its reference or subjects file could not be read")
    assert not path.exists() and not (path.parent / "subjects.parquet").exists()
    assert pending_retrain("marketing", "churn_model")["version"] == "v0002"
    stored_report = json.loads((Path(hurricane_paths().table_uri("preprod", "marketing", "churn_labels"))
                                / "_privacy_report.json").read_text())
    assert stored_report["erasure"]["model_references"] == references
