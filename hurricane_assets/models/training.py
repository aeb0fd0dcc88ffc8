"""Train a consumer's model on its own training-environment data plus any delivered shares.

The window is the most recent `train_days` of labelled rows; the last `holdout_fraction` of it, by
time, is the holdout (the model never sees it). Rows of one instant (labels taken at one snapshot,
timestamps coarsened to the day below prod) are ordered by a hash of the row's own key, so the
split falls between two rows that `fitted_rows` can tell apart again from the stored metrics.
`train_with_and_without` fits on the same rows with and without the shares and, for several shares,
once without each, so every share's uplift is measured on the same holdout and a share that does not
help can be named.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.catalog.manifest import Dataset
from hurricane_assets.masking.keys import Keyring, table_key_id
from hurricane_assets.models.features import FeaturePlan, build_features, plan_features
from hurricane_assets.models.metrics import Scores, auc_gain_lower_bound, score
from hurricane_assets.models.sources import ShareInput, TableSource, column_facts, source_from_catalog
from hurricane_assets.models.spec import ModelSpec
from hurricane_assets.models.subjects import ReferenceSubjects, window_subjects, with_subjects
from hurricane_assets.settings import SettingError, hurricane_paths, int_setting
from hurricane_assets.storage import read_table
from negotiation_graph.ports import ColumnFacts

LABEL = "__label__"
ROW_ORDER = "__row_order__"  # ties in time broken by a hash of the row's own key (see `row_order`)
REFERENCE_CAP = 100_000  # rows of the training window kept as the monitor's drift reference
# Rows a fit learns from at most (HURRICANE_MODEL_FIT_ROWS): above it, a seeded uniform sample of the
# training part. The boosting's cost grows with rows; its AUC barely does once the sample holds
# thousands of positives (fraud at 1M alerts: ~304k training rows, ~12,000 frauds in the sample at a
# 5 % base rate). The holdout is always scored whole.
FIT_ROWS = 250_000


class TrainingError(ValueError):
    """Training cannot proceed on this data; names the model and the reason."""


class ModelMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout: Scores
    train_rows: int
    features: tuple[str, ...]
    shares: tuple[str, ...]  # contract ids
    window_start: datetime
    window_end: datetime
    holdout_start: datetime
    # The first holdout row's ROW_ORDER: rows at `holdout_start` ordered before it were fitted on.
    # None in models stored before it existed (their split is told by time alone).
    holdout_start_order: int | None = None


@dataclass(frozen=True)
class TrainingData:
    """Everything a fit reads, loaded once so ablations do not re-read the tables."""

    spec: ModelSpec
    row_entity: str
    own_columns: dict[str, ColumnFacts]
    rows: pd.DataFrame  # labelled rows, in time order, label in LABEL
    own_sources: tuple[TableSource, ...]
    shares: tuple[ShareInput, ...]
    frames: dict[str, pd.DataFrame]  # source prefix -> table
    subjects: ReferenceSubjects | None = None  # whose rows the reference holds (None: no attribution)
    erased_rows: int = 0  # rows of erased persons the copy still held, left out

    def window(self) -> tuple[pd.Index, pd.Index]:
        """(fit, holdout) row indexes of the most recent `train_days`, split by time."""
        spec = self.spec
        times = self.rows[spec.time_column]
        start = times.max() - timedelta(days=spec.training.train_days)
        in_window = self.rows.index[times >= start]
        cut = int(len(in_window) * (1 - spec.training.holdout_fraction))
        if cut < len(in_window):  # rows equal in time and key to the first holdout row go with it
            first = in_window[cut]
            order = self.rows[ROW_ORDER]
            equal = (times.loc[in_window] == times.at[first]) & (order.loc[in_window] == order.at[first])
            cut = int(np.argmax(equal.to_numpy()))
        fit, holdout = in_window[:cut], in_window[cut:]
        for part, idx in (("training", fit), ("holdout", holdout)):
            if self.rows.loc[idx, LABEL].nunique() < 2:
                raise TrainingError(f"{spec.domain}.{spec.name}: the {part} part of the last {spec.training.train_days} "
                                    f"days ({len(idx)} rows) holds a single label class")
        return fit, holdout


@dataclass(frozen=True)
class TrainedModel:
    spec: ModelSpec
    estimator: object
    plan: FeaturePlan
    metrics: ModelMetrics
    reference: pd.DataFrame  # features of the training window plus LABEL: the monitor's reference
    holdout_labels: np.ndarray | None = None  # the holdout as scored, so two fits can be compared row by row
    holdout_scores: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # where the fit's time went: features, fit, score
    erased_rows: int = 0  # rows of erased persons its data still held, left out of the fit
    subjects: pd.DataFrame | None = None  # (column, digest) of every person of its window: `window_subjects`


def own_sources(spec: ModelSpec, catalog: Catalog) -> tuple[TableSource, ...]:
    sources = []
    for own in spec.own_sources:
        dataset = catalog.dataset(spec.domain, own.dataset)
        keys = [c for c, col in dataset.columns.items() if col.refers_to == own.join_entity]
        columns = list(dict.fromkeys([*keys, *own.columns, dataset.event_time]))
        sources.append(source_from_catalog(catalog, spec.domain, own.dataset, environment=spec.training.environment,
                                           join_entity=own.join_entity, columns=columns))
    return tuple(sources)


def row_order(keys: pd.Series) -> np.ndarray:
    """A fixed 64-bit hash of each row's own key (pandas' keyed SipHash with its default key: the same
    in every process), the tiebreak of rows of one instant."""
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def load_labelled_rows(spec: ModelSpec, row_key: str) -> pd.DataFrame:
    """The rows dataset joined to its labels, from the training environment, in time order; rows of
    one instant in the order of their own key's hash (`row_key`, the column of the rows' entity)."""
    paths = hurricane_paths()
    env = spec.training.environment
    rows = read_table(paths.table_uri(env, spec.domain, spec.rows)).to_pandas()
    if spec.label.dataset != spec.rows:
        labels = read_table(paths.table_uri(env, spec.domain, spec.label.dataset),
                            columns=[spec.label.join_on, spec.label.column]).to_pandas()
        rows = rows.merge(labels.drop_duplicates(spec.label.join_on), on=spec.label.join_on, how="inner")
    rows = rows[rows[spec.label.column].notna()].copy()
    rows[LABEL] = rows[spec.label.column].astype(int)
    rows[ROW_ORDER] = row_order(rows[row_key])
    return rows.sort_values([spec.time_column, ROW_ORDER], kind="stable").reset_index(drop=True)


def fitted_rows(rows: pd.DataFrame, spec: ModelSpec, metrics: ModelMetrics) -> pd.Series:
    """Which of `rows` (`load_labelled_rows`) the model with `metrics` was fitted on: its training
    window before the holdout, with the split redrawn inside the instant it fell in."""
    times = rows[spec.time_column]
    before = times < metrics.holdout_start
    if metrics.holdout_start_order is not None:
        before |= (times == metrics.holdout_start) & (rows[ROW_ORDER] < metrics.holdout_start_order)
    return (times >= metrics.window_start) & before


def load_training_data(spec: ModelSpec, shares: list[ShareInput] | tuple[ShareInput, ...] = (), *,
                       catalog: Catalog | None = None) -> TrainingData:
    catalog = catalog or load_catalog()
    dataset = catalog.dataset(spec.domain, spec.rows)
    sources = own_sources(spec, catalog)
    prefixes = [s.prefix for s in (*sources, *shares)]
    if len(set(prefixes)) != len(prefixes):
        raise TrainingError(f"{spec.domain}.{spec.name}: two sources share a table name: {sorted(prefixes)}")
    rows = load_labelled_rows(spec, spec.entity_keys[dataset.entity])
    subjects = reference_subjects(spec, dataset, rows)
    rows, erased = without_erased_persons(rows, subjects, catalog)
    if rows.empty:
        raise TrainingError(f"{spec.domain}.{spec.name}: no labelled rows in {spec.training.environment}")
    return TrainingData(
        spec=spec,
        row_entity=dataset.entity,
        own_columns={c: column_facts(dataset.columns[c]) for c in spec.features},
        rows=rows,
        own_sources=sources,
        shares=tuple(shares),
        frames={s.prefix: s.read() for s in (*sources, *shares)},
        subjects=subjects,
        erased_rows=erased,
    )


def without_erased_persons(rows: pd.DataFrame, subjects: ReferenceSubjects, catalog: Catalog) -> tuple[pd.DataFrame, int]:
    """`rows` without the erasure register's persons, and how many rows that removed: a copy refreshed
    before the request still holds them, and a model must not learn from them again. A copy masked
    with another key than the environment's current one (a rotation since) matches no one: with
    anyone in the register, training fails until the copy is refreshed (which removes them)."""
    from hurricane_assets.masking.erasure import load_erasures
    from hurricane_assets.models.subjects import erased_training_rows

    erasures = load_erasures()
    if not erasures:
        return rows, 0
    if subjects.key_id is None:
        raise TrainingError(f"{subjects.domain}.{subjects.dataset}@{subjects.environment} was masked with another key "
                            f"than {subjects.environment}'s current one, so the erased persons' rows in it cannot be "
                            "found: refresh that copy (its masked-copy asset) before retraining")
    hit = erased_training_rows(rows, subjects, erasures, Keyring.load(subjects.environment), catalog)
    if not hit.any():
        return rows, 0
    return rows[~hit].reset_index(drop=True), int(hit.sum())


def reference_subjects(spec: ModelSpec, dataset: Dataset, rows: pd.DataFrame) -> ReferenceSubjects:
    """The rows' entity columns (those an erasure matches, `remove_erased`'s) and the key that made their
    tokens: the masked copy's stamp, which must be the environment's current key for a digest under
    that key to match an erased person later (after a rotation, before the copy is refreshed, it is not)."""
    env = spec.training.environment
    current = Keyring.load(env).key_id
    made_with = current if env == "prod" else table_key_id(hurricane_paths().table_uri(env, spec.domain, spec.rows))
    return ReferenceSubjects(domain=spec.domain, dataset=spec.rows, environment=env,
                             key_id=current if made_with == current else None,
                             columns={c: col.refers_to for c, col in dataset.columns.items()
                                      if col.refers_to and c in rows.columns})


def model_threads() -> int:
    """OpenMP threads for fitting and scoring (HURRICANE_MODEL_THREADS, default 1): on a small shared
    machine the boosting's per-split thread hand-offs cost more than they save (measured 7x slower
    with 2 threads on a loaded 2-core box), and results do not depend on it."""
    return max(1, int(os.environ.get("HURRICANE_MODEL_THREADS", "1")))


def fit_rows() -> int:
    """The most rows one fit learns from (HURRICANE_MODEL_FIT_ROWS, default `FIT_ROWS`)."""
    try:
        return int_setting("HURRICANE_MODEL_FIT_ROWS", FIT_ROWS, minimum=1_000, unit="rows")
    except SettingError as exc:
        raise TrainingError(str(exc)) from None


def fit_sample(fit_idx: pd.Index, limit: int) -> pd.Index:
    """`fit_idx` whole up to `limit` rows, else a seeded uniform sample of it in time order: the
    same rows for every fit on the same data, so an ablation compares fits on the same sample."""
    if len(fit_idx) <= limit:
        return fit_idx
    chosen = np.sort(np.random.default_rng(0).choice(len(fit_idx), size=limit, replace=False))
    return fit_idx[chosen]


def predict(estimator, matrix: pd.DataFrame) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=model_threads(), user_api="openmp"):
        return estimator.predict_proba(matrix)[:, 1]


def new_estimator(categorical: list[bool]):
    from sklearn.ensemble import HistGradientBoostingClassifier

    # No early stopping: its validation split would make the model depend on row count quirks.
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0, early_stopping=False,
                                          categorical_features=np.array(categorical, dtype=bool))


def fit(data: TrainingData, shares: tuple[ShareInput, ...] | None = None) -> TrainedModel:
    """Fit on the window's training part (at most `fit_rows()` of it) with the own sources plus
    `shares` (default: all loaded); score the whole holdout."""
    spec = data.spec
    shares = data.shares if shares is None else shares
    fit_idx, holdout_idx = data.window()
    sources = [*data.own_sources, *shares]
    started = time.perf_counter()
    plan = plan_features(spec, data.row_entity, data.own_columns, data.rows.loc[fit_idx], sources, data.frames)
    if not plan.names:
        raise TrainingError(f"{spec.domain}.{spec.name}: no usable features ({plan.skipped})")
    matrix = build_features(plan, spec, data.row_entity, data.rows, data.frames)
    labels = data.rows[LABEL]
    estimator = new_estimator(plan.categorical)
    from threadpoolctl import threadpool_limits

    learn_idx = fit_sample(fit_idx, fit_rows())
    featured = time.perf_counter()
    with threadpool_limits(limits=model_threads(), user_api="openmp"):
        estimator.fit(matrix.loc[learn_idx], labels.loc[learn_idx])
    fitted = time.perf_counter()
    holdout_labels, holdout_scores = labels.loc[holdout_idx].to_numpy(), predict(estimator, matrix.loc[holdout_idx])
    holdout = score(holdout_labels, holdout_scores)
    times = data.rows[spec.time_column]
    window = fit_idx.append(holdout_idx)
    reference = matrix.loc[window].assign(**{LABEL: labels.loc[window]})
    if len(reference) > REFERENCE_CAP:
        reference = reference.sample(REFERENCE_CAP, random_state=0).sort_index()
    subjects = None
    if data.subjects is not None:  # per row whose it is, so an erasure can take that person's rows out
        keyring = Keyring.load(data.subjects.environment)
        reference = with_subjects(reference, data.rows, data.subjects, keyring)
        # the reference is a sample above REFERENCE_CAP: who the model learnt from is kept whole
        subjects = window_subjects(data.rows.loc[window], data.subjects, keyring)
    metrics = ModelMetrics(
        holdout=holdout,
        train_rows=len(learn_idx),
        features=tuple(plan.names),
        shares=tuple(s.contract_id for s in shares),
        window_start=times.loc[window[0]].to_pydatetime(),
        window_end=times.loc[window[-1]].to_pydatetime(),
        holdout_start=times.loc[holdout_idx[0]].to_pydatetime(),
        holdout_start_order=int(data.rows.at[holdout_idx[0], ROW_ORDER]),
    )
    seconds = {"features": featured - started, "fit": fitted - featured, "score": time.perf_counter() - fitted}
    return TrainedModel(spec=spec, estimator=estimator, plan=plan, metrics=metrics, reference=reference.reset_index(drop=True),
                        holdout_labels=holdout_labels, holdout_scores=holdout_scores, seconds=seconds,
                        erased_rows=data.erased_rows, subjects=subjects)


def train_model(spec: ModelSpec, shares: list[ShareInput] | tuple[ShareInput, ...] = (), *,
                catalog: Catalog | None = None) -> TrainedModel:
    started = time.perf_counter()
    data = load_training_data(spec, shares, catalog=catalog)
    read = time.perf_counter() - started
    trained = fit(data)
    return replace(trained, seconds={"read": read, **trained.seconds})


class ShareUplift(BaseModel):
    """What one share adds, measured two ways, so complementary shares are not judged redundant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contract_id: str
    table: str
    uplift: float  # ROC AUC with every share minus with every share but this one
    uplift_alone: float  # ROC AUC with only this share minus with none
    confident_uplift: float  # the larger of the two measures' 95 % lower confidence bounds
    features: tuple[str, ...]
    keep: bool  # confident_uplift reaches the spec's min_uplift


@dataclass(frozen=True)
class UpliftReport:
    with_shares: TrainedModel
    without_shares: TrainedModel
    per_share: dict[str, ShareUplift]  # by contract id

    @property
    def uplift(self) -> float:
        return self.with_shares.metrics.holdout.roc_auc - self.without_shares.metrics.holdout.roc_auc

    def summary(self) -> dict:
        return {
            "auc_without": self.without_shares.metrics.holdout.roc_auc,
            "auc_with": self.with_shares.metrics.holdout.roc_auc,
            "uplift": self.uplift,
            "per_share": {cid: u.model_dump() for cid, u in self.per_share.items()},
        }


def _gain_bound(better: TrainedModel, worse: TrainedModel) -> float:
    return auc_gain_lower_bound(better.holdout_labels, better.holdout_scores, worse.holdout_scores)


def train_with_and_without(spec: ModelSpec, shares: list[ShareInput] | tuple[ShareInput, ...], *,
                           catalog: Catalog | None = None) -> UpliftReport:
    """Both models on the same holdout, plus a leave-one-share-out ablation when there are several."""
    data = load_training_data(spec, shares, catalog=catalog)
    with_all = fit(data)
    without = fit(data, shares=())
    per_share = {}
    base_auc = without.metrics.holdout.roc_auc
    for share in data.shares:
        rest = tuple(s for s in data.shares if s.contract_id != share.contract_id)
        alone = with_all if not rest else fit(data, shares=(share,))
        all_but = without if not rest else fit(data, shares=rest)
        gain = with_all.metrics.holdout.roc_auc - all_but.metrics.holdout.roc_auc
        gain_alone = alone.metrics.holdout.roc_auc - base_auc
        confident = max(_gain_bound(with_all, all_but), _gain_bound(alone, without))
        per_share[share.contract_id] = ShareUplift(
            contract_id=share.contract_id, table=share.prefix, uplift=gain, uplift_alone=gain_alone,
            confident_uplift=confident, features=tuple(with_all.plan.features_from(share.contract_id)),
            keep=confident >= spec.thresholds.min_uplift,
        )
    return UpliftReport(with_shares=with_all, without_shares=without, per_share=per_share)
