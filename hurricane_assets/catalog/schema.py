"""The physical schema a manifest promises, and the difference to what a table actually has."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from hurricane_assets.catalog.manifest import ColumnType, Dataset

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def arrow_type(column_type: ColumnType) -> pa.DataType:
    return ARROW_TYPES[column_type]


def arrow_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema(
        [pa.field(name, arrow_type(col.type), nullable=col.nullable) for name, col in dataset.columns.items()]
    )


def _normalise(t: pa.DataType) -> pa.DataType:
    # Delta round-trips strings as large/view strings and may drop the tz spelling; compare meaning.
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    return t


@dataclass(frozen=True)
class SchemaDiff:
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = field(default=())  # (column, expected, actual)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.retyped)

    def describe(self) -> str:
        if self.ok:
            return "schema matches the manifest"
        parts = []
        if self.missing:
            parts.append(f"missing columns: {', '.join(self.missing)}")
        if self.unexpected:
            parts.append(f"columns not in the manifest: {', '.join(self.unexpected)}")
        if self.retyped:
            parts.append(
                "retyped: " + ", ".join(f"{c} (manifest {e}, table {a})" for c, e, a in self.retyped)
            )
        return "; ".join(parts)


def schema_diff(expected: pa.Schema, actual: pa.Schema) -> SchemaDiff:
    exp = {f.name: _normalise(f.type) for f in expected}
    act = {f.name: _normalise(f.type) for f in actual}
    return SchemaDiff(
        missing=tuple(n for n in exp if n not in act),
        unexpected=tuple(n for n in act if n not in exp),
        retyped=tuple((n, str(exp[n]), str(act[n])) for n in exp if n in act and exp[n] != act[n]),
    )
