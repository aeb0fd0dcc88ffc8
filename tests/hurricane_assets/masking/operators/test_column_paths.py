"""The column paths (`mask_distinct` over a column's distinct values, digests in one loop, IBANs in
numpy) must give exactly what the per-value path gives (`operate`, which free text and Presidio use):
a difference would make a ticket's masked email differ from the profile's, or break joins.

Values come from the synthetic profiles (stored forms) plus written-out forms, blanks and oddities
that take the per-value fallback inside the column path."""

from __future__ import annotations

import re

import pytest

from hurricane_assets.masking.operators.base import MaskingOperator
from hurricane_assets.masking.registry import operator_class
from hurricane_assets.synthetic import SyntheticConfig, generate_dataset

ODD = ["", "  ", None]


@pytest.fixture(scope="module")
def profiles():
    return generate_dataset(SyntheticConfig(transactions=3000, seed=11), "customers", "profiles")


CASES = [
    ("hmac_token", {"entity": "customer"}, "customer_id", [" Cust_0000001 ", "Ünïcode  Id", "ß"]),
    ("hmac_token", {"entity": "customer", "algorithm": "blake2b", "length": 32}, "customer_id", ["C-42"]),
    ("fake_name", {}, "full_name", ["Jean-Luc  de la Croix", "Madonna", "A B C D", " x "]),
    ("email", {}, "email", [" Jane.Doe@Gmail.com", "@nolocal.org", "no-at-sign"]),
    ("email", {"keep_domains": ["gmail.com"]}, "email", ["jane@gmail.com"]),
    ("phone", {}, "phone", ["(020) 7946 0018", "07700 900123", "+44 20 7946 0018", "12345", "+4915112345678",
                            "+0712345678", "+447400137732", "+447700900107"]),
    ("iban", {}, "iban", ["DE89 3704 0044 0532 0130 00", "gb50barc23965483113223", "X1", "NL91ABNA0417164300",
                          "FR1420041010050500013M02606", "ÄB12345678"]),
]


@pytest.mark.parametrize(("operator", "params", "column", "extra"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_column_path_equals_per_value_path(key, profiles, operator, params, column, extra):
    op = operator_class(operator)()
    values = list(dict.fromkeys(v for v in profiles[column] if v is not None)) + extra + ODD
    full = {**params, "key": key}
    column_path = op.mask_distinct(values, full)
    if operator == "phone":
        # The column's own numbers are what a fake must avoid: give the per-value path the same set.
        from hurricane_assets.masking.normalise import normalise_phone

        full = {**full, "avoid": frozenset(v if v[:1] == "+" and v[1:].isdigit() else normalise_phone(v, "GB")
                                           for v in values if isinstance(v, str) and v.strip())}
    assert column_path == [op.operate(v, full) for v in values]
    assert column_path == MaskingOperator.mask_distinct(op, values, full)


@pytest.mark.parametrize(("operator", "params", "column", "extra"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_column_path_on_stored_values_alone_equals_per_value_path(key, profiles, operator, params, column, extra):
    """Stored values only (no blanks, no other layouts): the Arrow/numpy branches of the column
    paths, which the mixed list above sends to their per-value fallbacks, give the same output."""
    op = operator_class(operator)()
    values = list(dict.fromkeys(v for v in profiles[column] if v is not None))
    full = {**params, "key": key}
    column_path = op.mask_distinct(values, full)
    if operator == "phone":
        full = {**full, "avoid": frozenset(values)}
    assert column_path == [op.operate(v, full) for v in values]


def test_card_column_path_equals_per_value_path(key):
    """Generated 16-digit PANs take the numpy path; every other length up to the path's limit (the
    test IIN is cut short below 8 digits), separators, other scripts' digits and blanks the fallback."""
    import numpy as np

    from hurricane_assets.synthetic.identifiers import card_numbers

    op = operator_class("credit_card")()
    rng = np.random.default_rng(5)
    stored = list(card_numbers(rng, 2000))
    lengths = ["".join(str(d) for d in rng.integers(0, 10, n)) for n in range(1, 40)]
    values = stored + lengths + ["4111 1111 1111 1111", "5555-5555-5555-4444", "٤١١١١١١١١١١١١١١١", "x", *ODD]
    full = {"key": key}
    column_path = op.mask_distinct(values, full)
    assert column_path == [op.operate(v, full) for v in values]
    assert column_path == MaskingOperator.mask_distinct(op, values, full)
    assert all(len(m) == len(v) for m, v in zip(column_path[:2000], stored))


ARROW_CASES = [c for c in CASES if operator_class(c[0])().mask_strings.__func__ is not MaskingOperator.mask_strings]


@pytest.mark.parametrize(("operator", "params", "column", "extra"), ARROW_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(ARROW_CASES)])
def test_arrow_column_path_equals_per_value_path(key, profiles, operator, params, column, extra):
    """`mask_strings` (Arrow in, Arrow out) gives what `operate` gives, on a slice too; values it does
    not take (blanks, a spaced IBAN) send the whole column to the list path (None)."""
    import pyarrow as pa

    op = operator_class(operator)()
    full = {**params, "key": key}
    values = list(dict.fromkeys(v for v in profiles[column] if v is not None))
    masked = op.mask_strings(pa.array(values, pa.string()).slice(3), full)
    assert masked is not None and masked.type == pa.string()
    assert masked.to_pylist() == [op.operate(v, _per_value(operator, full, values[3:])) for v in values[3:]]
    assert op.mask_strings(pa.array([values[0], "  "]), full) is None
    assert op.mask_strings(pa.array([values[0], ""]), full) is None
    refused = {"iban": ["DE89 3704 0044 0532 0130 00"], "email": [" Jane.Doe@Gmail.com"],
               "phone": ["(020) 7946 0018", "+0712345678"]}.get(operator, [])
    for value in refused:  # a layout the Arrow path does not take: the whole column goes to the list path
        assert op.mask_strings(pa.array([values[0], value]), full) is None
    # what each Arrow path takes; tokens and fake names take any string that is not blank
    stored = {"iban": r"[A-Za-z]{2}[A-Za-z0-9]{3,62}", "email": r"[!-~]+",
              "phone": r"\+[1-9][0-9]{6,14}"}.get(operator, r"(?s).*\S.*")
    taken = [v for v in extra if re.fullmatch(stored, v)]
    assert taken
    assert op.mask_strings(pa.array(taken, pa.string()), full).to_pylist() == [
        op.operate(v, _per_value(operator, full, taken)) for v in taken]


def _per_value(operator: str, params: dict, column: list) -> dict:
    """The per-value path's params for a value of `column`: a phone fake avoids the column's numbers."""
    return {**params, "avoid": frozenset(column)} if operator == "phone" else params


def test_the_engine_masks_stored_values_in_arrow(key, profiles, monkeypatch):
    """A column of stored values never reaches the list path (`mask_distinct`), and its nulls stay null."""
    import pyarrow as pa

    from hurricane_assets.masking.columns import masked_columns
    from hurricane_assets.masking.plans import ColumnRule

    table = pa.table({c: pa.array(list(profiles[c]) + [None]) for c in ("customer_id", "iban", "email", "phone")})
    rules = {"customer_id": ColumnRule(operator="hmac_token", params={"entity": "customer"}),
             "iban": ColumnRule(operator="iban", params={}), "email": ColumnRule(operator="email", params={}),
             "phone": ColumnRule(operator="phone", params={})}
    column = {c: [v for v in table.column(c).to_pylist() if v is not None] for c in rules}
    expected = {c: [None if v is None else operator_class(r.operator)().operate(
        v, _per_value(r.operator, {**r.params, "key": key}, column[c])) for v in table.column(c).to_pylist()]
        for c, r in rules.items()}
    for name in ("hmac_token", "iban", "email", "phone"):
        monkeypatch.setattr(operator_class(name), "mask_distinct", lambda *a, **k: pytest.fail("took the list path"))
    out = masked_columns(table, rules, key, split=False)
    for column in rules:
        assert out[column].values.to_pylist() == expected[column]
        assert out[column].distinct_after == len({v for v in expected[column] if v is not None})
    # alone, the token column outweighs the rest and is masked in two parts (two processes where
    # they are available), each through `mask_strings`, joined in order
    alone = masked_columns(table.select(["customer_id"]), rules, key, split=False)["customer_id"]
    assert alone.values.to_pylist() == expected["customer_id"]
    assert alone.distinct_after == len(set(expected["customer_id"]) - {None})
