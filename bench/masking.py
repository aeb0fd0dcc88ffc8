"""Masking throughput: our distinct-value engine vs presidio-structured, and masked vs plain Delta copy.

The table is payments.transactions joined with customers.profiles on customer_id (one row per
transaction with the paying customer's PII), from the synthetic generator at each size. Per size:

- ours: `mask_table` with the preprod default plan, strengthened to format-preserving operators for
  the restricted identifiers (fake name, IBAN, card) so every PII column does real work;
- presidio-structured: `StructuredEngine(PandasDataProcessor())` with the operators given per column
  through `StructuredAnalysis` (no detection cost): salted `hash` (16-byte salt) for ids, `mask` for
  contact and account fields, `replace` for names and national ids. It crashes on nulls and on
  non-strings, so it gets the string columns only, nulls filled with "" before timing. It runs on a
  fixed sample (PRESIDIO_SAMPLE rows) because it is per cell; its rows/s is reported from that sample;
- copy: Delta read → mask → one Delta overwrite commit, against a plain Delta → Delta copy of the same
  table in the same run;
- free text: support.tickets bodies at TICKETS rows (tickets cycled from the generator with a row
  number appended so every body is distinct and must be analysed).

Writes bench/results/masking.json. Run from the repo root: `.venv/bin/python bench/masking.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_SIZES = (200_000, 1_000_000)
PRESIDIO_SAMPLE = 20_000
TICKETS = 100_000
K = 5
REPEATS = 3


def best_of(repeats: int, fn) -> float:
    """Fastest of `repeats` runs: the machine is shared, and the first run also pays warm-up
    (page cache, lazily loaded phone metadata); every contender is measured the same way."""
    return interleaved_best(repeats, {"run": fn})["run"]


def interleaved_best(repeats: int, contenders: dict) -> dict[str, float]:
    """Fastest run of each contender, the contenders taking turns, so a burst of load from other
    processes on the shared machine hits both sides of a comparison alike."""
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            started = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - started)
    return {name: min(times) for name, times in runs.items()}


def joined_table(rows: int):
    import pyarrow as pa

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.catalog.schema import arrow_schema
    from hurricane_assets.synthetic import SyntheticConfig, generate

    catalog = load_catalog()
    frames = generate(SyntheticConfig(transactions=rows, seed=7))
    txn = pa.Table.from_pandas(frames[("payments", "transactions")],
                               schema=arrow_schema(catalog.dataset("payments", "transactions")), preserve_index=False)
    profiles = pa.Table.from_pandas(frames[("customers", "profiles")],
                                    schema=arrow_schema(catalog.dataset("customers", "profiles")), preserve_index=False)
    joined = txn.join(profiles, "customer_id").sort_by("txn_id")
    return joined.combine_chunks(), frames


def bench_plan(joined):
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.masking.plans import ColumnRule, MaskingPlan, default_plan

    catalog = load_catalog()
    txn = default_plan(catalog.dataset("payments", "transactions"), "preprod", name="payments.transactions")
    prof = default_plan(catalog.dataset("customers", "profiles"), "preprod", name="customers.profiles")
    rules = {**prof.rules, **txn.rules,
             "full_name": ColumnRule(operator="fake_name", params={"entity": "person"}),
             "iban": ColumnRule(operator="iban", params={"entity": "iban"}),
             "card_number": ColumnRule(operator="credit_card", params={"entity": "card"})}
    types = {**prof.expected_types, **txn.expected_types}
    return MaskingPlan(dataset="bench.transactions_x_profiles", env="preprod", source="bench/masking.py",
                       rules={c: rules[c] for c in joined.column_names},
                       expected_types={c: types[c] for c in joined.column_names})


PRESIDIO_COLUMNS = {
    # column: (entity label, presidio operator, params)
    "customer_id": ("ID", "hash", None), "device_id": ("ID", "hash", None), "ip_address": ("ID", "hash", None),
    "email": ("CONTACT", "mask", {"masking_char": "*", "chars_to_mask": 8, "from_end": False}),
    "phone": ("CONTACT", "mask", {"masking_char": "*", "chars_to_mask": 8, "from_end": False}),
    "card_number": ("ACCOUNT", "mask", {"masking_char": "*", "chars_to_mask": 12, "from_end": False}),
    "iban": ("ACCOUNT", "mask", {"masking_char": "*", "chars_to_mask": 12, "from_end": False}),
    "postcode": ("CONTACT", "mask", {"masking_char": "*", "chars_to_mask": 3, "from_end": True}),
    "full_name": ("NAME", "replace", {"new_value": "<PERSON>"}),
    "national_id": ("NAME", "replace", {"new_value": "<NATIONAL_ID>"}),
}


def presidio_rows_per_s(joined, sample: int) -> dict:
    import os as _os

    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasDataProcessor, StructuredAnalysis, StructuredEngine

    frame = joined.slice(0, sample).select(list(PRESIDIO_COLUMNS)).to_pandas()
    frame = frame.astype(object).where(frame.notna(), "")  # presidio crashes on None
    salt = _os.urandom(16)
    operators = {}
    mapping = {}
    for column, (entity, op, params) in PRESIDIO_COLUMNS.items():
        label = f"{entity}_{column.upper()}"  # one operator per column
        mapping[column] = label
        operators[label] = OperatorConfig(op, {**(params or {}), **({"salt": salt} if op == "hash" else {})})
    engine = StructuredEngine(data_processor=PandasDataProcessor())
    seconds = best_of(REPEATS, lambda: engine.anonymize(frame.copy(), StructuredAnalysis(entity_mapping=mapping),
                                                        operators=operators))
    return {"sample_rows": len(frame), "columns": len(PRESIDIO_COLUMNS), "seconds": round(seconds, 3),
            "rows_per_s": len(frame) / seconds}


def our_rows_per_s(joined, plan, keyring) -> dict:
    from hurricane_assets.masking.engine import mask_table
    from hurricane_assets.masking.parallel import split_available

    result = mask_table(joined, plan, keyring, k=K)
    timings = interleaved_best(REPEATS, {"split": lambda: mask_table(joined, plan, keyring, k=K),
                                         "one_process": lambda: mask_table(joined, plan, keyring, k=K, split=False)})
    seconds = timings["split"]
    masked_columns = sum(1 for c in result.report.columns if c.status != "kept")
    return {"rows": joined.num_rows, "masked_or_dropped_columns": masked_columns, "seconds": round(seconds, 3),
            "rows_per_s": joined.num_rows / seconds,
            "helper_process_available": split_available(),
            "one_process_seconds": round(timings["one_process"], 3),
            "one_process_rows_per_s": round(joined.num_rows / timings["one_process"]),
            "k_anonymity": result.report.k_anonymity}


def copy_times(joined, plan, keyring, workdir: Path) -> dict:
    from deltalake import write_deltalake

    from hurricane_assets.masking.engine import mask_table
    from hurricane_assets.storage import read_table

    source = str(workdir / "prod")
    write_deltalake(source, joined, mode="overwrite")

    def plain():
        write_deltalake(str(workdir / "plain"), read_table(source), mode="overwrite", schema_mode="overwrite")

    def masked():
        result = mask_table(read_table(source), plan, keyring, k=K)
        write_deltalake(str(workdir / "masked"), result.table, mode="overwrite", schema_mode="overwrite")

    masked()  # warm-up: first write of the target, phone metadata
    timings = interleaved_best(REPEATS, {"plain": plain, "masked": masked})
    return {"plain_copy_s": round(timings["plain"], 3), "masked_copy_s": round(timings["masked"], 3),
            "vs_plain_copy_ratio": round(timings["masked"] / timings["plain"], 2)}


def free_text(frames, keyring) -> dict:
    import pyarrow as pa

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.masking.engine import mask_table
    from hurricane_assets.masking.plans import default_plan

    tickets = frames[("support", "tickets")]
    repeats = -(-TICKETS // len(tickets))
    bodies = [f"{b} (ref {i})" for i, b in enumerate((list(tickets["body"]) * repeats)[:TICKETS])]
    ids = (list(tickets["customer_id"]) * repeats)[:TICKETS]
    spec = load_catalog().dataset("support", "tickets")
    plan = default_plan(spec, "preprod", name="support.tickets")
    plan = plan.model_copy(update={"rules": {"customer_id": plan.rules["customer_id"], "body": plan.rules["body"]},
                                   "expected_types": {"customer_id": "string", "body": "string"}})
    table = pa.table({"customer_id": ids, "body": bodies})
    started = time.perf_counter()
    mask_table(table, plan, keyring, k=None)
    seconds = time.perf_counter() - started
    return {"tickets": TICKETS, "distinct_bodies": len(set(bodies)), "seconds": round(seconds, 2),
            "rows_per_s": round(TICKETS / seconds)}


def machine() -> dict:
    import deltalake
    import presidio_anonymizer
    import pyarrow

    return {"cpu_count": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "pyarrow": pyarrow.__version__, "deltalake": deltalake.__version__,
            "presidio_anonymizer": presidio_anonymizer.__version__ if hasattr(presidio_anonymizer, "__version__") else "2.2.366"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "masking.json")
    args = parser.parse_args()

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="hurricane-bench-masking-") as tmp:
        os.environ["HURRICANE_HOME"] = tmp
        from hurricane_assets.masking.keys import Keyring

        keyring = Keyring.load("preprod")
        cases = []
        frames = None
        for rows in args.rows:
            joined, frames = joined_table(rows)
            plan = bench_plan(joined)
            ours = our_rows_per_s(joined, plan, keyring)
            presidio = presidio_rows_per_s(joined, min(PRESIDIO_SAMPLE, joined.num_rows))
            copies = copy_times(joined, plan, keyring, Path(tmp) / f"copy-{rows}")
            case = {"rows": joined.num_rows, "columns": joined.num_columns,
                    "ours_rows_per_s": round(ours["rows_per_s"]), "presidio_rows_per_s": round(presidio["rows_per_s"]),
                    "vs_presidio_ratio": round(ours["rows_per_s"] / presidio["rows_per_s"], 1), **copies,
                    "ours": ours, "presidio": presidio}
            cases.append(case)
            print(f"{joined.num_rows:>9,} rows: ours {ours['rows_per_s']:,.0f} rows/s, presidio-structured "
                  f"{presidio['rows_per_s']:,.0f} rows/s ({case['vs_presidio_ratio']}x); masked copy "
                  f"{copies['masked_copy_s']} s vs plain {copies['plain_copy_s']} s ({copies['vs_plain_copy_ratio']}x)")
        text = free_text(frames, keyring)
        print(f"free text: {text['tickets']:,} tickets in {text['seconds']} s ({text['rows_per_s']:,} rows/s)")

    headline = next((c for c in cases if c["rows"] == 200_000), cases[0])
    result = {
        "benchmark": "masking",
        "table": "payments.transactions joined with customers.profiles (synthetic, seed 7)",
        "targets": {"vs_presidio_ratio": ">= 20", "vs_plain_copy_ratio": "<= 3"},
        "rows": headline["rows"],
        "ours_rows_per_s": headline["ours_rows_per_s"],
        "presidio_rows_per_s": headline["presidio_rows_per_s"],
        "vs_presidio_ratio": headline["vs_presidio_ratio"],
        "vs_plain_copy_ratio": headline["vs_plain_copy_ratio"],
        "presidio_note": (f"presidio-structured runs on the first {PRESIDIO_SAMPLE:,} rows of each table (it masks cell "
                          "by cell), string PII columns only, nulls filled with '' (it crashes on None); its rows/s "
                          "comes from that sample. Operators: salted hash for ids, mask for contact/account fields, "
                          "replace for names and national ids, given per column (no detection cost)."),
        "ours_note": ("mask_table with the preprod default plan plus fake_name/iban/credit_card for the restricted "
                      "identifiers, every column of the joined table, k-anonymity gate (k=5) and privacy report "
                      "included; per-value work shared with one forked helper process (the default); "
                      "one_process_* is the same without the helper."),
        "free_text": text,
        "cases": cases,
        "machine": {**machine(), "load_average_1_5_15_at_start": load_at_start},
        "repeats": f"best of {REPEATS}, contenders interleaved",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
