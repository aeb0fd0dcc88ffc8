"""Code-location import time: each domain location loaded in a fresh interpreter.

Baseline in the same run: a fresh interpreter importing only `dagster`, so the figure that is ours
is `location_s - dagster_s`. Target (issue 2): every location imports in under 3 s.
Writes bench/results/load_time.json.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from results_file import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def timed_import(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t=time.perf_counter(); {statement}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    env = {**os.environ, "HURRICANE_HOME": tempfile.mkdtemp(prefix="hurricane-bench-")}
    modules = {
        e["python_module"]["location_name"]: e["python_module"]["module_name"]
        for e in yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    }
    baseline = statistics.median(timed_import("import dagster", env) for _ in range(REPEATS))
    locations = {}
    for name, module in modules.items():
        seconds = statistics.median(timed_import(f"import {module}", env) for _ in range(REPEATS))
        locations[name] = {"import_s": round(seconds, 3), "vs_dagster_import_ratio": round(seconds / baseline, 2)}
        print(f"{name:12s} {seconds:6.2f} s  ({seconds / baseline:.2f}x import dagster)")
    result = {
        "benchmark": "load_time",
        "target_s": 3.0,
        "dagster_import_s": round(baseline, 3),
        "max_import_s": max(v["import_s"] for v in locations.values()),
        "locations": locations,
        "repeats": REPEATS,
        "machine": machine(),
    }
    out = write_results("load_time", result)
    print(f"baseline import dagster: {baseline:.2f} s; wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
