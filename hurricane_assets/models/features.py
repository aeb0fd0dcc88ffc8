"""Feature derivation driven by catalog metadata, never by column names.

A `FeaturePlan` is decided once, on the training rows, and stored with the model, so scoring later
rebuilds exactly the same columns with the same category vocabularies. What a column becomes
depends on its catalog facts and on how its table joins to the model's rows:

- a table keyed by the rows' own entity (a transaction) or with one row per joined entity (one per
  customer) joins directly: numbers as they are, booleans as 0/1, low-cardinality strings as
  category codes, timestamps as age in days at the row's time (account opened -> account age), and
  identifiers of other entities (a device) as novelty: 1 the first time that value is seen for the
  row's owner (the customer), ordered by event time. Tokens work as well as raw values because
  masking tokenizes deterministically.
- a table with many rows per joined entity (tickets per customer) is aggregated per entity:
  row count, mean of each numeric column, share of each frequent category. Point in time: when the
  table has an event time, each scored row aggregates only the entity's rows at or before the
  scored row's own time (no look-ahead: a ticket filed after the alert says nothing about it then).
  A table without an event time cannot be placed in time and is aggregated over all its rows.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from hurricane_assets.models.sources import ShareInput, TableSource
from hurricane_assets.models.spec import ModelSpec
from negotiation_graph.ports import ColumnFacts

MAX_CATEGORIES = 30  # more distinct values than this reads as an identifier, not a category
FREQUENT_CATEGORIES = 5  # categories per aggregated column that get their own share feature
MIN_CATEGORY_SHARE = 0.01
SECONDS_PER_DAY = 86_400.0


class FeatureError(ValueError):
    """A source that cannot feed the model, naming the source and the reason."""


class FeatureKind(str, Enum):
    numeric = "numeric"
    boolean = "boolean"
    categorical = "categorical"
    age_days = "age_days"
    novelty = "novelty"
    count = "count"
    mean = "mean"
    category_share = "category_share"


class Feature(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    column: str | None  # None for a row count
    kind: FeatureKind
    vocabulary: tuple[str, ...] = ()
    category: str | None = None


class SourcePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: ShareInput | TableSource  # a share first, so a stored plan keeps its contract id
    join: Literal["direct", "aggregate"]
    source_key: str
    rows_key: str
    features: tuple[Feature, ...]


class FeaturePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    own: tuple[Feature, ...]
    sources: tuple[SourcePlan, ...] = ()
    skipped: dict[str, str] = {}  # column -> why it is not a feature

    @property
    def features(self) -> tuple[Feature, ...]:
        return (*self.own, *(f for s in self.sources for f in s.features))

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical(self) -> list[bool]:
        return [f.kind is FeatureKind.categorical for f in self.features]

    def share_labels(self) -> list[str]:
        """The contract ids of the shares this plan reads."""
        return [s.source.contract_id for s in self.sources if isinstance(s.source, ShareInput)]

    def features_from(self, label: str) -> list[str]:
        """Feature names a source (a share's contract id, or a table prefix) contributed."""
        return [f.name for s in self.sources if s.source.label == label for f in s.features]


def slug(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", str(value)).strip("_").lower() or "blank"


def vocabulary(values: pd.Series, limit: int = MAX_CATEGORIES) -> tuple[str, ...] | None:
    """Categories by frequency (ties by value); None when there are too many to be a category."""
    counts = values.dropna().astype(str).value_counts()
    if len(counts) == 0 or len(counts) > limit:
        return None
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(v for v, _ in ordered)


def _owner_entity(spec: ModelSpec, row_entity: str) -> str | None:
    """The entity novelty is counted per (the customer behind a transaction), if the rows have one."""
    return next((e for e in spec.entity_keys if e != row_entity), None)


def _direct_feature(name: str, column: str, facts: ColumnFacts, values: pd.Series, join_entities: set[str]) -> Feature | str:
    if facts.refers_to in join_entities:
        return "join key"
    if facts.type == "bool":
        return Feature(name=name, column=column, kind=FeatureKind.boolean)
    if facts.type in ("int64", "float64"):
        return Feature(name=name, column=column, kind=FeatureKind.numeric)
    if facts.type in ("timestamp", "date"):
        return Feature(name=name, column=column, kind=FeatureKind.age_days)
    if facts.type == "string" and facts.refers_to:
        return Feature(name=name, column=column, kind=FeatureKind.novelty)
    if facts.type == "string":
        vocab = vocabulary(values)
        if vocab is None:
            return f"string with more than {MAX_CATEGORIES} distinct values and no entity: not a category"
        return Feature(name=name, column=column, kind=FeatureKind.categorical, vocabulary=vocab)
    return f"type {facts.type} has no feature derivation"


def _aggregate_features(source: TableSource, frame: pd.DataFrame, key: str) -> tuple[list[Feature], dict[str, str]]:
    features = [Feature(name=f"{source.prefix}__count", column=None, kind=FeatureKind.count)]
    skipped = {}
    for column, facts in source.columns.items():
        qualified = f"{source.prefix}.{column}"
        if column == key or facts.refers_to:
            skipped[qualified] = "identifier: not aggregated"
        elif facts.type in ("int64", "float64", "bool"):
            features.append(Feature(name=f"{source.prefix}__{column}__mean", column=column, kind=FeatureKind.mean))
        elif facts.type == "string" and (vocab := vocabulary(frame[column])) is not None:
            shares = frame[column].astype(str).value_counts(normalize=True)
            for category in vocab[:FREQUENT_CATEGORIES]:
                if shares.get(category, 0.0) >= MIN_CATEGORY_SHARE:
                    features.append(Feature(name=f"{source.prefix}__{column}__share_{slug(category)}", column=column,
                                            kind=FeatureKind.category_share, category=category))
        else:
            skipped[qualified] = f"{facts.type} column of a many-rows-per-{source.join_entity} table: not aggregated"
    return features, skipped


def plan_features(spec: ModelSpec, row_entity: str, own_columns: dict[str, ColumnFacts], rows: pd.DataFrame,
                  sources: list[TableSource], frames: dict[str, pd.DataFrame]) -> FeaturePlan:
    """Decide every feature from the training rows (`rows`) and the sources' tables (`frames` by prefix)."""
    join_entities = set(spec.entity_keys)
    own, skipped = [], {}
    for column in spec.features:
        outcome = _direct_feature(column, column, own_columns[column], rows[column], join_entities)
        if isinstance(outcome, Feature):
            own.append(outcome)
        else:
            skipped[column] = outcome
    plans = []
    for source in sources:
        if source.join_entity not in spec.entity_keys:
            raise FeatureError(f"{source.label} ({source.prefix}): join entity {source.join_entity!r} is not one of "
                               f"{spec.domain}.{spec.name}'s entities {sorted(spec.entity_keys)}")
        frame = frames[source.prefix]
        key = source.join_column()
        rows_key = spec.entity_keys[source.join_entity]
        if frame[key].is_unique:
            features = []
            aligned = aligned_rows(rows, rows_key, frame, key)
            for column, facts in source.columns.items():
                if column == key or column == source.event_time:
                    skipped[f"{source.prefix}.{column}"] = "join key" if column == key else "the table's own event time"
                    continue
                outcome = _direct_feature(f"{source.prefix}__{column}", column, facts, aligned[column], join_entities)
                if isinstance(outcome, Feature):
                    features.append(outcome)
                else:
                    skipped[f"{source.prefix}.{column}"] = outcome
            plans.append(SourcePlan(source=source, join="direct", source_key=key, rows_key=rows_key, features=tuple(features)))
        else:
            features, why = _aggregate_features(source, frame, key)
            skipped.update(why)
            plans.append(SourcePlan(source=source, join="aggregate", source_key=key, rows_key=rows_key, features=tuple(features)))
    return FeaturePlan(own=tuple(own), sources=tuple(plans), skipped=skipped)


def aligned_rows(rows: pd.DataFrame, rows_key: str, frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """`frame`'s row for each of `rows` by a unique `key` (all-missing where none), indexed like `rows`:
    the left join `merge` does, with one hash table of `frame`'s keys (2.3x faster on 1M string keys)."""
    positions = pd.Index(frame[key]).get_indexer(rows[rows_key])
    return frame.reset_index(drop=True).reindex(positions).set_axis(rows.index)


def _encode(values: pd.Series, vocab: tuple[str, ...]) -> np.ndarray:
    """Each value's position in `vocab` (by its str), NaN when missing or not in it. Each distinct value
    is looked up once (a Python call per row cost 13 s of a 1M-row retrain)."""
    codes = {v: float(i) for i, v in enumerate(vocab)}
    positions, distinct = pd.factorize(values, use_na_sentinel=True)  # missing -> -1
    per_distinct = np.array([codes.get(str(v), np.nan) for v in distinct] + [np.nan], dtype=float)
    return per_distinct[positions]  # -1 picks the trailing NaN


def _direct_column(feature: Feature, values: pd.Series, row_time: pd.Series) -> np.ndarray:
    if feature.kind is FeatureKind.categorical:
        return _encode(values, feature.vocabulary)
    if feature.kind is FeatureKind.age_days:
        stamps = pd.to_datetime(values, utc=True)
        return ((row_time - stamps).dt.total_seconds() / SECONDS_PER_DAY).to_numpy(dtype=float)
    return pd.to_numeric(values.astype("float64"), errors="coerce").to_numpy(dtype=float)


def novelty(values: pd.Series, owner: pd.Series | None, order: pd.Series) -> pd.Series:
    """1.0 where a value appears for the first time for its owner in event order, NaN where missing."""
    # tz-aware times as datetime64 (UTC), not one Timestamp object per row (15 s at 1M rows); same order
    times = order.to_numpy(dtype="datetime64[ns]") if isinstance(order.dtype, pd.DatetimeTZDtype) else order.to_numpy()
    frame = pd.DataFrame({"v": values.to_numpy(), "t": times}, index=values.index)
    frame["o"] = owner.to_numpy() if owner is not None else ""
    ranked = frame.sort_values("t", kind="stable")
    first = (~ranked.duplicated(["o", "v"])).astype(float)
    first[ranked["v"].isna()] = np.nan
    return first.reindex(values.index)


def build_features(plan: FeaturePlan, spec: ModelSpec, row_entity: str, rows: pd.DataFrame,
                   frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The feature matrix for `rows` (index preserved), columns in `plan.names` order."""
    row_time = pd.to_datetime(rows[spec.time_column], utc=True)
    columns: dict[str, np.ndarray] = {}
    for feature in plan.own:
        columns[feature.name] = _direct_column(feature, rows[feature.column], row_time)
    owner = _owner_entity(spec, row_entity)
    for part in plan.sources:
        frame = frames[part.source.prefix]
        if part.join == "direct":
            columns.update(_direct_source(part, spec, owner, rows, frame, row_time))
        else:
            columns.update(_aggregate_source(part, rows, frame, row_time))
    return pd.DataFrame(columns, index=rows.index)[plan.names]


def _direct_source(part: SourcePlan, spec: ModelSpec, owner: str | None, rows: pd.DataFrame, frame: pd.DataFrame,
                   row_time: pd.Series) -> dict[str, np.ndarray]:
    source = part.source
    owner_column = next((c for c, f in source.columns.items() if owner and f.refers_to == owner), None)
    frame = frame.copy()
    for feature in part.features:
        if feature.kind is FeatureKind.novelty and owner_column and source.event_time:
            # The table knows who and when for its whole history: first-seen is judged on all of it.
            frame[f"__novel__{feature.column}"] = novelty(frame[feature.column], frame[owner_column], frame[source.event_time])
    aligned = aligned_rows(rows, part.rows_key, frame, part.source_key)
    out = {}
    for feature in part.features:
        if feature.kind is FeatureKind.novelty:
            if f"__novel__{feature.column}" in aligned:
                out[feature.name] = aligned[f"__novel__{feature.column}"].to_numpy(dtype=float)
            else:  # judged on the model's own rows: their owner and their time
                who = rows[spec.entity_keys[owner]] if owner else None
                out[feature.name] = novelty(aligned[feature.column], who, row_time).to_numpy(dtype=float)
        else:
            out[feature.name] = _direct_column(feature, aligned[feature.column], row_time)
    return out


def _aggregate_source(part: SourcePlan, rows: pd.DataFrame, frame: pd.DataFrame,
                      row_time: pd.Series) -> dict[str, np.ndarray]:
    if part.source.event_time is not None:
        per_row = _aggregate_as_of(part, rows, frame, row_time)
    else:
        per_row = _aggregate_whole(part, rows, frame)
    out = {}
    for feature in part.features:
        values = per_row[feature.name].to_numpy(dtype=float)
        # No rows for this entity means zero of them, not an unknown count.
        out[feature.name] = np.nan_to_num(values, nan=0.0) if feature.kind is FeatureKind.count else values
    return out


def _aggregate_whole(part: SourcePlan, rows: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    groups = frame.groupby(part.source_key, sort=False)
    per_entity = pd.DataFrame(index=groups.size().index)
    for feature in part.features:
        if feature.kind is FeatureKind.count:
            per_entity[feature.name] = groups.size().astype(float)
        elif feature.kind is FeatureKind.mean:
            values = pd.to_numeric(frame[feature.column].astype("float64"), errors="coerce")
            per_entity[feature.name] = values.groupby(frame[part.source_key]).mean()
        else:
            hit = (frame[feature.column].astype(str) == feature.category).astype(float)
            per_entity[feature.name] = hit.groupby(frame[part.source_key]).mean()
    return rows[[part.rows_key]].merge(per_entity, left_on=part.rows_key, right_index=True, how="left")


def _aggregate_as_of(part: SourcePlan, rows: pd.DataFrame, frame: pd.DataFrame, row_time: pd.Series) -> pd.DataFrame:
    """Per scored row, the aggregates of its entity's rows at or before the row's time: running
    totals per entity in time order, then for each scored row the entity's last total not after it."""
    key, time = part.source_key, part.source.event_time
    stamps = pd.to_datetime(frame[time], utc=True).astype("datetime64[ns, UTC]")
    known = frame[key].notna() & stamps.notna()  # a row without a time cannot be placed before anything
    history = pd.DataFrame({"__key": frame.loc[known, key].astype(str).to_numpy(),
                            "__t": stamps[known].to_numpy()})
    history = history.assign(__order=np.arange(len(history)))
    sources = frame.loc[known].reset_index(drop=True)
    for feature in part.features:
        if feature.kind is FeatureKind.count:
            history[feature.name] = 1.0
        elif feature.kind is FeatureKind.mean:
            values = pd.to_numeric(sources[feature.column].astype("float64"), errors="coerce")
            history[f"{feature.name}__sum"] = values.fillna(0.0).to_numpy()
            history[f"{feature.name}__n"] = values.notna().astype(float).to_numpy()
        else:
            history[feature.name] = (sources[feature.column].astype(str) == feature.category).astype(float).to_numpy()
    history = history.sort_values(["__key", "__t", "__order"], kind="stable")
    running = history.groupby("__key", sort=False)
    count = running.cumcount().to_numpy(dtype=float) + 1.0
    totals = pd.DataFrame({"__key": history["__key"].to_numpy(), "__t": history["__t"].to_numpy()})
    for feature in part.features:
        if feature.kind is FeatureKind.count:
            totals[feature.name] = count
        elif feature.kind is FeatureKind.mean:
            sums = running[f"{feature.name}__sum"].cumsum().to_numpy()
            seen = running[f"{feature.name}__n"].cumsum().to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                totals[feature.name] = np.where(seen > 0, sums / np.where(seen > 0, seen, 1.0), np.nan)
        else:
            totals[feature.name] = running[feature.name].cumsum().to_numpy() / count
    totals = totals.sort_values("__t", kind="stable")  # merge_asof wants time order; ties keep entity order
    scored = pd.DataFrame({"__key": rows[part.rows_key].astype(str).where(rows[part.rows_key].notna(), None),
                           "__t": row_time.astype("datetime64[ns, UTC]").to_numpy(), "__row": np.arange(len(rows))})
    placed = scored[scored["__key"].notna() & scored["__t"].notna()].sort_values("__t", kind="stable")
    matched = pd.merge_asof(placed, totals, on="__t", by="__key", direction="backward", allow_exact_matches=True)
    out = pd.DataFrame(index=np.arange(len(rows)), columns=[f.name for f in part.features], dtype=float)
    out.loc[matched["__row"].to_numpy(), [f.name for f in part.features]] = matched[[f.name for f in part.features]].to_numpy(dtype=float)
    out.index = rows.index
    return out
