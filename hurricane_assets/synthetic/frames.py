"""Shape a generated frame exactly as the manifest promises: columns, order, dtypes, nullability."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hurricane_assets.catalog.manifest import Column, Dataset

UTC_TIMESTAMP = "datetime64[us, UTC]"


def pandas_dtype(column: Column) -> str:
    """The pandas dtype a manifest column type maps to (nullable ints and bools use masked dtypes)."""
    if column.type == "int64":
        return "Int64" if column.nullable else "int64"
    if column.type == "bool":
        return "boolean" if column.nullable else "bool"
    if column.type == "float64":
        return "float64"
    if column.type == "timestamp":
        return UTC_TIMESTAMP
    return "object"  # string and date: Python str / datetime.date objects


def conform(frame: pd.DataFrame, dataset: Dataset, where: str) -> pd.DataFrame:
    """`frame` with exactly the manifest's columns in manifest order and dtypes; raise naming `where`."""
    expected = dataset.column_names()
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        raise ValueError(f"{where}: generated columns differ from the manifest: missing {missing}, extra {extra}")
    out = {}
    for name in expected:
        column = dataset.columns[name]
        series = frame[name]
        if not column.nullable and series.isna().any():
            raise ValueError(f"{where}.{name}: manifest says not nullable, generator produced {int(series.isna().sum())} nulls")
        if column.type == "timestamp":
            if str(series.dtype) != UTC_TIMESTAMP:
                raise ValueError(f"{where}.{name}: expected {UTC_TIMESTAMP}, generator produced {series.dtype}")
        elif column.type == "date":
            if not all(v is None or type(v) is dt.date for v in series):
                raise ValueError(f"{where}.{name}: expected datetime.date values")
        elif column.type == "string":
            series = series.astype(object).where(series.notna(), None)
        else:
            series = series.astype(pandas_dtype(column))
        out[name] = series.reset_index(drop=True)
    return pd.DataFrame(out)
