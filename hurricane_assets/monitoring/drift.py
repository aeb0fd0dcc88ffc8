"""Per-feature data drift with Evidently, between a reference and a current feature frame.

Every column is scored with the Jensen-Shannon distance (0 = same distribution, 1 = disjoint), for
numbers and categories alike, so one threshold means the same thing for every feature and the score
can weigh a data need directly. Evidently is imported inside the function: it takes seconds to
import and code locations must load fast.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

DRIFT_METHOD = "jensenshannon"


class FeatureDrift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str
    score: float  # Jensen-Shannon distance, 0..1
    drifted: bool


class DriftReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[FeatureDrift, ...]
    drift_share: float
    html_path: str

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        return tuple(sorted((f for f in self.features if f.drifted), key=lambda f: (-f.score, f.feature)))


def measure_drift(reference: pd.DataFrame, current: pd.DataFrame, *, categorical: list[str], threshold: float,
                  html_path: Path, title: str) -> DriftReport:
    """Score every column of `current` against `reference`; save Evidently's HTML report at `html_path`."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    columns = list(current.columns)
    numerical = [c for c in columns if c not in categorical]
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=[c for c in columns if c in categorical])
    report = Report([DataDriftPreset(method=DRIFT_METHOD, threshold=threshold)], metadata={"title": title})
    snapshot = report.run(Dataset.from_pandas(current[columns], data_definition=definition),
                          Dataset.from_pandas(reference[columns], data_definition=definition))
    scores: dict[str, float] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith(":ValueDrift"):
            scores[config["column"]] = float(metric["value"])
    missing = [c for c in columns if c not in scores]
    if missing:
        raise RuntimeError(f"Evidently returned no drift score for {', '.join(missing)}")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(html_path))
    features = tuple(FeatureDrift(feature=c, score=scores[c], drifted=scores[c] >= threshold) for c in columns)
    return DriftReport(features=features, drift_share=sum(f.drifted for f in features) / len(features),
                       html_path=str(html_path))
