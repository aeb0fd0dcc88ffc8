from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from hurricane_assets.masking.columns import mask_column
from hurricane_assets.masking.kanonymity import enforce_k_anonymity, group_sizes
from hurricane_assets.masking.plans import ColumnRule


def rules():
    return {"born": ColumnRule(operator="generalize_date", params={"years": 1}, quasi_identifier=True),
            "zip": ColumnRule(operator="prefix", params={"length": 3}, quasi_identifier=True),
            "x": ColumnRule(operator="keep")}


def run(table, key, k, max_suppression=0.05):
    plan_rules = rules()

    def regeneralise(column, params):
        rule = plan_rules[column].model_copy(update={"params": params})
        return mask_column(table.column(column).combine_chunks(), rule, key, table)

    masked = table
    for c, r in plan_rules.items():
        masked = masked.set_column(masked.column_names.index(c), c, mask_column(table.column(c).combine_chunks(), r, key, table))
    return enforce_k_anonymity(masked, plan_rules, regeneralise, k=k, max_suppression=max_suppression)


def test_group_sizes_treat_null_as_a_value():
    t = pa.table({"a": [1, 1, None, None, 2], "b": ["x", "x", None, None, "x"]})
    sizes, _ = group_sizes(t, ["a", "b"])
    assert sizes.tolist() == [2, 2, 2, 2, 1]


def test_generalises_further_until_k_holds(key):
    # 40 people over 8 birth years and 4 postcode districts in one area: k=5 needs coarser bands.
    born = [dt.date(1980 + i % 8, 1 + i % 12, 1 + i % 28) for i in range(40)]
    zips = [f"AB{i % 5}{i % 7} 1XY" for i in range(40)]
    out, outcome = run(pa.table({"born": born, "zip": zips, "x": list(range(40))}), key, k=5)
    assert outcome.satisfied and outcome.smallest_group >= 5
    assert any("generalised" in a for a in outcome.actions)
    assert out.column("x").to_pylist() == list(range(40))
    assert min(group_sizes(out.filter(pa.compute.is_valid(out.column("born"))), ["born", "zip"])[0]) >= 5


def test_suppresses_small_groups_when_few(key):
    born = [dt.date(1980, 3, 3)] * 30 + [dt.date(1955, 1, 2)]
    out, outcome = run(pa.table({"born": born, "zip": ["AB12"] * 31, "x": list(range(31))}), key, k=5)
    assert outcome.suppressed_rows == 1 and outcome.smallest_group == 30
    assert out.column("born").to_pylist()[-1] is None and out.column("zip").to_pylist()[-1] is None
    assert "suppressed the quasi-identifiers of 1 rows" in outcome.actions[-1]


def test_bad_k_is_refused(key):
    with pytest.raises(ValueError, match="k must be >= 1"):
        run(pa.table({"born": [dt.date(1980, 1, 1)], "zip": ["A"], "x": [1]}), key, k=0)


@pytest.mark.parametrize(("cardinality", "n_columns"), [(3, 4), (1000, 8)])
def test_group_sizes_match_a_count_of_value_tuples(cardinality, n_columns):
    """Small keys (four QIs of 3 values: a bincount) and wide ones (eight QIs of 1,000 values: the mixed-radix key would
    overflow int64 without being made dense on the way) give the sizes of a plain tuple count, nulls
    a value of their own, persons counted once per group."""
    from collections import Counter

    import numpy as np

    rng = np.random.default_rng(5)
    rows = 3000
    columns = {f"q{i}": [None if v < 0 else int(v) for v in rng.integers(-1, cardinality, rows)] for i in range(n_columns)}
    table = pa.table(columns)
    keys = list(zip(*columns.values()))
    counts = Counter(keys)
    sizes, groups = group_sizes(table, list(columns))
    assert sizes.tolist() == [counts[key] for key in keys]
    assert len(set(groups.tolist())) == len(counts)
    persons = [f"p{i % 1000}" for i in range(rows)]
    by_person = Counter(key for key in set(zip(keys, persons)) for key in [key[0]])
    sizes, _ = group_sizes(table, list(columns), pa.array(persons))
    assert sizes.tolist() == [by_person[key] for key in keys]


@pytest.mark.parametrize("small", [1, 4])
def test_a_group_one_short_of_k_is_suppressed_when_rows_are_persons(key, small):
    # the gate counts rows in small groups by sorting the group keys (no persons given): a group of
    # k - 1 rows is as unsafe as a group of one
    born = [dt.date(1980, 3, 3)] * 95 + [dt.date(1955, 1, 2)] * small
    n = len(born)
    out, outcome = run(pa.table({"born": born, "zip": ["AB12"] * n, "x": list(range(n))}), key, k=5)
    assert outcome.suppressed_rows == small and outcome.smallest_group == 95
    assert out.column("born").to_pylist()[95:] == [None] * small
