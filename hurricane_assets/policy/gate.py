"""`CedarPolicyGate`: the policy authority for every offer, acceptance and delivery.

Every column of an offer is one Cedar request (batched). Allow needs a permit and no forbid; a
forbid's `@reason` annotation is the reason code. Cedar returns no reasons for an implicit deny, so
the gate probes counterfactuals (stronger masking, shorter retention and term, slower freshness, a
row filter) to tell the negotiation which concession would help.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cedarpy

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.policy.bundle import PolicyBundle, load_bundle
from hurricane_assets.policy.model import row_filter_attributes, share_context, share_request
from negotiation_graph.ports import ColumnDecision, PolicyDecision
from negotiation_graph.terms import MaskingMethod, ShareTerms

NOT_PERMITTED = "not_permitted"  # no permit covers this consumer, purpose and column
UNKNOWN_COLUMN = "unknown_column"
UNKNOWN_DATASET = "unknown_dataset"
INVALID_REQUEST = "invalid_request"  # e.g. a consumer that is not a catalog domain
# A policy that could not be evaluated (e.g. an overflow in a forbid's condition): Cedar then
# ignores that policy and may still answer "allow"; here it is a deny with its own code.
EVALUATION_ERROR = "policy_evaluation_error"
REQUEST_ERROR_PREFIX = "failed to build request"
RENEW_WITHOUT_HUMAN = "renew_without_human"  # annotation on a @requires_human rule
PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
ENVIRONMENT_NOT_ALLOWED = "environment_not_allowed"
NOTHING_SHARED = "nothing_shared"
MASKINGS_BELOW_DROP = [m for m in MaskingMethod if m is not MaskingMethod.drop]

# For an implicit deny: which single relaxation of the context would flip it, and its reason code.
RELAXATIONS: dict[str, dict[str, Any]] = {
    "retention_too_long": {"retention_days": 1},
    "term_too_long": {"term_days": 1},
    "freshness_too_demanding": {"freshness_hours": 24 * 365},
    "row_filter_required": {"has_row_filter": True},
}
# ... and which single narrowing of the rows would: a shorter window, consented rows, a sample
ROW_RELAXATIONS: dict[str, dict[str, Any]] = {
    "window_too_long": {"window_days": 1},
    "consent_required": {"consented_only": True},
    "sample_too_large": {"sample_percent": 1},
}


@dataclass(frozen=True)
class _Outcome:
    allowed: bool
    policy_ids: tuple[str, ...]
    error: str | None  # None, INVALID_REQUEST or EVALUATION_ERROR


def _error_kind(errors: list) -> str | None:
    if not errors:
        return None
    texts = [str(getattr(e, "error", e)) for e in errors]
    return INVALID_REQUEST if all(t.startswith(REQUEST_ERROR_PREFIX) for t in texts) else EVALUATION_ERROR


class CedarPolicyGate:
    """Implements `negotiation_graph.ports.PolicyGate` with Cedar (`cedarpy`)."""

    def __init__(self, catalog: Catalog | None = None, policy_dir: str | Path | None = None):
        self.catalog = catalog if catalog is not None else load_catalog()
        self.policy_dir = Path(policy_dir) if policy_dir is not None else default_domains_dir()
        self.bundle: PolicyBundle = load_bundle(self.catalog, self.policy_dir)
        self._feasible = lru_cache(maxsize=4096)(self._feasible_uncached)

    @property
    def bundle_sha256(self) -> str:
        return self.bundle.sha256

    def _run(self, producer: str, requests: list[dict[str, Any]], *, escalation: bool = False) -> list[_Outcome]:
        if not requests:
            return []
        policies = self.bundle.escalation_set(producer) if escalation else self.bundle.decision_set(producer)
        try:
            results = cedarpy.is_authorized_batch(requests, policies, self.bundle.entities, schema=self.bundle.schema)
        except Exception:  # the engine itself failed: nothing is allowed, nothing escalated
            return [_Outcome(False, (), EVALUATION_ERROR) for _ in requests]
        outcomes = []
        for r in results:
            error = _error_kind(list(r.diagnostics.errors))
            # fail closed: an error anywhere in the evaluation means the answer is not an allow
            outcomes.append(_Outcome(r.allowed and error is None, tuple(sorted(r.diagnostics.reasons)), error))
        return outcomes

    def _share_reasons(self, terms: ShareTerms) -> tuple[str, ...]:
        dataset = self.catalog.dataset(terms.producer, terms.dataset)
        reasons = []
        if terms.purpose not in dataset.allowed_purposes:
            reasons.append(PURPOSE_NOT_ALLOWED)
        if terms.environment.value not in dataset.allowed_environments:
            reasons.append(ENVIRONMENT_NOT_ALLOWED)
        if not terms.shared_columns():
            reasons.append(NOTHING_SHARED)
        return tuple(reasons)

    def _known(self, terms: ShareTerms) -> bool:
        return terms.producer in self.catalog.products and terms.dataset in self.catalog.product(terms.producer).datasets

    def evaluate(self, terms: ShareTerms) -> PolicyDecision:
        decision_id = str(uuid.uuid4())
        if not self._known(terms):
            denied = ColumnDecision(allowed=False, reasons=(UNKNOWN_DATASET,))
            return PolicyDecision(
                allowed=False,
                columns={c: denied for c in terms.columns},
                reasons=(UNKNOWN_DATASET,),
                decision_id=decision_id,
                bundle_sha256=self.bundle.sha256,
            )
        known_columns = self.catalog.dataset(terms.producer, terms.dataset).columns
        evaluated = [c for c in terms.columns if c in known_columns]
        rows = row_filter_attributes(terms.row_filter, known_columns)
        requests = [share_request(terms, c, share_context(terms, terms.columns[c], rows)) for c in evaluated]
        outcomes = dict(zip(evaluated, self._run(terms.producer, requests)))
        escalations = dict(zip(evaluated, self._run(terms.producer, requests, escalation=True)))
        columns: dict[str, ColumnDecision] = {}
        for column in terms.columns:
            if column not in outcomes:
                columns[column] = ColumnDecision(allowed=False, reasons=(UNKNOWN_COLUMN,))
                continue
            outcome = outcomes[column]
            if outcome.allowed:
                columns[column] = ColumnDecision(allowed=True, policy_ids=outcome.policy_ids)
            else:
                columns[column] = ColumnDecision(
                    allowed=False, policy_ids=outcome.policy_ids, reasons=self._deny_reasons(terms, column, outcome, rows)
                )
        share_reasons = self._share_reasons(terms)
        human = sorted({pid for c in evaluated if escalations[c].allowed for pid in escalations[c].policy_ids})
        if any(escalations[c].error for c in evaluated):
            # an escalation rule that cannot be evaluated might have asked for a human: deny
            share_reasons += (EVALUATION_ERROR,)
        return PolicyDecision(
            allowed=not share_reasons and all(c.allowed for c in columns.values()),
            columns=columns,
            reasons=share_reasons + tuple(f"requires_human:{pid}" for pid in human),
            requires_human=bool(human),
            decision_id=decision_id,
            bundle_sha256=self.bundle.sha256,
        )

    def _deny_reasons(self, terms: ShareTerms, column: str, outcome: _Outcome, rows: dict[str, Any]) -> tuple[str, ...]:
        if outcome.error:
            return (outcome.error,)
        if outcome.policy_ids:  # explicit forbids: their annotated reason codes
            return tuple(
                sorted({self.bundle.by_id[pid].reason or f"forbidden_by:{pid}" for pid in outcome.policy_ids})
            )
        masking = terms.columns[column]
        base = share_context(terms, masking, rows)
        probes: list[tuple[str, dict[str, Any]]] = [
            ("masking_too_weak", share_context(terms, m, rows))
            for m in MASKINGS_BELOW_DROP
            if m.strength > masking.strength
        ]
        probes += [(code, {**base, **change}) for code, change in RELAXATIONS.items()]
        probes += [(code, {**base, "row_filter": {**rows, **change}}) for code, change in ROW_RELAXATIONS.items()]
        results = self._run(terms.producer, [share_request(terms, column, ctx) for _, ctx in probes])
        reasons = sorted({code for (code, _), result in zip(probes, results) if result.allowed})
        return tuple(reasons) or (NOT_PERMITTED,)

    def renewal_needs_human(self, decision: PolicyDecision) -> bool:
        """Whether renewing under `decision` needs a new human approval: yes, unless every rule that
        asked for a human carries `@renew_without_human`."""
        ids = [r.split(":", 1)[1] for r in decision.reasons if r.startswith("requires_human:")]
        if decision.requires_human and not ids:
            return True
        return any(RENEW_WITHOUT_HUMAN not in getattr(self.bundle.by_id.get(pid), "annotations", {}) for pid in ids)

    def allowed_maskings(self, terms: ShareTerms, column: str) -> tuple[MaskingMethod, ...]:
        """Every masking method under which this column would be allowed with these terms."""
        known = self.catalog.dataset(terms.producer, terms.dataset).columns if self._known(terms) else None
        context = share_context(terms, MaskingMethod.none, row_filter_attributes(terms.row_filter, known))
        # hashable for the cache: the row filter record as sorted pairs (its country list as a tuple)
        rows = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in context.pop("row_filter").items()))
        key = tuple(sorted((k, v) for k, v in context.items() if k not in ("masking", "masking_rank")))
        return self._feasible(terms.producer, terms.dataset, column, key + (("row_filter", rows),))

    def feasible_masking(self, terms: ShareTerms, column: str) -> MaskingMethod | None:
        """The weakest masking under which the column may cross; None if it may not cross at all."""
        crossing = [m for m in self.allowed_maskings(terms, column) if m is not MaskingMethod.drop]
        return crossing[0] if crossing else None

    def _feasible_uncached(
        self, producer: str, dataset: str, column: str, context_key: tuple
    ) -> tuple[MaskingMethod, ...]:
        # keyed by the bundle too: a gate instance has one bundle, and the cache lives on the instance
        context = dict(context_key)
        context["row_filter"] = {k: list(v) if isinstance(v, tuple) else v for k, v in context["row_filter"]}
        probe_terms = _ProbeTerms(producer, dataset, context["consumer"])
        requests = [
            share_request(probe_terms, column, {**context, "masking": m.value, "masking_rank": m.strength})
            for m in MaskingMethod
        ]
        results = self._run(producer, requests)
        return tuple(m for m, r in zip(MaskingMethod, results) if r.allowed)

    def __repr__(self) -> str:
        return f"CedarPolicyGate(policy_dir={str(self.policy_dir)!r}, bundle_sha256={self.bundle.sha256[:12]}…)"


@dataclass(frozen=True)
class _ProbeTerms:
    """The three fields `share_request` reads, for probes that have no full ShareTerms."""

    producer: str
    dataset: str
    consumer: str
