"""Tables larger than memory (issue 13 item 8): masking and delivery at 1M, 10M and 20M rows, on a
local folder and on an S3 API (moto's server), with 1 and 2 worker processes, peak RSS per case.

The table is payments.transactions-shaped (the manifest's schema; one customer per 20 transactions,
90 days of events), generated in chunks of CHUNK rows (each from its own seed) straight into one Delta
commit from a RecordBatchReader, so the generator never holds the table. It is made once per size
and kept under HURRICANE_SCALE_CACHE (default /tmp/hurricane-scale-source; 10M rows: 364 MB, about
3 minutes to make on the shared VM) and reused by later runs: a local case's prod table is a symlink
to it, an S3 case's a streamed copy. Each case runs in a fresh subprocess (`--case`), which reports
its own wall time and peak RSS (`ru_maxrss` of itself and of its largest child, the forked masking
helper):

- `copy`: a plain Delta → Delta copy of the same table, streamed in batches into one commit (the
  baseline, measured in the same run);
- `masking`: `copy_masked` prod → preprod (the default preprod plan: tokens, quantile buckets and
  day-generalised time as quasi-identifiers, k = 5 in persons, measured privacy), streaming;
- `delivery`: the data path of a delivery (`share_for_delivery` for fraud-detection terms, spilled to
  a local IPC file and digested, then the one Delta commit of the share); no ledger or contract work.

Workers: 1 = everything in the process (`split=False`), 2 = the per-value work shared with one forked
helper when a batch's work is large enough (`split=None`, the default). The machine is shared: the
load average is recorded with every case. Results are merged into the --out file after every case, so
an interrupted run keeps what it measured; `--merge FILE` merges another run's file into --out.

    .venv/bin/python bench/scale.py --sizes 1000000 10000000 --stores local s3 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results_file import RESULTS, machine

CHUNK = 1_000_000
DAYS = 90
CASE_TIMEOUT_S = 3600
RESULT = RESULTS / "scale.json"


SOURCE_CACHE = Path(os.environ.get("HURRICANE_SCALE_CACHE", "/tmp/hurricane-scale-source"))
GENERATOR_VERSION = 1  # bump when `generate` changes: the cached tables are then made again


def generate(uri: str, rows: int, seed: int = 13) -> None:
    """payments.transactions-shaped rows at `uri`, CHUNK rows at a time, one commit."""
    import pyarrow as pa
    from deltalake import write_deltalake

    from hurricane_assets.storage import storage_options

    schema, chunks = _generated(rows, seed)
    write_deltalake(uri, pa.RecordBatchReader.from_batches(schema, chunks), mode="overwrite",
                    storage_options=storage_options(uri) or None)


def _generated(rows: int, seed: int):
    """(schema, generator of CHUNK-row batches): each chunk from its own seed, so a chunk never depends
    on the ones before it and the generator holds one chunk at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.catalog.schema import arrow_schema

    schema = arrow_schema(load_catalog().dataset("payments", "transactions"))
    customers = max(rows // 20, 1000)
    start = np.datetime64("2026-01-01T00:00:00", "us")

    def prefixed(prefix: str, numbers) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")

    def chunks():
        for first in range(0, rows, CHUNK):
            n = min(CHUNK, rows - first)
            rng = np.random.default_rng([seed, first])
            customer = rng.integers(0, customers, n)
            online = rng.random(n) < 0.5
            ip = pc.if_else(pa.array(online), prefixed("10.", rng.integers(0, 1 << 16, n)), pa.nulls(n, pa.string()))
            columns = {
                "txn_id": prefixed("txn_", np.arange(first, first + n)),
                "customer_id": prefixed("cust_", customer),
                "amount": pa.array(np.round(rng.lognormal(3.5, 1.0, n), 2)),
                "currency": pa.array(np.where(rng.random(n) < 0.9, "EUR", "USD")),
                "channel": pa.array(np.array(["card_present", "online", "wallet", "instant_p2p"])[rng.integers(0, 4, n)]),
                "merchant_category": pa.array(np.array(["grocery", "travel", "fuel", "retail", "dining", "digital"])
                                              [rng.integers(0, 6, n)]),
                "device_id": prefixed("dev_", customer * 2 + rng.integers(0, 2, n)),
                "card_number": prefixed("4", 100_000_000_000_000 + customer),
                "ip_address": ip,
                "event_ts": pa.array(start + rng.integers(0, DAYS * 86_400_000_000, n).astype("timedelta64[us]")),
            }
            yield pa.RecordBatch.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)

    return schema, chunks()


def cached_source(rows: int, seed: int = 13) -> Path:
    """The generated table of `rows` rows as a local Delta table under SOURCE_CACHE, made once and
    reused by later runs (20M rows take minutes to generate; the cache is keyed by rows, seed and
    GENERATOR_VERSION). Written to a temporary folder and renamed, so a killed run leaves no half table."""
    import shutil

    path = SOURCE_CACHE / f"transactions-{rows}-s{seed}-v{GENERATOR_VERSION}"
    if (path / "_delta_log").is_dir():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    generate(str(partial), rows, seed)
    partial.rename(path)
    return path


def install_source(uri: str, rows: int) -> None:
    """The cached table as the prod table at `uri`: a symlink to it on a local folder (the cases only
    read prod), else copied batch by batch into one commit (S3)."""
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    from hurricane_assets.storage import is_s3, storage_options

    cached = cached_source(rows)
    if not is_s3(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        Path(uri).symlink_to(cached, target_is_directory=True)
        return
    dataset = DeltaTable(str(cached)).to_pyarrow_dataset()
    batches = dataset.to_batches(batch_size=131_072, batch_readahead=1, fragment_readahead=1)
    write_deltalake(uri, pa.RecordBatchReader.from_batches(dataset.schema, batches), mode="overwrite",
                    storage_options=storage_options(uri) or None)


def fraud_terms():
    from negotiation_graph.terms import MaskingMethod, ShareTerms

    return ShareTerms(producer="payments", consumer="risk", dataset="transactions",
                      columns={"txn_id": MaskingMethod.none, "customer_id": MaskingMethod.tokenize,
                               "channel": MaskingMethod.none, "device_id": MaskingMethod.tokenize},
                      purpose="fraud_detection", environment="preprod", freshness_hours=24, retention_days=90,
                      term_days=90)


def run_case(case: dict) -> dict:
    """In the case's own process: one copy, masked copy or share delivery; its time and peak RSS."""
    import pyarrow as pa
    from deltalake import write_deltalake

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.settings import hurricane_paths
    from hurricane_assets.storage import open_table, storage_options

    paths = hurricane_paths()
    source = paths.table_uri("prod", "payments", "transactions")
    split = False if case["workers"] == 1 else None
    started = time.perf_counter()
    out: dict = {}
    if case["kind"] == "copy":
        target = paths.table_uri("preprod", "payments", "plain_copy")
        dataset = open_table(source).to_pyarrow_dataset()
        batches = dataset.to_batches(batch_size=131_072, batch_readahead=1, fragment_readahead=1)
        write_deltalake(target, pa.RecordBatchReader.from_batches(dataset.schema, batches), mode="overwrite",
                        storage_options=storage_options(target) or None)
    elif case["kind"] == "masking":
        from hurricane_assets.masking.copy import copy_masked

        report = copy_masked(load_catalog(), "payments", "transactions", "preprod", split=split)
        out["rows_out"] = report.rows
        out["suppressed_rows"] = report.k_anonymity.get("suppressed_rows")
    else:
        from deltalake import CommitProperties

        from hurricane_assets.delivery.share import share_for_delivery
        from hurricane_assets.masking.history import keep_only_current_version

        share_uri = paths.table_uri("preprod", "risk", "payments__transactions")
        from hurricane_assets.masking.stream import writer_properties

        with share_for_delivery(fraud_terms(), catalog=load_catalog(), now=_now(), split=split) as share:
            stamp = {"dh.content_sha256": share.digest}
            write_deltalake(share_uri, share.data(), mode="overwrite", schema_mode="overwrite",
                            storage_options=storage_options(share_uri) or None,
                            commit_properties=CommitProperties(custom_metadata=stamp),
                            writer_properties=writer_properties())
            keep_only_current_version(share_uri, metadata=stamp)
            out["rows_out"] = share.rows
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["writer_row_group_rows"] = None if case["kind"] == "copy" else 131_072  # None: delta-rs's default
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["peak_rss_mb"] = round(max(own, helper), 1)
    out["peak_rss_mb_helper"] = round(helper, 1)
    return out


def _now():
    from hurricane_assets.clock import utc_now

    return utc_now()


def measure(case: dict, env: dict) -> dict:
    load = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, __file__, "--case", json.dumps(case)], env=env, capture_output=True,
                          text=True, timeout=CASE_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        return {**case, "error": proc.stderr.strip().splitlines()[-1][:300] if proc.stderr.strip() else "failed",
                "load_average_1m_before": round(load, 2)}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**case, **result, "load_average_1m_before": round(load, 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2)}


def merge(cases: list[dict], notes: dict, result: Path = RESULT) -> None:
    """Into `result` (another file for a run in parallel, merged by `--merge FILE`)."""
    figures = json.loads(result.read_text()) if result.exists() else {}
    known = {_key(c): c for c in figures.get("cases", [])}
    for case in cases:
        known[_key(case)] = case
    ordered = sorted(known.values(), key=lambda c: (c["rows"], c["store"], c["kind"], c["workers"]))
    for case in ordered:
        base = known.get(_key({**case, "kind": "copy", "workers": 1}))
        if case["kind"] != "copy" and base and "seconds" in base and "seconds" in case:
            case["ratio_to_plain_copy"] = round(case["seconds"] / base["seconds"], 2)
        if "seconds" in case:
            case["rows_per_s"] = int(case["rows"] / case["seconds"])
    figures.update({"cases": ordered, "machine": machine(), **notes})
    result.parent.mkdir(parents=True, exist_ok=True)
    result.write_text(json.dumps(figures, indent=2) + "\n")


def _key(case: dict) -> tuple:
    return case["rows"], case["store"], case["kind"], case["workers"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000, 20_000_000])
    parser.add_argument("--stores", nargs="+", default=["local", "s3"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--kinds", nargs="+", default=["copy", "masking", "delivery"])
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--merge", type=Path, help="merge the cases of another results file into --out")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    if args.merge:
        other = json.loads(args.merge.read_text())
        merge(other["cases"], {k: v for k, v in other.items() if k not in ("cases", "machine")}, args.out)
        return
    notes = {"what": "payments.transactions-shaped table; copy = plain streamed Delta copy (baseline); masking = "
                     "copy_masked to preprod, streaming; delivery = share_for_delivery + one commit of the share",
             "stream_settings": {"HURRICANE_STREAM_ROWS": 0, "batch_rows": 131_072, "cache_values": 65_536,
                                 "pairs_in_memory": 1 << 20, "distinct_hashes_in_memory": 1 << 20},
             "source": "generated once per size under HURRICANE_SCALE_CACHE and reused (symlinked locally, "
                       "streamed into S3)",
             "peak_rss": "ru_maxrss of the case's own process (and of its largest child, the masking helper)"}
    for rows in args.sizes:
        for store in args.stores:
            with tempfile.TemporaryDirectory(prefix="hurricane-scale-") as home, _storage(store, home) as root:
                env = {**os.environ, "HURRICANE_HOME": home, "HURRICANE_STORAGE_ROOT": root,
                       "HURRICANE_STREAM_ROWS": "0", "PYTHONPATH": str(ROOT)}
                os.environ.update(env)
                from hurricane_assets.masking.keys import init_masking_keys
                from hurricane_assets.settings import hurricane_paths

                init_masking_keys(("preprod",))
                started = time.perf_counter()
                install_source(hurricane_paths().table_uri("prod", "payments", "transactions"), rows)
                print(f"{rows} rows in place on {store} in {time.perf_counter() - started:.0f} s", flush=True)
                for kind in args.kinds:
                    for workers in ([1] if kind == "copy" else args.workers):
                        case = {"rows": rows, "store": store, "kind": kind, "workers": workers}
                        result = measure(case, env)
                        print(json.dumps(result), flush=True)
                        merge([result], notes, args.out)


class _storage:
    """A local folder, or a moto S3 server for the duration (its objects live in its memory)."""

    def __init__(self, store: str, home: str):
        self.store, self.home, self.s3 = store, home, None

    def __enter__(self) -> str:
        if self.store == "local":
            return str(Path(self.home) / "storage")
        from hurricane_assets.local_stack.s3 import LocalS3

        self.s3 = LocalS3("scale").start()
        os.environ.update(self.s3.environ())
        return self.s3.uri("root")

    def __exit__(self, *exc) -> None:
        if self.s3 is not None:
            self.s3.stop()


if __name__ == "__main__":
    main()
