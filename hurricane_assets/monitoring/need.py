"""From a failed monitor to a `DataNeed`: what degraded, what the model has, what it should ask for.

What to ask for is derived from the catalog, not from a list of known-good columns. A candidate is
a `feature`-tagged column of another domain's dataset that allows the model's purpose and training
environment and joins on one of the model's entities, minus the columns the model already has and
minus what it already tried and revoked for not helping, for one training window after the revocation
(`monitoring/tried.py`; each such item is listed in the need's `left_out` with why, and named in the
prompt). Its weight multiplies, and each factor is recorded as the reason:

- severity: the ROC AUC drop plus the mean drift score of the drifted features;
- relation: 1.0 when the dataset is about the rows' own entity (a column per row), 0.8 when it has
  one row per other joined entity (a column per customer), 0.4 when it must be aggregated;
- meaning: 1.0 when the producer tagged what the column measures (`channel`, `device`,
  `account_age`), 0.5 for a bare `feature`;
- evidence: 1 + the drift scores of drifted features whose column (same name and type) the dataset
  also records: a producer that sees the quantity that moved is likely to see its cause.

A tagged column is wanted by its specific tags, an untagged one by its name, which is how the
negotiation matches wanted items to columns (`negotiation_graph.scoring.serves`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.history import LedgerHistory, LedgerUnreadable
from hurricane_assets.ledger.ledger import Ledger
from hurricane_assets.models.features import FeaturePlan
from hurricane_assets.models.spec import ModelSpec
from hurricane_assets.models.store import load_model
from hurricane_assets.monitoring.drift import FeatureDrift
from hurricane_assets.monitoring.monitor import MonitorResult
from hurricane_assets.monitoring.tried import LeftOut, left_out
from negotiation_graph.strategies.llm import ENV_BASE_URL, ENV_MODEL, chat_model_from_env
from negotiation_graph.terms import Environment, NeedSpec

GENERIC_TAG = "feature"
RELATION_ROW, RELATION_ENTITY, RELATION_AGGREGATE = 1.0, 0.8, 0.4
MEANING_TAGGED, MEANING_BARE = 1.0, 0.5


class NeedError(ValueError):
    pass


class WantedItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str  # a catalog tag or a column name
    weight: float
    columns: tuple[str, ...]  # qualified catalog columns that serve it
    why: str


class DataNeed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    need_id: str
    model: str
    consumer: str
    purpose: str
    environment: str
    entity_keys: dict[str, str]
    drifted_features: tuple[FeatureDrift, ...]
    drift_share: float
    auc_baseline: float
    auc_current: float
    auc_drop: float
    has_features: tuple[str, ...]
    has_columns: tuple[str, ...]
    wanted: tuple[WantedItem, ...]  # heaviest first
    monitor_id: str
    model_version: str
    report_path: str
    created_for: datetime  # end of the monitored window
    prompt: str
    # the model trains on its last N days (`training.train_days`): the retention a share must keep
    # for the model to see the feature over its whole window (None: a need recorded before it was known)
    training_days: int | None = None
    # tried by this model and revoked for not helping, so not asked for (why and until when in each)
    left_out: tuple[LeftOut, ...] = ()

    def to_need_spec(self) -> NeedSpec:
        return NeedSpec(
            need_id=self.need_id,
            consumer=self.consumer,
            model=self.model,
            purpose=self.purpose,
            environment=Environment(self.environment),
            join_entities=tuple(self.entity_keys),
            wanted={item.key: item.weight for item in self.wanted},
            has_columns=self.has_columns,
            training_days=self.training_days,
            # ask at least what the model uses; the producer's policy caps what it gets
            retention_days=max(NeedSpec.model_fields["retention_days"].default, self.training_days or 0),
            prompt=self.prompt,
        )


def feature_columns(plan: FeaturePlan) -> dict[str, str]:
    """Feature name -> the column it was derived from (counts have none)."""
    return {f.name: f.column for f in plan.features if f.column is not None}


def _wanted(result: MonitorResult, spec: ModelSpec, catalog: Catalog, plan: FeaturePlan, has: set[str],
            tried: Iterable[LeftOut] = ()) -> list[WantedItem]:
    rows = catalog.dataset(spec.domain, spec.rows)
    drifted = result.drifted_features
    severity = max(result.auc_drop, 0.0) + (sum(f.score for f in drifted) / len(drifted) if drifted else 0.0)
    derived_from = feature_columns(plan)
    own_types = {c: col.type for c, col in rows.columns.items()}
    moved = [(derived_from[f.feature], f.score) for f in drifted if f.feature in derived_from]
    items: dict[str, WantedItem] = {}
    for domain, name, dataset in catalog.datasets():
        if domain == spec.domain or spec.purpose not in dataset.allowed_purposes:
            continue
        if spec.training.environment not in dataset.allowed_environments:
            continue
        joins = {c.refers_to for c in dataset.columns.values() if c.refers_to} & set(spec.entity_keys)
        if not joins:
            continue
        if dataset.entity == rows.entity:
            relation, how = RELATION_ROW, f"one row per {rows.entity}"
        elif dataset.entity in spec.entity_keys:
            relation, how = RELATION_ENTITY, f"one row per {dataset.entity}"
        else:
            relation, how = RELATION_AGGREGATE, f"many {dataset.entity} rows per {'/'.join(sorted(joins))}, aggregated"
        seen = [(c, s) for c, s in moved if c in dataset.columns and dataset.columns[c].type == own_types.get(c)]
        evidence = 1.0 + sum(s for _, s in seen)
        for column, spec_col in dataset.columns.items():
            if GENERIC_TAG not in spec_col.tags or column in has:
                continue
            if any(item.covers(domain, name, column) for item in tried):
                continue
            specific = [t for t in spec_col.tags if t != GENERIC_TAG]
            meaning = MEANING_TAGGED if specific else MEANING_BARE
            weight = round(severity * relation * meaning * evidence, 4)
            if weight <= 0:
                continue
            why = (f"{domain}.{name}.{column}: severity {severity:.3f} (AUC drop {result.auc_drop:+.3f}, "
                   f"{len(drifted)} drifted) x relation {relation} ({how}) x meaning {meaning} "
                   f"({'tagged ' + ', '.join(specific) if specific else 'bare feature'}) x evidence {evidence:.3f}"
                   + (f" (also records drifted {', '.join(c for c, _ in seen)})" if seen else ""))
            for key in specific or [column]:
                current = items.get(key)
                qualified = f"{domain}.{name}.{column}"
                if current is None or weight > current.weight:
                    columns = tuple(sorted({qualified, *(current.columns if current else ())}))
                    items[key] = WantedItem(key=key, weight=weight, columns=columns, why=why)
                else:
                    items[key] = current.model_copy(update={"columns": tuple(sorted({qualified, *current.columns}))})
    return sorted(items.values(), key=lambda i: (-i.weight, i.key))


def render_prompt(need: DataNeed) -> str:
    drifted = ", ".join(f"{f.feature} ({f.score:.2f})" for f in need.drifted_features) or "none"
    keys = ", ".join(f"{e} ({c})" for e, c in need.entity_keys.items())
    wanted = "; ".join(f"{w.key} (weight {w.weight:.3f}, e.g. {w.columns[0]})" for w in need.wanted[:5])
    text = (
        f"The {need.consumer} domain's {need.model} ({need.purpose}) is degrading: ROC AUC fell from "
        f"{need.auc_baseline:.3f} to {need.auc_current:.3f} (a drop of {need.auc_drop:.3f}) and "
        f"{len(need.drifted_features)} of its features drifted: {drifted}. "
        f"It joins on {keys} and already uses {', '.join(need.has_columns) or 'nothing'}. "
        f"It asks, for training in {need.environment}, for data that may explain the shift: {wanted}."
        + "".join(f" It does not ask again for {item.why}." for item in need.left_out)
    )
    return _rephrase(text)


def _rephrase(text: str) -> str:
    """With an LLM configured, let it rephrase the template; the template stays the fallback.
    The prompt is display text for the consumer agent: nothing downstream interprets it."""
    if not (os.environ.get(ENV_BASE_URL) and os.environ.get(ENV_MODEL)):
        return text
    try:
        reply = chat_model_from_env().invoke(
            [("system", "Rephrase this data request as two or three plain sentences. Keep every number and name."),
             ("human", text)])
    except Exception:  # optional component: an unreachable or failing endpoint keeps the template
        return text
    return str(reply.content).strip() or text


def _tried(spec: ModelSpec, history: LedgerHistory | None, now: datetime | None) -> tuple[LeftOut, ...]:
    """What the model tried and revoked, still cooling off at `now` (the platform clock by default)."""
    try:
        history = history if history is not None else LedgerHistory.read(Ledger())
    except LedgerUnreadable as exc:
        # without its verdicts the need would ask again for what did not help: ask for nothing instead
        raise NeedError(f"{spec.domain}.{spec.name}: the earlier keep-or-revoke verdicts cannot be read, "
                        f"so no data need is raised: {exc}") from None
    return left_out(history, spec, now or utc_now())


def _nothing_wanted(spec: ModelSpec, tried: tuple[LeftOut, ...]) -> NeedError:
    offer = (f"{spec.domain}.{spec.name}: no other domain offers feature columns joinable on "
             f"{sorted(spec.entity_keys)} for {spec.purpose} in {spec.training.environment}")
    if not tried:
        return NeedError(offer)
    return NeedError(offer + " that the model has not already tried: " + "; ".join(item.why for item in tried))


def build_data_need(result: MonitorResult, spec: ModelSpec, *, catalog: Catalog | None = None,
                    plan: FeaturePlan | None = None, history: LedgerHistory | None = None,
                    now: datetime | None = None) -> DataNeed:
    """The need a failed monitor raises (also callable on a passing one, e.g. to preview it).
    `history` (read from the ledger by default) holds the model's earlier verdicts; `now` (the
    platform clock by default) decides whose cool-off is over."""
    if not result.drifted_features and result.auc_drop <= 0:
        raise NeedError(f"{spec.domain}.{spec.name} {result.model_version}: nothing degraded in monitor run "
                        f"{result.monitor_id} (no drifted feature, no ROC AUC drop): no data need")
    catalog = catalog or load_catalog()
    plan = plan or load_model(spec.domain, spec.name, result.model_version).plan
    has_columns = tuple(dict.fromkeys(feature_columns(plan).values()))
    tried = _tried(spec, history, now)
    wanted = _wanted(result, spec, catalog, plan, set(has_columns), tried)
    if not wanted:
        raise _nothing_wanted(spec, tried)
    digest = hashlib.sha256(f"{spec.domain}/{spec.name}/{result.model_version}/{result.monitor_id}".encode()).hexdigest()
    need = DataNeed(
        need_id=f"need-{spec.domain}-{spec.name}-{digest[:12]}",
        model=spec.name,
        consumer=spec.domain,
        purpose=spec.purpose,
        environment=spec.training.environment,
        entity_keys=dict(spec.entity_keys),
        drifted_features=result.drifted_features,
        drift_share=result.drift_share,
        auc_baseline=result.auc_baseline,
        auc_current=result.auc_current,
        auc_drop=result.auc_drop,
        has_features=tuple(plan.names),
        has_columns=has_columns,
        wanted=tuple(wanted),
        monitor_id=result.monitor_id,
        model_version=result.model_version,
        report_path=result.report_path,
        created_for=result.window_end,
        prompt="",
        training_days=spec.training.train_days,
        left_out=tried,
    )
    return need.model_copy(update={"prompt": render_prompt(need)})
