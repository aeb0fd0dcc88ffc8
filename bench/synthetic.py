"""Synthetic generator throughput: every dataset at 100k and 1M transactions.

Baseline in the same run: the usual approach of calling Faker once per row for a customer profile
(name, email, phone, IBAN, date of birth, postcode), on a sample, as rows per second. Our figure is
rows per second over all eight datasets. Each size runs in a fresh interpreter, so the per-process
caches do not help. Writes bench/results/synthetic.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from results_file import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100_000, 1_000_000)
BASELINE_ROWS = 3_000

RUN_ONE = """
import json, time
from datetime import datetime, timezone
from hurricane_assets.synthetic import SyntheticConfig, generate
config = SyntheticConfig(transactions={n}, as_of=datetime(2025, 6, 1, tzinfo=timezone.utc), drift_days=30)
started = time.perf_counter()
frames = generate(config)
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rows": {{f"{{d}}.{{s}}": len(f) for (d, s), f in frames.items()}}}}))
"""


def faker_per_row_rows_per_s() -> float:
    from faker import Faker

    fake = Faker(["en_GB", "de_DE", "fr_FR"])
    fake.seed_instance(7)
    started = time.perf_counter()
    for _ in range(BASELINE_ROWS):
        (fake.name(), fake.email(), fake.phone_number(), fake.iban(), fake.date_of_birth(), fake.postcode())
    return BASELINE_ROWS / (time.perf_counter() - started)


def main() -> None:
    baseline = faker_per_row_rows_per_s()
    print(f"baseline Faker per row (profiles only): {baseline:,.0f} rows/s")
    sizes = {}
    for n in SIZES:
        out = subprocess.run([sys.executable, "-c", RUN_ONE.format(n=n)], cwd=ROOT, capture_output=True, text=True, check=True)
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        rows = sum(measured["rows"].values())
        rate = rows / measured["seconds"]
        sizes[str(n)] = {"seconds": round(measured["seconds"], 2), "rows_total": rows, "rows_per_s": round(rate),
                         "vs_faker_per_row": round(rate / baseline, 1), "rows": measured["rows"]}
        print(f"{n:>9,} transactions: {measured['seconds']:.1f} s for {rows:,} rows ({rate / baseline:.0f}x Faker per row)")
    result = {
        "benchmark": "synthetic",
        "target": "1M transactions, every dataset, well under 60 s",
        "baseline_faker_per_row_rows_per_s": round(baseline),
        "sizes": sizes,
        "machine": machine(),
    }
    path = write_results("synthetic", result)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
