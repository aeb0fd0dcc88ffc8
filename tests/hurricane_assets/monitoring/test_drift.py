from __future__ import annotations

import numpy as np
import pandas as pd

from hurricane_assets.monitoring.drift import measure_drift


def test_a_moved_column_drifts_and_a_steady_one_does_not(tmp_path):
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"steady": rng.normal(size=3000), "moved": rng.normal(size=3000),
                              "kind": rng.choice(["a", "b"], 3000)})
    current = pd.DataFrame({"steady": rng.normal(size=1000), "moved": rng.normal(2.0, size=1000),
                            "kind": rng.choice(["a", "b", "new"], 1000)})
    report = measure_drift(reference, current, categorical=["kind"], threshold=0.1, html_path=tmp_path / "r" / "drift.html",
                           title="test")
    scores = {f.feature: f for f in report.features}
    assert not scores["steady"].drifted and scores["steady"].score < 0.1
    assert scores["moved"].drifted and scores["kind"].drifted
    assert [f.feature for f in report.drifted] == sorted(["moved", "kind"], key=lambda n: -scores[n].score)
    assert report.drift_share == 2 / 3
    assert (tmp_path / "r" / "drift.html").read_text().lstrip().lower().startswith("<!doctype html")


def small_windows(seed: int, features: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A training window of 660 rows and a monitored one of 220 (the drift notebook's sizes), all
    features drawn from one distribution in both."""
    rng = np.random.default_rng(seed)

    def frame(rows: int) -> pd.DataFrame:
        return pd.DataFrame({**{f"num_{i}": rng.lognormal(size=rows) for i in range(features)},
                             **{f"cat_{i}": rng.choice(list("abcdefgh"), rows) for i in range(features)}})

    return frame(660), frame(220)


def test_small_windows_of_one_distribution_do_not_drift_by_chance(tmp_path):
    # 40 unchanged features: one scores over 0.1 by chance at these sizes (cat_9, 0.104: the old
    # verdict flagged it); it is within what random splits of the pooled rows reach
    reference, current = small_windows(seed=3, features=20)
    categorical = [c for c in reference.columns if c.startswith("cat_")]
    report = measure_drift(reference, current, categorical=categorical, threshold=0.1,
                           html_path=tmp_path / "drift.html", title="calm")
    over = [f for f in report.features if f.score >= 0.1]
    assert over, "no feature over the threshold: the case this test is about did not arise"
    assert all(f.chance is not None and f.score <= f.chance for f in over)
    assert report.drifted == () and report.drift_share == 0


def test_a_real_shift_in_a_small_window_still_drifts(tmp_path):
    reference, current = small_windows(seed=3, features=2)
    rng = np.random.default_rng(11)
    current["cat_0"] = rng.choice(list("abcd"), len(current))  # half the categories gone
    current["num_0"] = rng.lognormal(1.0, size=len(current))
    report = measure_drift(reference, current, categorical=["cat_0", "cat_1"], threshold=0.1,
                           html_path=tmp_path / "drift.html", title="shift")
    drifted = {f.feature: f for f in report.drifted}
    assert set(drifted) == {"cat_0", "num_0"}
    assert all(f.score > f.chance for f in drifted.values())


def test_large_samples_skip_the_permutations(tmp_path):
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(size=20_000)})
    current = pd.DataFrame({"x": rng.normal(1.0, size=10_000)})
    report = measure_drift(reference, current, categorical=[], threshold=0.1, html_path=tmp_path / "d.html", title="big")
    (feature,) = report.features
    assert feature.drifted and feature.chance is None
