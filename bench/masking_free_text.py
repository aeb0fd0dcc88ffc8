"""Free-text masking: our detector + redaction vs Presidio's analyzer + anonymizer with the same recognizers.

Bodies: `labelled_messages` of the synthetic world (every body distinct, labels known). Per run:

- ours: `mask_table` on a (customer_id, body) table with support.tickets' preprod default plan
  (`redact_text` mirroring the column operators, the row's customer id removed too), helper process on
  (the default on 2 cores) and off;
- Presidio: `AnalyzerEngine.analyze` with our recognizers registered (same regexes, validators, name
  scan; blank spaCy pipeline) + `AnonymizerEngine.anonymize` with our operators registered, per body,
  on a sample of PRESIDIO_SAMPLE bodies (it runs one body at a time, so its rows/s is the sample's);
- recall and precision per entity on RECALL_MESSAGES labelled messages of another seed.

`run()` returns the `free_text` section of bench/results/masking.json; `python bench/masking_free_text.py`
measures it alone and replaces that section in the file (the rest of the file is left as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS = 100_000
PRESIDIO_SAMPLE = 2_000
RECALL_MESSAGES = 10_000
AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _table(rows: int):
    import pyarrow as pa

    from hurricane_assets.synthetic import SyntheticConfig
    from hurricane_assets.synthetic.customers import customer_base
    from hurricane_assets.synthetic.ticket_text import labelled_messages

    config = SyntheticConfig(transactions=max(20_000, 2 * rows), seed=7, as_of=AS_OF)
    messages = labelled_messages(config, rows)
    ids = customer_base(config).ids
    # The writer's id in its own column, as in support.tickets (the message does not carry it).
    customer = [ids[i % len(ids)] for i in range(rows)]
    return pa.table({"customer_id": customer, "body": [m.text for m in messages]})


def _plan():
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.masking.plans import default_plan

    plan = default_plan(load_catalog().dataset("support", "tickets"), "preprod", name="support.tickets")
    return plan.model_copy(update={"rules": {"customer_id": plan.rules["customer_id"], "body": plan.rules["body"]},
                                   "expected_types": {"customer_id": "string", "body": "string"}})


def _ours(table, keyring, split: bool | None) -> float:
    from hurricane_assets.masking.engine import mask_table
    from hurricane_assets.masking.freetext.redaction import forget_replacements

    # Cold, each run alike: a run after another would find the replacements that run remembered.
    forget_replacements()
    started = time.perf_counter()
    mask_table(table, _plan(), keyring, k=None, split=split)
    return time.perf_counter() - started


def _presidio(bodies: list[str], key) -> float:
    from hurricane_assets.masking.freetext.presidio import presidio_redactor

    redact = presidio_redactor(key)
    redact(bodies[0])  # warm-up: engines built, phone metadata loaded
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        for body in bodies:
            redact(body)
        best = min(best, time.perf_counter() - started)
    return best


def _recall() -> dict:
    import re

    from hurricane_assets.masking.freetext.evaluation import RECALL_TARGETS, evaluate
    from hurricane_assets.masking.freetext.gazetteer import name_words
    from hurricane_assets.synthetic import SyntheticConfig
    from hurricane_assets.synthetic.ticket_text import labelled_messages

    words = name_words()
    corpus = labelled_messages(SyntheticConfig(transactions=20_000, seed=23, as_of=AS_OF), RECALL_MESSAGES)
    result = evaluate(corpus, unlisted=lambda v: not any(w in words for w in re.split(r"[^\w]+", v.lower()) if w))
    summary = result.summary()
    summary["targets"] = RECALL_TARGETS
    summary["below_target"] = result.below_target()
    return summary


def run(keyring, rows: int = ROWS) -> dict:
    from hurricane_assets.masking.parallel import split_available

    table = _table(rows)
    bodies = table.column("body").to_pylist()
    _ours(table.slice(0, 2_000), keyring, split=False)  # warm-up: gazetteer, automaton, lexicon
    split_s = _ours(table, keyring, split=None)
    one_s = _ours(table, keyring, split=False)
    sample = bodies[:PRESIDIO_SAMPLE]
    presidio_s = _presidio(sample, keyring.key)
    ours_rate = rows / split_s
    presidio_rate = len(sample) / presidio_s
    return {
        "rows": rows,
        "distinct_bodies": len(set(bodies)),
        "rows_per_s": round(ours_rate),
        "seconds": round(split_s, 2),
        "helper_process_available": split_available(),
        "one_process_rows_per_s": round(rows / one_s),
        "presidio_rows_per_s": round(presidio_rate),
        "presidio_sample_rows": len(sample),
        "vs_presidio_ratio": round(ours_rate / presidio_rate, 1),
        "target_rows_per_s": 50_000,
        "recall": _recall(),
        "note": ("ours: mask_table with support.tickets' preprod plan (redact_text) on every row, helper process "
                 "as by default; Presidio: AnalyzerEngine with the same recognizers (patterns.py shapes, name "
                 f"scan, emails) + AnonymizerEngine with our operators, on the first {PRESIDIO_SAMPLE:,} bodies "
                 "(a sample: it works body by body), best of 2. Recall on 10,000 labelled messages of seed 23."),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "masking.json")
    args = parser.parse_args()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="hurricane-bench-free-text-") as tmp:
        os.environ["HURRICANE_HOME"] = tmp
        from hurricane_assets.masking.keys import Keyring, init_masking_keys

        init_masking_keys(("preprod",))  # a fresh home: keys are never created on use
        section = run(Keyring.load("preprod"), args.rows)
    section["load_average_1_5_15_at_start"] = load_at_start
    section["load_average_1_5_15_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result = json.loads(args.output.read_text()) if args.output.exists() else {"benchmark": "masking"}
    result["free_text"] = section
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"free text: {section['rows']:,} bodies at {section['rows_per_s']:,} rows/s "
          f"({section['one_process_rows_per_s']:,} in one process), Presidio {section['presidio_rows_per_s']:,} "
          f"rows/s on {section['presidio_sample_rows']:,}: {section['vs_presidio_ratio']}x; "
          f"recall {section['recall']['recall']}, precision {section['recall']['precision']}")


if __name__ == "__main__":
    main()
