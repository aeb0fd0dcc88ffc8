"""The model monitor: the current model on recent labelled data, against its own training baseline.

Two questions, two flags. Did the inputs move? Evidently drift per feature between the model's
training window (stored with the model) and the last `window_days` of rows. Did the model get worse?
ROC AUC and precision@k on those rows against the model's holdout scores. Features are rebuilt with
the stored plan (same vocabularies, same shares), from the model's training environment.

Rows the model was fitted on (its training window before the holdout, `fitted_rows`: the split redrawn
inside an instant the fit and the holdout share) are left out of the window:
scoring them would flatter the model whenever no newer data has arrived yet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import datetime, timedelta

import pandas as pd
from pydantic import BaseModel, ConfigDict

from hurricane_assets import object_files
from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.models.features import FeatureKind, FeaturePlan, build_features
from hurricane_assets.models.metrics import score
from hurricane_assets.models.spec import ModelSpec, Thresholds
from hurricane_assets.models.store import StoredModel, load_model
from hurricane_assets.models.training import LABEL, fitted_rows, load_labelled_rows, predict
from hurricane_assets.monitoring.drift import FeatureDrift, measure_drift
from hurricane_assets.settings import hurricane_paths

UNSEEN = "(unseen)"  # a category the model never saw is drift too: keep it visible, not missing


class MonitorError(ValueError):
    pass


class StaleModel(MonitorError):
    """The served model was trained with a share that is no longer active (revoked or expired): its
    features cannot be built until it retrains without it, which its code version triggers."""


class MonitorResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    monitor_id: str
    domain: str
    model: str
    model_version: str
    purpose: str
    window_start: datetime
    window_end: datetime
    rows: int
    reference_rows: int
    features: tuple[FeatureDrift, ...]
    drifted_features: tuple[FeatureDrift, ...]  # strongest first
    drift_share: float
    auc_baseline: float
    auc_current: float
    auc_drop: float
    precision_at_k_baseline: float
    precision_at_k_current: float
    k: int
    base_rate_current: float
    thresholds: Thresholds
    drift_passed: bool
    performance_passed: bool
    report_path: str

    @property
    def passed(self) -> bool:
        return self.drift_passed and self.performance_passed

    def numbers(self) -> dict[str, float]:
        """The key numbers, as floats, for asset metadata (the UI plots floats)."""
        return {
            "auc_baseline": self.auc_baseline,
            "auc_current": self.auc_current,
            "auc_drop": self.auc_drop,
            "drift_share": self.drift_share,
            "precision_at_k_baseline": self.precision_at_k_baseline,
            "precision_at_k_current": self.precision_at_k_current,
            "rows": float(self.rows),
        }


def readable(frame: pd.DataFrame, plan: FeaturePlan) -> pd.DataFrame:
    """Category codes back to their values, so the report (and the drift score) shows categories."""
    out = frame.copy()
    for feature in plan.features:
        if feature.kind is FeatureKind.categorical:
            vocab = dict(enumerate(feature.vocabulary))
            out[feature.name] = frame[feature.name].map(lambda c: vocab.get(int(c), UNSEEN) if pd.notna(c) else UNSEEN)
    return out


def _monitor_id(stored: StoredModel, current: pd.DataFrame, start: datetime, end: datetime) -> str:
    content = int(pd.util.hash_pandas_object(current, index=False).sum() & 0xFFFFFFFFFFFF)
    identity = {"domain": stored.domain, "model": stored.model, "version": stored.version,
                "start": start.isoformat(), "end": end.isoformat(), "rows": len(current), "content": content}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def run_monitor(spec: ModelSpec, *, catalog: Catalog | None = None,
                active_shares: Collection[str] | None = None) -> MonitorResult:
    """Score the last `spec.monitor.window_days` of labelled rows with the current model. With
    `active_shares` (contract ids), a model that reads any other share raises `StaleModel`."""
    catalog = catalog or load_catalog()
    stored = load_model(spec.domain, spec.name)
    plan = stored.plan
    ended = sorted(label for label in plan.share_labels() if active_shares is not None and label not in active_shares)
    if ended:
        raise StaleModel(f"{spec.domain}.{spec.name} {stored.version} was trained with share(s) {', '.join(ended)}, "
                         "no longer active (revoked or expired); it is monitored again once it retrains without them")
    row_entity = catalog.dataset(spec.domain, spec.rows).entity
    rows = load_labelled_rows(spec, spec.entity_keys[row_entity])
    if rows.empty:
        raise MonitorError(f"{spec.domain}.{spec.name}: no labelled rows in {spec.training.environment}")
    frames = {part.source.prefix: part.source.read() for part in plan.sources}
    times = rows[spec.time_column]
    end = times.max()
    fitted = fitted_rows(rows, spec, stored.metrics)
    recent = rows.index[(times >= end - timedelta(days=spec.monitor.window_days)) & ~fitted]
    if len(recent) == 0:
        raise MonitorError(f"{spec.domain}.{spec.name}: no labelled rows in the last {spec.monitor.window_days} days "
                           f"that {stored.version} was not trained on")
    labels = rows.loc[recent, LABEL].to_numpy()
    if len(set(labels)) < 2:
        raise MonitorError(f"{spec.domain}.{spec.name}: the {len(recent)} unseen rows of the last "
                           f"{spec.monitor.window_days} days hold a single label class; performance cannot be measured")
    # Built on every row, then cut: novelty needs the history before the window.
    matrix = build_features(plan, spec, row_entity, rows, frames).loc[recent]
    current_scores = score(labels, predict(stored.estimator, matrix))
    start = times.loc[recent[0]].to_pydatetime()
    monitor_id = _monitor_id(stored, matrix, start, end.to_pydatetime())
    # under the domain's own storage root when that is S3, so the report outlives the monitor's pod
    reports = object_files.join(hurricane_paths().domain_reports(spec.domain), "monitors")
    html = object_files.join(reports, f"{spec.domain}/{spec.name}/{stored.version}-{monitor_id}.html")
    reference = stored.reference()
    thresholds = spec.thresholds
    drift = measure_drift(
        readable(reference[plan.names], plan), readable(matrix, plan),
        categorical=[f.name for f in plan.features if f.kind is FeatureKind.categorical],
        threshold=thresholds.drift_score, html_path=html,
        title=f"{spec.domain}.{spec.name} {stored.version}: last {spec.monitor.window_days} days vs training window",
    )
    baseline = stored.metrics.holdout
    drop = baseline.roc_auc - current_scores.roc_auc
    return MonitorResult(
        monitor_id=monitor_id,
        domain=spec.domain,
        model=spec.name,
        model_version=stored.version,
        purpose=spec.purpose,
        window_start=start,
        window_end=end.to_pydatetime(),
        rows=len(recent),
        reference_rows=len(reference),
        features=drift.features,
        drifted_features=drift.drifted,
        drift_share=drift.drift_share,
        auc_baseline=baseline.roc_auc,
        auc_current=current_scores.roc_auc,
        auc_drop=drop,
        precision_at_k_baseline=baseline.precision_at_k,
        precision_at_k_current=current_scores.precision_at_k,
        k=current_scores.k,
        base_rate_current=current_scores.base_rate,
        thresholds=thresholds,
        drift_passed=drift.drift_share < thresholds.drift_share,
        performance_passed=drop <= thresholds.auc_drop,
        report_path=drift.html_path,
    )
