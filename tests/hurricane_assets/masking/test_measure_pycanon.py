"""Our k and ℓ-diversity against pyCANON's, on the same tables: random ones (one row per person and
several), and the masked copies the platform writes, in memory and streamed, whose privacy report
must state the k pyCANON finds in the written table.

pyCANON pins numpy==2.0.2, which cannot sit beside this project's numpy, so it runs in its own venv
(`.venv-pycanon`, made by `make test` from tests/reference/pycanon.txt) as a subprocess
(`pycanon_runner.py`). A missing venv fails the test: it is never skipped."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from hurricane_assets.catalog.manifest import PrivacyThresholds
from hurricane_assets.dagster_layer.workspace import REPO_ROOT
from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.measure import measure_privacy
from hurricane_assets.masking.plans import default_plan
from hurricane_assets.settings import hurricane_paths

PYCANON = REPO_ROOT / ".venv-pycanon" / "bin" / "python"
RUNNER = REPO_ROOT / "tests" / "hurricane_assets" / "masking" / "pycanon_runner.py"
NULL = "<null>"  # a null QI is a value of its own in the platform's groups; pyCANON gets it as a string


def published(frame: pd.DataFrame, qis: list[str]) -> pd.DataFrame:
    """The rows with at least one QI published (all-null QIs: suppressed, in no group), as strings."""
    kept = frame[frame[qis].notna().any(axis=1)]
    return kept.astype(object).where(kept.notna(), NULL).astype(str)


def pycanon(tmp_path, cases: list[tuple[pd.DataFrame, list[str], list[str], str | None]]) -> list[dict]:
    """pyCANON's {"k", "l"} per (published frame, QIs, sensitive columns, person column or None)."""
    if not PYCANON.exists():
        pytest.fail(f"{PYCANON} is missing: `make test` creates it (pip install -r tests/reference/pycanon.txt "
                    "into .venv-pycanon)")
    payload = []
    for i, (frame, qis, sensitive, person) in enumerate(cases):
        path = tmp_path / f"case-{i}.csv"
        frame.to_csv(path, index=False)
        payload.append({"csv": str(path), "qis": qis, "sensitive": sensitive, "person": person})
    done = subprocess.run([str(PYCANON), str(RUNNER)], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def random_table(seed: int, rows: int, persons: int | None) -> pd.DataFrame:
    """Three QIs of few values (some null, some rows with every QI null), two sensitive columns; one
    row per person, or `persons` persons with several rows each (a person's rows may differ in QIs)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.choice(["20-29", "30-39", "40-49", "50-59"], rows),
        "zip": rng.choice(["750**", "751**", "1012*", "SW1*", "28**"], rows),
        "sex": rng.choice(["f", "m", "x"], rows, p=[0.48, 0.48, 0.04]),
        "illness": rng.choice(["flu", "asthma", "diabetes", "none", "gout"], rows),
        "band": rng.choice(["low", "mid", "high"], rows),
        "who": [f"p{i}" for i in (range(rows) if persons is None else rng.integers(0, persons, rows))],
    })
    for column in ("age", "zip", "sex"):
        frame.loc[rng.random(rows) < 0.05, column] = None
    frame.loc[rng.random(rows) < 0.03, ["age", "zip", "sex"]] = None
    return frame


@pytest.mark.parametrize("persons", [None, 60], ids=["one_row_per_person", "several_rows_per_person"])
def test_k_and_l_diversity_match_pycanon_on_random_tables(tmp_path, persons):
    qis, sensitive = ["age", "zip", "sex"], ["illness", "band"]
    ours, cases = [], []
    for seed in range(12):
        frame = random_table(seed, rows=150 + 40 * seed, persons=persons)
        for used in (qis, qis[:2], qis[1:]):  # coarser and finer groupings of the same rows
            table = pa.Table.from_pandas(frame, preserve_index=False)
            measured = measure_privacy(table, table, quasi_identifiers=used, person_column="who",
                                       thresholds=PrivacyThresholds(sensitive=tuple(sensitive), sample_persons=50))
            ours.append((measured.values["k"], measured.values["l_diversity"]))
            cases.append((published(frame, used), used, sensitive, "who" if persons else None))
    reference = pycanon(tmp_path, cases)
    assert [(r["k"], r["l"]) for r in reference] == ours
    assert len({k for k, _ in ours}) > 2, "the tables should give several different k"


@pytest.mark.parametrize("streamed", [False, True], ids=["in_memory", "streamed"])
def test_a_masked_copys_report_states_the_k_pycanon_finds_in_the_written_table(prod_world, catalog, tmp_path,
                                                                              monkeypatch, streamed):
    """The report's k is computed on the table before it is written (in memory) or over its batches
    (streamed): pyCANON reads the Delta table actually written, in persons (profiles: one row each;
    transactions: a customer's many rows, k over distinct customers)."""
    if streamed:  # every table streamed, in small batches: groups and persons span batches
        monkeypatch.setenv("HURRICANE_STREAM_ROWS", "0")
        monkeypatch.setenv("HURRICANE_STREAM_BATCH_ROWS", "250")
    ours, cases = [], []
    for domain, dataset in (("customers", "profiles"), ("payments", "transactions")):
        report = copy_masked(catalog, domain, dataset, "preprod")
        qis = report.measured["quasi_identifiers"]
        person = default_plan(catalog.dataset(domain, dataset), "preprod").person_column
        written = DeltaTable(hurricane_paths().table_uri("preprod", domain, dataset)).to_pandas()
        assert qis and person in written.columns
        ours.append(report.measured["values"]["k"])
        cases.append((published(written[[*qis, person]], qis), qis, [], person))
    reference = pycanon(tmp_path, cases)
    assert [r["k"] for r in reference] == ours
    assert all(k >= 5 for k in ours)  # the manifests' default k, which the gate enforced
