"""The model store: versioned models per domain and model, with a `current` pointer.

    <home>/models/<domain>/<model>/
        v0001/ model.joblib  plan.json  metrics.json  reference.parquet
        current            # "v0001"

A version folder is written under a temporary name and renamed into place, and `current` is
replaced atomically after it, so a crash leaves the previous model current, never a half-written one.
The joblib file holds only the fitted estimator; the feature plan (vocabularies, sources) is JSON.
The plan names each table it reads (environment, holding domain, table), never its path: the location
is resolved from the current settings when the table is read, so a copied or moved home reads its own
tables. A plan stored before held absolute paths; they are read as the same table of the current
home (`models.sources.location_from_uri`), and one outside a home's layout is a `StoredModelError`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from hurricane_assets.models.features import FeaturePlan
from hurricane_assets.models.training import ModelMetrics, TrainedModel
from hurricane_assets.settings import hurricane_paths

CURRENT = "current"
REFERENCE = "reference.parquet"


class ModelNotFound(LookupError):
    pass


class StoredModelError(ValueError):
    """A stored model's files cannot be read as a model (named with the file and the reason)."""


@dataclass(frozen=True)
class StoredModel:
    domain: str
    model: str
    version: str
    path: Path
    estimator: object
    plan: FeaturePlan
    metrics: ModelMetrics

    def reference(self) -> pd.DataFrame:
        """The training window's features and labels: the monitor's drift reference."""
        reference = read_reference(self.path)
        if reference is None:
            raise StoredModelError(f"{self.path / REFERENCE}: no reference (an erasure drops the reference of a "
                                   "version stored before references said whose rows they hold); retrain the model")
        return reference


def model_dir(domain: str, model: str) -> Path:
    return hurricane_paths().home / "models" / domain / model


def versions(domain: str, model: str) -> list[str]:
    root = model_dir(domain, model)
    return sorted(p.name for p in root.glob("v[0-9][0-9][0-9][0-9]") if p.is_dir()) if root.exists() else []


def save_model(trained: TrainedModel) -> StoredModel:
    """Store `trained` as the next version and make it current."""
    import joblib

    spec = trained.spec
    root = model_dir(spec.domain, spec.name)
    root.mkdir(parents=True, exist_ok=True)
    existing = versions(spec.domain, spec.name)
    version = f"v{(int(existing[-1][1:]) + 1 if existing else 1):04d}"
    staging = root / f".{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    joblib.dump(trained.estimator, staging / "model.joblib")
    (staging / "plan.json").write_text(trained.plan.model_dump_json(indent=1))
    (staging / "metrics.json").write_text(trained.metrics.model_dump_json(indent=1))
    trained.reference.to_parquet(staging / REFERENCE, index=False)
    staging.rename(root / version)
    pointer = root / f".{CURRENT}.tmp"
    pointer.write_text(version)
    os.replace(pointer, root / CURRENT)
    return StoredModel(spec.domain, spec.name, version, root / version, trained.estimator, trained.plan, trained.metrics)


def forget_ended_shares(domain: str, model: str, active: set[str]) -> dict[str, list[str]]:
    """Drop, from every stored version's reference frame, the features of shares not in `active`
    (contract ids): the training-window rows derived from a revoked or expired share are the
    consumer's copy of it too, and a version that read it can no longer be served anyway (its share
    is gone). Returns the columns dropped per version. The fitted estimators are kept: they hold no
    rows, and an audit may need them."""
    dropped: dict[str, list[str]] = {}
    for version in versions(domain, model):
        path = model_dir(domain, model) / version
        plan = _load_plan(path / "plan.json")
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
    root = hurricane_paths().home / "models" / domain
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.exists() else []


def read_reference(version_path: Path) -> pd.DataFrame | None:
    """A version's reference frame (its `attrs` as stored), None when it has none."""
    file = version_path / REFERENCE
    return pd.read_parquet(file) if file.exists() else None


def replace_reference(version_path: Path, frame: pd.DataFrame) -> None:
    """Rewrite a version's reference atomically: a temp file renamed over it, so a reader (the monitor)
    sees the old frame or the new one, never half of it."""
    staging = version_path / f".{REFERENCE}.tmp"
    frame.to_parquet(staging, index=False)
    os.replace(staging, version_path / REFERENCE)


def drop_reference(version_path: Path) -> None:
    (version_path / REFERENCE).unlink(missing_ok=True)


def load_model(domain: str, model: str, version: str | None = None) -> StoredModel:
    """The current version (or `version`) with its feature plan and metrics."""
    import joblib

    root = model_dir(domain, model)
    if version is None:
        pointer = root / CURRENT
        if not pointer.exists():
            raise ModelNotFound(f"no trained model {domain}.{model} under {root}")
        version = pointer.read_text().strip()
    path = root / version
    if not (path / "model.joblib").exists():
        raise ModelNotFound(f"model {domain}.{model} has no version {version!r} under {root}")
    return StoredModel(
        domain=domain,
        model=model,
        version=version,
        path=path,
        estimator=joblib.load(path / "model.joblib"),
        plan=_load_plan(path / "plan.json"),
        metrics=ModelMetrics.model_validate_json((path / "metrics.json").read_text()),
    )


def _load_plan(file: Path) -> FeaturePlan:
    try:
        return FeaturePlan.model_validate_json(file.read_text())
    except ValidationError as exc:
        raise StoredModelError(f"{file}: not a feature plan this version can read: {_reasons(exc)}") from None


def _reasons(exc: ValidationError) -> str:
    """One line per distinct problem, at its field. A source is a union (share or own table), so pydantic
    reports each problem once per member, under the member's class name: those parts are left out."""
    return "; ".join(dict.fromkeys(
        ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p[:1].isupper())) + f": {e['msg']}"
        for e in exc.errors()))


def metrics_json(stored: StoredModel) -> dict:
    return json.loads(stored.metrics.model_dump_json())
