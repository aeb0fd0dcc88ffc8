"""The model store: versioned models per domain and model, with a `current` pointer.

    <home>/models/<domain>/<model>/            (<domain's storage root>/models/... when that is S3)
        v0001/ model.skops  plan.json  metrics.json  reference.parquet  subjects.parquet  manifest.json
        current            # "v0001"
        retrain.json       # only while the current version learnt from a person erased since

Every file of a version is written before `current` names it (`store_files`: a renamed staging folder
locally, PUTs under a prefix no reader opens yet on S3), so a crash leaves the previous model current,
never a half-written one; readers follow `current` only.
The model file holds only the fitted estimator, in skops' format, not a pickle: loading a pickle runs
whatever code its writer put in it, so anyone who could write the store (another domain's code on a
shared folder, a leaked storage key) could run code with the loading domain's keys. skops rebuilds
only the types `TRUSTED_TYPES` (and skops' own defaults: scikit-learn and NumPy) name and refuses a
file naming any other, before building anything. `manifest.json` also records model.skops' SHA-256,
checked first: it catches a model file replaced or corrupted on its own (a writer who rewrites the
manifest as well still gets no code run, only an estimator of the trusted types). A version stored by
an earlier release as `model.joblib` is never unpickled; the store format in every model's code
version makes each model retrain once after the upgrade.
The plan names each table it reads (environment, holding domain, table), never its path: the location
is resolved from the current settings when the table is read, so a copied or moved home reads its own
tables. A plan stored before held absolute paths; they are read as the same table of the current
home (`models.sources.location_from_uri`), and one outside a home's layout is a `StoredModelError`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass

import pandas as pd
from pydantic import ValidationError

from hurricane_assets import object_files
from hurricane_assets.models import store_files
from hurricane_assets.models.features import FeaturePlan
from hurricane_assets.models.training import ModelMetrics, TrainedModel
from hurricane_assets.object_files import Target, join
from hurricane_assets.settings import hurricane_paths

MODEL_FILE = "model.skops"
PICKLED_MODEL_FILE = "model.joblib"  # what earlier releases stored: refused, never unpickled
REFERENCE = "reference.parquet"
MANIFEST = "manifest.json"  # {"sha256": {"model.skops": "<hex>"}}: written with the version, after its other files
RETRAIN = "retrain.json"  # beside `current`: {"version", "reason"}: that version learned from an erased person
SUBJECTS = "subjects.parquet"  # per entity column of the rows, the keyed digest of every person the version's window held
MAX_MODEL_BYTES = 1 << 30  # a model file's members, uncompressed: a forged zip must not exhaust memory on load
# Beyond skops' defaults (scikit-learn estimators, NumPy), the types a trained model holds: the
# gradient-boosted trees' predictors, and the input check its categorical preprocessing wraps in a
# partial (skops rebuilds a partial only around a trusted function; check_array validates an array and
# calls nothing else). A model that needs another type fails at save, not at load.
log = logging.getLogger(__name__)
TRUSTED_TYPES = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor", "functools.partial",
                 "sklearn.utils.validation.check_array")


class ModelNotFound(LookupError):
    pass


class StoredModelError(ValueError):
    """A stored model's files cannot be read as a model (named with the file and the reason)."""


@dataclass(frozen=True)
class StoredModel:
    domain: str
    model: str
    version: str
    path: Target  # the version's folder: a local Path, or an s3:// prefix
    estimator: object
    plan: FeaturePlan
    metrics: ModelMetrics

    def reference(self) -> pd.DataFrame:
        """The training window's features and labels: the monitor's drift reference."""
        reference = read_reference(self.path)
        if reference is None:
            raise StoredModelError(f"{join(self.path, REFERENCE)}: no reference (an erasure drops the reference of a "
                                   "version stored before references said whose rows they hold); retrain the model")
        return reference


def model_dir(domain: str, model: str) -> Target:
    return join(join(hurricane_paths().models(domain), domain), model)


def versions(domain: str, model: str) -> list[str]:
    return store_files.version_names(model_dir(domain, model))


def save_model(trained: TrainedModel) -> StoredModel:
    """Store `trained` as the next version and make it current."""
    spec = trained.spec
    root = model_dir(spec.domain, spec.name)
    existing = versions(spec.domain, spec.name)
    version = f"v{(int(existing[-1][1:]) + 1 if existing else 1):04d}"
    model_bytes = estimator_bytes(trained.estimator, f"{spec.domain}.{spec.name}")
    # plan.json before reference.parquet: a version holding a reference always has the plan that says
    # which of its columns came from which share (forget_ended_shares needs it)
    files = {"plan.json": trained.plan.model_dump_json(indent=1).encode(),
             "metrics.json": trained.metrics.model_dump_json(indent=1).encode(),
             REFERENCE: store_files.frame_bytes(trained.reference),
             **({SUBJECTS: store_files.frame_bytes(trained.subjects)} if trained.subjects is not None else {}),
             MODEL_FILE: model_bytes,
             MANIFEST: json.dumps({"sha256": {MODEL_FILE: hashlib.sha256(model_bytes).hexdigest()}}).encode()}
    path = store_files.write_version(root, version, files)
    store_files.set_pointer(root, version)
    _clear_retrain(root)  # answered: this version was fitted without the register's persons
    return StoredModel(spec.domain, spec.name, version, path, trained.estimator, trained.plan, trained.metrics)


def forget_ended_shares(domain: str, model: str, active: set[str]) -> dict[str, list[str]]:
    """Drop, from every stored version's reference frame, the features of shares not in `active`
    (contract ids): the training-window rows derived from a revoked or expired share are the
    consumer's copy of it too, and a version that read it can no longer be served anyway (its share
    is gone). Returns the columns dropped per version. The fitted estimators are kept: they hold no
    rows, and an audit may need them."""
    dropped: dict[str, list[str]] = {}
    for version in versions(domain, model):
        path = join(model_dir(domain, model), version)
        if not object_files.exists(join(path, REFERENCE)):  # none: dropped by an erasure, or an S3 write stopped
            continue
        plan = _load_plan(join(path, "plan.json"))
        ended = [label for label in plan.share_labels() if label not in active]
        frame = read_reference(path) if ended else None
        if frame is None:
            continue
        columns = [name for label in ended for name in plan.features_from(label)]
        present = [c for c in columns if c in frame.columns]
        if present:
            replace_reference(path, frame.drop(columns=present))
            dropped[version] = present
    return dropped


def model_names(domain: str) -> list[str]:
    """The models `domain` has stored (also one its models.yaml no longer declares: its versions keep rows)."""
    return [name for name in object_files.folders(join(hurricane_paths().models(domain), domain))
            if not name.startswith(".")]


def read_reference(version_path: Target) -> pd.DataFrame | None:
    """A version's reference frame (its `attrs` as stored), None when it has none."""
    file = join(version_path, REFERENCE)
    return store_files.read_frame(file) if object_files.exists(file) else None


def replace_reference(version_path: Target, frame: pd.DataFrame) -> None:
    """Rewrite a version's reference whole (an atomic replace locally, one PUT on S3): a reader (the
    monitor) sees the old frame or the new one, never half of it."""
    store_files.write_frame(join(version_path, REFERENCE), frame)


def drop_reference(version_path: Target) -> None:
    object_files.remove(join(version_path, REFERENCE))


def load_model(domain: str, model: str, version: str | None = None) -> StoredModel:
    """The current version (or `version`) with its feature plan and metrics."""
    root = model_dir(domain, model)
    if version is None:
        version = _read_named(join(root, store_files.CURRENT), lambda: store_files.read_pointer(root))
        if version is None:
            raise ModelNotFound(f"no trained model {domain}.{model} under {root}")
        _check_version_name(version, f"{join(root, store_files.CURRENT)}: names {version[:80]!r}")
    _check_version_name(version, f"{domain}.{model} version {version[:80]!r}")
    path = join(root, version)
    if not object_files.exists(join(path, MODEL_FILE)):
        if object_files.exists(join(path, PICKLED_MODEL_FILE)):
            raise StoredModelError(f"{join(path, PICKLED_MODEL_FILE)}: a pickle stored by an earlier release; pickles "
                                   "are not loaded (loading one runs its writer's code): retrain the model")
        raise ModelNotFound(f"model {domain}.{model} has no version {version!r} under {root}")
    # the JSON files first: no model file is read from a version whose other files are unreadable
    plan = _load_plan(join(path, "plan.json"))
    metrics_file = join(path, "metrics.json")
    metrics = _read_named(metrics_file, lambda: ModelMetrics.model_validate_json(object_files.read_text(metrics_file)))
    estimator = estimator_from_bytes(_verified_model_bytes(path), join(path, MODEL_FILE),
                                     features=len(plan.names))
    return StoredModel(domain=domain, model=model, version=version, path=path,
                       estimator=estimator, plan=plan, metrics=metrics)


def estimator_bytes(estimator: object, model: str) -> bytes:
    """`estimator` in skops' format; a `StoredModelError` when it holds a type a load would refuse."""
    import skops.io as sio

    data = sio.dumps(estimator, compression=zipfile.ZIP_DEFLATED)
    untrusted = _untrusted_types(data)
    if untrusted:
        raise StoredModelError(f"{model}: the estimator holds types a load would refuse ({', '.join(untrusted)}); "
                               "add them to models.store.TRUSTED_TYPES if they are safe to rebuild")
    return data


def estimator_from_bytes(data: bytes, file: Target, *, features: int | None = None) -> object:
    """The estimator in `data` (a skops file), rebuilt only from trusted types: a file naming any other
    type (a function to call, a class with a hostile `__setstate__`) is refused before anything is built.
    Then what it built must be a classifier whose trees' indices stay inside their arrays
    (`estimator_problem`): skops does not trust `TreePredictor` by default because compiled code
    follows its node indices unchecked. `features`: the plan's feature count it must expect."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    _check_unpacked_size(data, file)
    try:
        untrusted = _untrusted_types(data)
        if untrusted:
            raise StoredModelError(f"{file}: names types a model does not hold ({', '.join(untrusted)[:300]}); "
                                   "refused, nothing was built from it")
        estimator = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except StoredModelError:
        raise
    except UntrustedTypesFoundException as exc:
        raise StoredModelError(f"{file}: {exc}; refused, nothing was built from it") from None
    except Exception as exc:  # a truncated zip, a schema skops cannot read: not a model this store wrote
        raise _unreadable_model(file, exc) from None
    problem = estimator_problem(estimator, features)
    if problem:
        raise StoredModelError(f"{file}: {problem}; refused")
    return estimator


def _check_unpacked_size(data: bytes, file: Target) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _unreadable_model(file, exc) from None
    if unpacked > MAX_MODEL_BYTES:
        raise StoredModelError(f"{file}: unpacks to {unpacked:,} bytes, more than the {MAX_MODEL_BYTES:,} a model "
                               "may hold; refused, nothing was built from it")


def _untrusted_types(data: bytes) -> list[str]:
    """The types the skops file `data` names beyond skops' defaults and `TRUSTED_TYPES`."""
    import skops.io as sio

    return sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))


def _unreadable_model(file: Target, exc: Exception) -> StoredModelError:
    return StoredModelError(f"{file}: not a model file this store can read: {type(exc).__name__}: {str(exc)[:200]}")


def estimator_problem(estimator: object, features: int | None = None) -> str | None:
    """Why `estimator` cannot be served, None when it can: not a fitted classifier with
    `predict_proba`, another number of features than the plan's, or a tree whose node, feature or
    category-set index points outside its arrays, or whose child is not after its parent (a cycle)."""
    import numpy as np
    from sklearn.base import BaseEstimator, is_classifier

    if not (isinstance(estimator, BaseEstimator) and is_classifier(estimator)
            and callable(getattr(estimator, "predict_proba", None))):
        return f"holds a {type(estimator).__name__}, not a classifier"
    n_features = getattr(estimator, "n_features_in_", None)
    if features is not None and n_features != features:
        return f"expects {n_features} features, its feature plan has {features}"
    for iteration in getattr(estimator, "_predictors", None) or []:
        for predictor in iteration:
            nodes = getattr(predictor, "nodes", None)
            if nodes is None or not len(nodes):
                return "holds a tree without nodes"
            inner = nodes[~nodes["is_leaf"].astype(bool)]
            index = np.flatnonzero(~nodes["is_leaf"].astype(bool))
            bitsets = len(getattr(predictor, "raw_left_cat_bitsets", ()))
            if (np.any(inner["left"] <= index) or np.any(inner["right"] <= index) or np.any(inner["left"] >= len(nodes))
                    or np.any(inner["right"] >= len(nodes)) or np.any(inner["feature_idx"] >= (n_features or 0))
                    or np.any(inner["bitset_idx"][inner["is_categorical"].astype(bool)] >= bitsets)):
                return "holds a tree whose indices point outside its arrays"
    return None


def request_retrain(domain: str, model: str, version: str, reason: str) -> None:
    """Record that `version` must not keep serving: its estimator learned from rows that must go (an
    erased person's). The domain's erasure-retrain sensor asks for a retrain while it is current."""
    object_files.write_text(join(model_dir(domain, model), RETRAIN),
                            json.dumps({"version": version, "reason": reason}))


def pending_retrain(domain: str, model: str) -> dict | None:
    """The retrain request of the model's current version, None when there is none or it named a
    version no longer current (a retrain since answered it): {"version", "reason", "key"}, `key` one
    per request, for the run key. A marker that cannot be read asks for one retrain (rather than keep
    serving on a doubt), keyed by its bytes, so the same bad file never asks twice."""
    root = model_dir(domain, model)
    marker = join(root, RETRAIN)
    try:
        if not object_files.exists(marker):
            return None
        raw = object_files.read_bytes(marker)
    except OSError as exc:  # a folder where the file should be, a permission: unreadable
        raw, problem = b"", f"{type(exc).__name__}"
    else:
        problem = None
    current = store_files.read_pointer(root)
    if current is None:
        return None
    if problem is None:
        try:
            request = json.loads(raw)
            version, reason = str(request["version"]), str(request["reason"])
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            problem = f"{type(exc).__name__}"
        else:
            return {"version": version, "reason": reason, "key": version} if version == current else None
    return {"version": current, "reason": f"{marker} is unreadable ({problem}): retrained once, in case it named "
            "the current version", "key": "unreadable-" + hashlib.sha256(raw).hexdigest()[:12]}


def _clear_retrain(root: Target) -> None:
    try:
        object_files.remove(join(root, RETRAIN))
    except OSError as exc:  # not a file: `pending_retrain` asks once for it, keyed by what it holds
        log.warning("could not remove %s: %s", join(root, RETRAIN), exc)


def read_subjects(version_path: Target) -> pd.DataFrame | None:
    """A version's `subjects.parquet` (column, digest), None for a version stored without one."""
    file = join(version_path, SUBJECTS)
    return store_files.read_frame(file) if object_files.exists(file) else None


def replace_subjects(version_path: Target, frame: pd.DataFrame) -> None:
    store_files.write_frame(join(version_path, SUBJECTS), frame)


def drop_subjects(version_path: Target) -> None:
    object_files.remove(join(version_path, SUBJECTS))


def _check_version_name(version: str, what: str) -> None:
    """A version is a `vNNNN` folder of the model's own: a name joined as a path could be `../x`, an
    absolute path or another URI, i.e. a folder outside the store whose manifest its writer made match."""
    if not store_files.VERSION.fullmatch(version):
        raise StoredModelError(f"{what}, not a version of the model (v0001, v0002, …); nothing is read from it")


def _verified_model_bytes(path: Target) -> bytes:
    """The model file's bytes, once they match the SHA-256 its version's manifest recorded."""
    manifest, file = join(path, MANIFEST), join(path, MODEL_FILE)
    try:
        expected = json.loads(object_files.read_text(manifest))["sha256"][MODEL_FILE]
    except FileNotFoundError:
        raise StoredModelError(f"{manifest}: missing: {file} has no recorded digest and is not loaded "
                               "(a version whose manifest was lost: retrain the model)") from None
    except (ValueError, KeyError, TypeError, RecursionError):
        raise StoredModelError(f"{manifest}: no sha256 of {MODEL_FILE} in it; {file} is not loaded") from None
    data = object_files.read_bytes(file)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise StoredModelError(f"{file}: sha256 {actual} does not match {expected} recorded in {MANIFEST}: "
                               "the file was changed after it was stored; refused, not loaded")
    return data


def _load_plan(file: Target) -> FeaturePlan:
    try:
        return FeaturePlan.model_validate_json(object_files.read_text(file))
    except ValidationError as exc:
        raise StoredModelError(f"{file}: not a feature plan this version can read: {_reasons(exc)}") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise StoredModelError(f"{file}: not a feature plan this version can read: {type(exc).__name__}") from None


def _read_named(file: Target, read):
    """`read()`, its failure (other than a missing file) a `StoredModelError` naming `file`."""
    try:
        return read()
    except FileNotFoundError:
        raise
    except ValidationError as exc:
        raise StoredModelError(f"{file}: not readable as this store wrote it: {_reasons(exc)}") from None
    except (ValueError, RecursionError, OSError) as exc:  # UnicodeDecodeError is a ValueError
        raise StoredModelError(f"{file}: not readable as this store wrote it: {type(exc).__name__}") from None


def _reasons(exc: ValidationError) -> str:
    """One line per distinct problem, at its field. A source is a union (share or own table), so pydantic
    reports each problem once per member, under the member's class name: those parts are left out."""
    return "; ".join(dict.fromkeys(
        ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p[:1].isupper())) + f": {e['msg']}"
        for e in exc.errors()))


def metrics_json(stored: StoredModel) -> dict:
    return json.loads(stored.metrics.model_dump_json())
