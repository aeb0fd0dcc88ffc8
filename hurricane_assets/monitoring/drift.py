"""Per-feature data drift with Evidently, between a reference and a current feature frame.

Every column is scored with the Jensen-Shannon distance (0 = same distribution, 1 = disjoint), for
numbers and categories alike, so one threshold means the same thing for every feature and the score
can weigh a data need directly. Evidently is imported inside the function: it takes seconds to
import and code locations must load fast.

A distance over binned samples is biased upwards on small samples: two windows of a few hundred rows
drawn from one distribution score 0.1 about one time in twenty. So a feature over the threshold drifts
only if its distance is also beyond chance at these sample sizes: the 99th percentile of the same
distance between random splits of the pooled rows (a permutation test with a fixed seed, so the
verdict is reproducible). Where the samples are large enough that chance cannot come near the
threshold, the permutations are skipped.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from hurricane_assets import object_files
from hurricane_assets.object_files import Target

DRIFT_METHOD = "jensenshannon"
CHANCE_QUANTILE = 0.99
CHANCE_PERMUTATIONS = 200
NUMERIC_BINS_MAX = 30  # Evidently bins numbers by Sturges' rule (under 30 bins below 10^8 rows)


class FeatureDrift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str
    score: float  # Jensen-Shannon distance, 0..1
    drifted: bool
    # the distance samples of these sizes reach by chance (99th percentile of random splits); None
    # where it was not needed: under the threshold, or samples too large for chance to matter
    chance: float | None = None


class DriftReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[FeatureDrift, ...]
    drift_share: float
    html_path: str

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        return tuple(sorted((f for f in self.features if f.drifted), key=lambda f: (-f.score, f.feature)))


def measure_drift(reference: pd.DataFrame, current: pd.DataFrame, *, categorical: list[str], threshold: float,
                  html_path: Target, title: str) -> DriftReport:
    """Score every column of `current` against `reference`; save Evidently's HTML report at `html_path`
    (a local path, or an s3:// object the next run's pod can read)."""
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
    object_files.write_text(html_path, snapshot.get_html_str(as_iframe=False))  # what save_html writes
    features = tuple(judge(c, scores[c], reference[c], current[c], categorical=c in categorical, threshold=threshold)
                     for c in columns)
    return DriftReport(features=features, drift_share=sum(f.drifted for f in features) / len(features),
                       html_path=str(html_path))


def judge(feature: str, score: float, reference: pd.Series, current: pd.Series, *, categorical: bool,
          threshold: float) -> FeatureDrift:
    """Drifted: over the threshold and beyond what chance gives at these sample sizes."""
    if score < threshold:
        return FeatureDrift(feature=feature, score=score, drifted=False)
    reference, current = reference.dropna(), current.dropna()
    if chance_is_negligible(reference, current, categorical=categorical, threshold=threshold):
        return FeatureDrift(feature=feature, score=score, drifted=True)
    chance = chance_distance(feature, reference, current, categorical=categorical)
    return FeatureDrift(feature=feature, score=score, drifted=score > chance, chance=chance)


def chance_is_negligible(reference: pd.Series, current: pd.Series, *, categorical: bool, threshold: float) -> bool:
    """Whether chance stays far under the threshold, by the large-sample law of the statistic: with
    k bins, 8·n·JSD (n the harmonic size n_ref·n_cur/(n_ref+n_cur), JSD in nats) is about χ² with
    k-1 degrees of freedom. Its 99.9th percentile under half the threshold: no permutation needed."""
    from scipy.stats import chi2

    n = len(reference) * len(current) / max(len(reference) + len(current), 1)
    if n == 0:
        return False
    bins = pd.concat([reference, current]).nunique() if categorical else NUMERIC_BINS_MAX
    bound = float(np.sqrt(chi2.ppf(0.999, max(bins - 1, 1)) / (8 * n)))
    return bound < threshold / 2


def chance_distance(feature: str, reference: pd.Series, current: pd.Series, *, categorical: bool) -> float:
    """The 99th percentile of the distance between random splits of the pooled rows into samples of
    the same sizes, scored by the same Evidently test as the report."""
    from evidently.legacy.calculations.stattests import jensenshannon_stat_test
    from evidently.legacy.core import ColumnType

    kind = ColumnType.Categorical if categorical else ColumnType.Numerical
    pooled = pd.concat([reference, current], ignore_index=True).to_numpy()
    rng = np.random.default_rng(zlib.crc32(feature.encode()))  # fixed per feature: one verdict per input
    cut = len(reference)
    distances = []
    for _ in range(CHANCE_PERMUTATIONS):
        shuffled = rng.permutation(pooled)
        result = jensenshannon_stat_test(pd.Series(shuffled[:cut]), pd.Series(shuffled[cut:]), kind, None)
        distances.append(result.drift_score)
    return float(np.quantile(distances, CHANCE_QUANTILE))
