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
