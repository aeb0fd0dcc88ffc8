"""Run by .venv-pycanon's Python (pyCANON and its pinned numpy), never imported by the suite: reads
cases as JSON on stdin ({"csv", "qis", "sensitive", "person"}), prints pyCANON's k and l per case.

Each CSV holds the published rows only, every value a string (a null QI is the string "<null>", a
value of its own, as in the platform's groups). With `person`, k counts persons: the rows are first
reduced to one per (person, QI values), so a group's row count is its number of distinct persons."""

import json
import sys

import pandas as pd
from pycanon import anonymity

results = []
for case in json.load(sys.stdin):
    frame = pd.read_csv(case["csv"], dtype=str, keep_default_na=False)
    qis = case["qis"]
    persons = frame.drop_duplicates([case["person"], *qis]) if case["person"] else frame
    k = int(anonymity.k_anonymity(persons, qis))
    ls = [int(anonymity.l_diversity(frame, qis, [s])) for s in case["sensitive"]]
    results.append({"k": k, "l": min(ls) if ls else None})
print(json.dumps(results))
