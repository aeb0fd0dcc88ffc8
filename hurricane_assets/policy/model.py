"""The Cedar model of a share, generated from the manifests: schema, column entities, request context.

principal `Domain::"<consumer>"` (an enumerated type: only catalog domains exist), action
`Action::"share"`, resource `Column::"<domain>.<dataset>.<column>"` carrying its manifest
attributes, context = the offer's terms. Cedar has no ordering on strings, so classification,
masking and environment also come as ranks (`*_rank`), which policies compare with `<`, `>=`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hurricane_assets.catalog import Catalog, Classification, PiiEntity
from negotiation_graph.terms import Environment, MaskingMethod, RowFilter, ShareTerms

SHARE_ACTION = 'Action::"share"'

COLUMN_ATTRIBUTES: dict[str, str] = {
    "domain": "String",
    "dataset": "String",
    "column": "String",
    "data_type": "String",
    "classification": "String",
    "classification_rank": "Long",
    "pii": "String",  # "" when the column holds no personal data
    "is_pii": "Bool",
    "quasi_identifier": "Bool",
    "refers_to": "String",
    "tags": "Set<String>",
    "dataset_tags": "Set<String>",
    "allowed_purposes": "Set<String>",
    "allowed_environments": "Set<String>",
}

CONTEXT_ATTRIBUTES: dict[str, str] = {
    "consumer": "String",
    "purpose": "String",
    "environment": "String",
    "environment_rank": "Long",
    "masking": "String",
    "masking_rank": "Long",
    "retention_days": "Long",
    "term_days": "Long",
    "freshness_hours": "Long",
    "has_row_filter": "Bool",
    "row_filter": "{ window_days: Long, consented_only: Bool, sample_percent: Long, all_countries: Bool, "
    "countries: Set<String>, other_predicates: Long }",
}
# a share without a time window reaches all history: policies compare `window_days` like any window
UNBOUNDED_WINDOW_DAYS = 36500


def cedar_schema(catalog: Catalog) -> str:
    """Cedar schema text; the set of domains is the enumeration of principals."""
    domains = ", ".join(json.dumps(d) for d in catalog.domains)
    column = ",\n".join(f"  {name}: {kind}" for name, kind in COLUMN_ATTRIBUTES.items())
    context = ",\n".join(f"    {name}: {kind}" for name, kind in CONTEXT_ATTRIBUTES.items())
    return (
        "// Generated from the data-product manifests by hurricane_assets.policy.model; do not edit.\n"
        f"entity Domain enum [{domains}];\n"
        f"entity Column = {{\n{column}\n}};\n"
        "action share appliesTo {\n  principal: Domain,\n  resource: Column,\n"
        f"  context: {{\n{context}\n  }}\n}};\n"
    )


def column_uid(domain: str, dataset: str, column: str) -> str:
    return f"{domain}.{dataset}.{column}"


def column_entities(catalog: Catalog) -> list[dict[str, Any]]:
    entities = []
    for ref in catalog.columns():
        ds = catalog.dataset(ref.domain, ref.dataset)
        spec = ref.spec
        entities.append(
            {
                "uid": {"type": "Column", "id": ref.qualified},
                "attrs": {
                    "domain": ref.domain,
                    "dataset": ref.dataset,
                    "column": ref.column,
                    "data_type": spec.type,
                    "classification": spec.classification.value,
                    "classification_rank": spec.classification.rank,
                    "pii": spec.pii.value if spec.pii else "",
                    "is_pii": spec.pii is not None,
                    "quasi_identifier": spec.quasi_identifier,
                    "refers_to": spec.refers_to or "",
                    "tags": list(spec.tags),
                    "dataset_tags": list(ds.tags),
                    "allowed_purposes": list(ds.allowed_purposes),
                    "allowed_environments": list(ds.allowed_environments),
                },
                "parents": [],
            }
        )
    return entities


def row_filter_attributes(row_filter: RowFilter, columns: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Cedar sees of a row filter: the predicate's meaning, not a yes/no flag.

    `window_days` (no window: UNBOUNDED_WINDOW_DAYS), `sample_percent` (rounded up, so a rule such
    as `<= 10` cannot be passed by 10.4 %), `consented_only` (an `eq true` on the dataset's column
    tagged `consent`), `countries` / `all_countries` (an `eq`/`in` on the column tagged or named
    `country`; several such predicates keep only their intersection) and how many other
    predicates there are. `columns`: the dataset's column specs (None: no tagged columns known)."""
    consent = _tagged(columns, "consent")
    country = _tagged(columns, "country")
    consented, countries, others = False, None, 0
    for predicate in row_filter.all_of:
        if predicate.column == consent and predicate.op == "eq" and predicate.values == (True,):
            consented = True
        elif predicate.column == country and predicate.op in ("eq", "in"):
            values = {str(v) for v in predicate.values}
            countries = values if countries is None else countries & values
        else:
            others += 1
    fraction = row_filter.sample_fraction
    return {
        "window_days": row_filter.since_days if row_filter.since_days is not None else UNBOUNDED_WINDOW_DAYS,
        "consented_only": consented,
        "sample_percent": 100 if fraction is None else math.ceil(round(fraction * 100, 9)),
        "all_countries": countries is None,
        "countries": sorted(countries or ()),
        "other_predicates": others,
    }


def _tagged(columns: dict[str, Any] | None, tag: str) -> str | None:
    for name, spec in sorted((columns or {}).items()):
        if tag in spec.tags or name == tag:
            return name
    return None


def share_context(
    terms: ShareTerms, masking: MaskingMethod, rows: dict[str, Any] | None = None, **overrides: Any
) -> dict[str, Any]:
    """The request context of `terms` with this masking; `rows` from `row_filter_attributes` (None:
    computed without the dataset's tagged columns)."""
    context = {
        "consumer": terms.consumer,
        "purpose": terms.purpose,
        "environment": terms.environment.value,
        "environment_rank": terms.environment.exposure,
        "masking": masking.value,
        "masking_rank": masking.strength,
        "retention_days": terms.retention_days,
        "term_days": terms.term_days,
        "freshness_hours": terms.freshness_hours,
        "has_row_filter": not terms.row_filter.is_everything,
        "row_filter": rows if rows is not None else row_filter_attributes(terms.row_filter),
    }
    context.update(overrides)
    return context


def share_request(terms: ShareTerms, column: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": {"type": "Domain", "id": terms.consumer},
        "action": SHARE_ACTION,
        "resource": {"type": "Column", "id": column_uid(terms.producer, terms.dataset, column)},
        "context": context,
    }


def vocabulary(catalog: Catalog, domain: str | None) -> dict[str, set[str]]:
    """Known string values per attribute, so a policy comparing with a typo fails at load.

    For a domain's policy, datasets and columns are that domain's own; the org policy sees all.
    """
    refs = [r for r in catalog.columns() if domain is None or r.domain == domain]
    datasets = [catalog.dataset(d, n) for d, n, _ in catalog.datasets()]
    return {
        "domain": set(catalog.domains),
        "consumer": set(catalog.domains),
        "dataset": {r.dataset for r in refs},
        "column": {r.column for r in refs},
        "data_type": {"string", "int64", "float64", "bool", "date", "timestamp"},
        "classification": {c.value for c in Classification},
        "pii": {p.value for p in PiiEntity} | {""},
        "refers_to": {r.spec.refers_to for r in catalog.columns() if r.spec.refers_to} | {""},
        "tags": {t for r in catalog.columns() for t in r.spec.tags},
        "dataset_tags": {t for ds in datasets for t in ds.tags},
        "purpose": {p for ds in datasets for p in ds.allowed_purposes},
        "allowed_purposes": {p for ds in datasets for p in ds.allowed_purposes},
        "environment": {e.value for e in Environment},
        "allowed_environments": {e.value for e in Environment},
        "masking": {m.value for m in MaskingMethod},
    }
