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
- free text: see bench/masking_free_text.py (100k distinct labelled bodies, against Presidio's
  analyzer + anonymizer with the same recognizers, recall per entity).
- per person (`per_person`): customers.profiles where every row is a different person (1M customers
  by default), so no PII value repeats across rows and the distinct-value engine gets no free ride:
  ours (default preprod plan plus fake name and IBAN, k over persons, measured privacy) against
  presidio-structured on the same columns, and the masked copy against a plain Delta copy, in the same
  run. `--only per_person` runs just this section and merges it into the existing results file;
  `--per-person-cache DIR` keeps the generated table between runs.

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
K = 5
REPEATS = 3


def best_of(repeats: int, fn) -> float:
    """Fastest of `repeats` runs: the machine is shared, and the first run also pays warm-up
    (page cache, lazily loaded phone metadata); every contender is measured the same way."""
    return interleaved_best(repeats, {"run": fn})["run"]


def interleaved_best(repeats: int, contenders: dict, cpu: dict | None = None) -> dict[str, float]:
    """Fastest run of each contender, the contenders taking turns, so a burst of load from other
    processes on the shared machine hits both sides of a comparison alike. `cpu` (a dict), when
    given, receives each contender's least CPU time (this process's threads and its helper process)."""
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    cpu_runs: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            started, cpu_started = time.perf_counter(), cpu_seconds()
            fn()
            runs[name].append(time.perf_counter() - started)
            cpu_runs[name].append(cpu_seconds() - cpu_started)
    if cpu is not None:
        cpu.update({name: min(times) for name, times in cpu_runs.items()})
    return {name: min(times) for name, times in runs.items()}


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished child processes (the masking
    helper): on a shared machine it moves far less with the load than wall time does."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


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
                       expected_types={c: types[c] for c in joined.column_names}, person_column="customer_id")


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


def profiles_table(customers: int, cache: Path | None = None):
    """(customers.profiles from the generator at `customers` rows, seconds it took to generate; None
    when read from `cache`, a directory holding the same table as written by an earlier run)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.catalog.schema import arrow_schema
    from hurricane_assets.synthetic import SyntheticConfig, generate_dataset

    cached = cache / f"customers_profiles_{customers}_seed7.parquet" if cache is not None else None
    if cached is not None and cached.exists():
        return pq.read_table(cached).combine_chunks(), None
    spec = load_catalog().dataset("customers", "profiles")
    started = time.perf_counter()
    frame = generate_dataset(SyntheticConfig(transactions=customers * 10, seed=7), "customers", "profiles")
    profiles = pa.Table.from_pandas(frame, schema=arrow_schema(spec), preserve_index=False).combine_chunks()
    generated_s = time.perf_counter() - started
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(profiles, cached)
    return profiles, generated_s


def per_person(customers: int, keyring, workdir: Path, repeats: int = REPEATS, cache: Path | None = None) -> dict:
    """customers.profiles at `customers` rows, one person per row: ours vs presidio-structured and
    masked vs plain copy, in this run."""
    import pyarrow as pa
    from deltalake import write_deltalake
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasDataProcessor, StructuredAnalysis, StructuredEngine

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.masking.engine import mask_table
    from hurricane_assets.masking.plans import ColumnRule, default_plan
    from hurricane_assets.storage import read_table

    spec = load_catalog().dataset("customers", "profiles")
    profiles, generated_s = profiles_table(customers, cache)
    base = default_plan(spec, "preprod", name="customers.profiles")
    plan = base.model_copy(update={"rules": {**base.rules,
                                             "full_name": ColumnRule(operator="fake_name", params={"entity": "person"}),
                                             "iban": ColumnRule(operator="iban", params={"entity": "iban"})}})

    def ours():
        return mask_table(profiles, plan, keyring, k=spec.privacy.k, max_suppression=spec.privacy.max_suppression,
                          thresholds=spec.privacy)

    runs = []
    columns = {c: v for c, v in PRESIDIO_COLUMNS.items() if c in profiles.column_names}
    sample = profiles.slice(0, min(PRESIDIO_SAMPLE, profiles.num_rows)).select(list(columns)).to_pandas()
    sample = sample.astype(object).where(sample.notna(), "")
    salt = os.urandom(16)
    mapping = {c: f"{entity}_{c.upper()}" for c, (entity, _, _) in columns.items()}
    operators = {mapping[c]: OperatorConfig(op, {**(params or {}), **({"salt": salt} if op == "hash" else {})})
                 for c, (_, op, params) in columns.items()}
    engine = StructuredEngine(data_processor=PandasDataProcessor())

    def presidio():
        engine.anonymize(sample.copy(), StructuredAnalysis(entity_mapping=mapping), operators=operators)

    cpu: dict[str, float] = {}
    timings = interleaved_best(repeats, {"ours": lambda: runs.append(ours()), "presidio": presidio}, cpu)
    result = runs[-1]
    ours_rps, presidio_rps = profiles.num_rows / timings["ours"], len(sample) / timings["presidio"]

    source = str(workdir / "profiles-prod")
    write_deltalake(source, profiles, mode="overwrite")

    def plain():
        write_deltalake(str(workdir / "profiles-plain"), read_table(source), mode="overwrite", schema_mode="overwrite")

    def masked():
        out = mask_table(read_table(source), plan, keyring, k=spec.privacy.k,
                         max_suppression=spec.privacy.max_suppression, thresholds=spec.privacy)
        write_deltalake(str(workdir / "profiles-masked"), out.table, mode="overwrite", schema_mode="overwrite")

    if repeats > 1:
        masked()  # warm-up: first write of the target (one repeat: ours above warmed the operators)
    copies_cpu: dict[str, float] = {}
    copies = interleaved_best(repeats, {"plain": plain, "masked": masked}, copies_cpu)
    distinct = {c: pa.compute.count_distinct(profiles.column(c)).as_py() for c in columns}
    return {
        "table": "customers.profiles, one row per customer (synthetic, seed 7)",
        "rows": profiles.num_rows, "persons": pa.compute.count_distinct(profiles.column("customer_id")).as_py(),
        "distinct_values_of_presidio_columns": distinct,
        "generated_s": None if generated_s is None else round(generated_s, 1),
        "table_source": "generator, this run" if generated_s is not None else "generator, cached by an earlier run",
        "ours_rows_per_s": round(ours_rps), "ours_seconds": round(timings["ours"], 3),
        "presidio_rows_per_s": round(presidio_rps), "presidio_sample_rows": len(sample),
        "presidio_columns": list(columns), "presidio_seconds": round(timings["presidio"], 3),
        "vs_presidio_ratio": round(ours_rps / presidio_rps, 1),
        "plain_copy_s": round(copies["plain"], 3), "masked_copy_s": round(copies["masked"], 3),
        "vs_plain_copy_ratio": round(copies["masked"] / copies["plain"], 2),
        "cpu": {
            "ours_cpu_s": round(cpu["ours"], 3), "presidio_cpu_s": round(cpu["presidio"], 3),
            "ours_rows_per_cpu_s": round(profiles.num_rows / cpu["ours"]),
            "presidio_rows_per_cpu_s": round(len(sample) / cpu["presidio"]),
            "vs_presidio_cpu_ratio": round((profiles.num_rows / cpu["ours"]) / (len(sample) / cpu["presidio"]), 1),
            "plain_copy_cpu_s": round(copies_cpu["plain"], 3), "masked_copy_cpu_s": round(copies_cpu["masked"], 3),
            "vs_plain_copy_cpu_ratio": round(copies_cpu["masked"] / copies_cpu["plain"], 2),
            "note": ("least CPU seconds of the same runs (process_time of every thread plus the helper process): "
                     "on a shared machine the wall-clock figures above are set by the scheduler, these much less; "
                     "ours spreads its CPU over 2 processes, presidio-structured uses 1"),
        },
        "k_anonymity": result.report.k_anonymity, "measured": result.report.measured,
        "targets": {"vs_presidio_ratio": ">= 20", "vs_plain_copy_ratio": "<= 3"},
        "repeats": f"best of {repeats}, contenders interleaved",
        "note": ("ours includes the k gate over persons (every timestamp a quasi-identifier) and the measured "
                 "privacy checks; presidio-structured gets the string PII columns only on a sample, as above."),
    }


def run_per_person(customers: int, output: Path, repeats: int = REPEATS, cache: Path | None = None) -> None:
    """Only the per-person section, merged into the existing results file."""
    with tempfile.TemporaryDirectory(prefix="hurricane-bench-masking-pp-") as tmp:
        os.environ["HURRICANE_HOME"] = tmp
        from hurricane_assets.masking.keys import Keyring, init_masking_keys

        init_masking_keys(("preprod",))  # a fresh home: keys are never created on use
        load_at_start = [round(x, 2) for x in os.getloadavg()]
        section = per_person(customers, Keyring.load("preprod"), Path(tmp), repeats, cache)
    section["machine"] = {**machine(), "load_average_1_5_15_at_start": load_at_start}
    result = json.loads(output.read_text()) if output.exists() else {"benchmark": "masking"}
    result["per_person"] = section
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"per person: {section['rows']:,} customers, ours {section['ours_rows_per_s']:,} rows/s, presidio-structured "
          f"{section['presidio_rows_per_s']:,} rows/s ({section['vs_presidio_ratio']}x); masked copy "
          f"{section['masked_copy_s']} s vs plain {section['plain_copy_s']} s ({section['vs_plain_copy_ratio']}x)")


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
    parser.add_argument("--per-person-customers", type=int, default=1_000_000)
    parser.add_argument("--per-person-repeats", type=int, default=REPEATS)
    parser.add_argument("--only", choices=["per_person"], help="run one section and merge it into --output")
    parser.add_argument("--per-person-cache", type=Path, default=None,
                        help="directory for the generated customers.profiles table: read when there, written when "
                             "not (generating a million customers takes minutes)")
    args = parser.parse_args()
    if args.only == "per_person":
        run_per_person(args.per_person_customers, args.output, args.per_person_repeats, args.per_person_cache)
        return

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="hurricane-bench-masking-") as tmp:
        os.environ["HURRICANE_HOME"] = tmp
        from hurricane_assets.masking.keys import Keyring, init_masking_keys

        init_masking_keys(("preprod",))
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
        import masking_free_text  # the free-text section (bench/masking_free_text.py): detector vs Presidio, recall

        text = masking_free_text.run(keyring)
        print(f"free text: {text['rows']:,} bodies at {text['rows_per_s']:,} rows/s, "
              f"{text['vs_presidio_ratio']}x Presidio with the same recognizers")
        persons = per_person(args.per_person_customers, keyring, Path(tmp), args.per_person_repeats,
                             args.per_person_cache)

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
        "per_person": persons,
        "cases": cases,
        "machine": {**machine(), "load_average_1_5_15_at_start": load_at_start},
        "repeats": f"best of {REPEATS}, contenders interleaved",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
