"""A model's story as the Dagster instance recorded it: every monitor run's AUC and drift scores,
and a retrain of one model (and its monitor) as a real run, for the notebook client."""

from __future__ import annotations

from typing import Any

import dagster as dg

from hurricane_assets.dagster_layer.embedded_loop import QUIET
from hurricane_assets.dagster_layer.models import model_key, monitor_key, share_uplift_key
from hurricane_assets.dagster_layer.workspace import load_location, workspace_locations
from hurricane_assets.models.spec import ModelSpec

HISTORY_LIMIT = 1000


def _value(entry: Any) -> Any:
    return getattr(entry, "value", getattr(entry, "data", entry))


def monitor_history(instance: dg.DagsterInstance, spec: ModelSpec) -> list[dict[str, Any]]:
    """One row per monitor materialization, oldest first: when, model version, baseline and current
    ROC AUC, drift share, whether it raised a need, and each feature's drift score."""
    records = instance.fetch_materializations(monitor_key(spec), limit=HISTORY_LIMIT, ascending=True).records
    rows = []
    for record in records:
        meta = {k: _value(v) for k, v in record.asset_materialization.metadata.items()}
        rows.append({
            "time": record.timestamp,
            "run_id": record.run_id,
            "model_version": meta.get("hurricane/model_version"),
            "auc_baseline": meta.get("hurricane/auc_baseline"),
            "auc_current": meta.get("hurricane/auc_current"),
            "drift_share": meta.get("hurricane/drift_share"),
            "raised_need": "hurricane/data_need" in meta,
            "drift_scores": dict(meta.get("hurricane/drift_scores") or {}),
        })
    return rows


def retrain_run(instance: dg.DagsterInstance, spec: ModelSpec) -> dict[str, dict[str, Any]]:
    """Retrain the model on its own data and its active shares, re-run its monitor and, while it has
    shares, measure their uplift: one run in the model's domain location (reloaded, so it sees the
    current contracts)."""
    module = workspace_locations()[spec.domain]
    defs = load_location(module, reload=True)
    job = defs.resolve_implicit_global_asset_job_def()
    selection = [model_key(spec), monitor_key(spec)]
    if defs.resolve_asset_graph().has(share_uplift_key(spec)):  # only while the model has shares
        selection.append(share_uplift_key(spec))  # where the AUC without the shares is measured
    result = job.execute_in_process(instance=instance, asset_selection=selection,
                                    run_config=QUIET, tags={"hurricane/origin": "notebook"}, raise_on_error=False)
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise RuntimeError(f"retrain of {spec.domain}.{spec.name} failed in run {result.run_id}: {failures[:1]}")
    return {e.asset_key.to_user_string(): {k: _value(v) for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}
