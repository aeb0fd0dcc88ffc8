"""Masking plans: which operator each column gets, derived from the manifest or from a contract.

A plan is data (JSON-able, versioned by the hash of its rules) and holds no key material; the
engine adds the environment's key at run time. The default plan below prod follows the column's
classification and PII entity; a contract may only strengthen it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hurricane_assets.catalog.manifest import Classification, Column, Dataset, PiiEntity
from hurricane_assets.masking.registry import operator_class
from negotiation_graph.terms import MaskingMethod

POLICY_VERSION = "masking-policy-1"
PROD = "prod"
DEFAULT_QUANTILES = 20  # buckets of a generalised number without contract buckets: ventiles of the data
TEMPORAL_TYPES = ("date", "timestamp")


class PlanError(ValueError):
    """A plan that would be unsafe or cannot be built; names the dataset, the column and the reason."""


class ColumnRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    operator: str
    params: dict[str, Any] = Field(default_factory=dict)
    quasi_identifier: bool = False
    unique: bool = Field(default=False, description="a key: distinct inputs must stay distinct (collision check)")

    @property
    def method(self) -> MaskingMethod:
        return operator_class(self.operator).method

    @property
    def drops(self) -> bool:
        return self.method is MaskingMethod.drop


class MaskingPlan(BaseModel):
    """Column → rule for one dataset and target environment. `source` says where the rules came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str
    env: str
    source: str
    rules: dict[str, ColumnRule]
    expected_types: dict[str, str] = Field(description="manifest column → manifest type, in order")
    sensitive_columns: tuple[str, ...] = Field(default=(), description="PII or confidential and above")
    person_column: str | None = Field(default=None, description="whose rows these are (k counts persons)")
    raised_to_floor: tuple[str, ...] = Field(
        default=(), description="columns a contract asked to keep exact below prod that the platform masks anyway "
                                "(stable keys tokenized, quasi-identifiers generalised)")

    @property
    def version(self) -> str:
        canonical = json.dumps({c: r.model_dump() for c, r in self.rules.items()}, sort_keys=True)
        return f"{POLICY_VERSION}+{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"

    def quasi_identifiers(self) -> list[str]:
        return [c for c, r in self.rules.items() if r.quasi_identifier and not r.drops]


def _rule(operator: str, quasi_identifier: bool = False, **params: Any) -> ColumnRule:
    return ColumnRule(operator=operator, params=params, quasi_identifier=quasi_identifier)


def entity_context(column: Column) -> str:
    """The token namespace: what the value identifies (customer ids tokenize alike in every table)."""
    return column.refers_to or (column.pii.value.lower() if column.pii else "value")


# The operator each PII entity gets below prod. Free text mirrors these, so a value found in text
# masks exactly like the column it came from.
ENTITY_RULES: dict[PiiEntity, ColumnRule] = {
    PiiEntity.EMAIL_ADDRESS: _rule("email", entity="email"),
    PiiEntity.PHONE_NUMBER: _rule("phone", entity="phone"),
    PiiEntity.CREDIT_CARD: _rule("credit_card", entity="card"),
    PiiEntity.IBAN_CODE: _rule("iban", entity="iban"),
    PiiEntity.PERSON: _rule("fake_name", entity="person"),
    PiiEntity.IP_ADDRESS: _rule("hmac_token", entity="ip_address"),
    PiiEntity.DEVICE_ID: _rule("hmac_token", entity="device"),
    PiiEntity.CUSTOMER_ID: _rule("hmac_token", entity="customer"),
    PiiEntity.NATIONAL_ID: _rule("drop"),
    PiiEntity.DATE_OF_BIRTH: _rule("generalize_date", quasi_identifier=True, years=1),
    PiiEntity.LOCATION: _rule("prefix", quasi_identifier=True, length=3),
}


def is_quasi_identifier(column: Column) -> bool:
    """Declared in the manifest, or a date or timestamp: when something happened to a person is
    something others can know about them (a payment seen, a ticket sent)."""
    return column.quasi_identifier or column.type in TEMPORAL_TYPES


def is_stable_key(name: str, column: Column, dataset: Dataset) -> bool:
    """A prod identifier that is not a PII join key (txn_id, ticket_id, session_id, alert_id): kept in
    clear it re-links a masked row to the prod row, and so to its person."""
    return (column.pii is None and column.type in ("string", "int64")
            and (name in dataset.keys or column.refers_to is not None))


def person_column(dataset: Dataset) -> str | None:
    """The column naming the person a row belongs to: the customer id, or the key of a customer table."""
    for name, spec in dataset.columns.items():
        if spec.pii is PiiEntity.CUSTOMER_ID:
            return name
    return dataset.keys[0] if dataset.entity == "customer" and len(dataset.keys) == 1 else None


def free_text_rule(dataset: Dataset) -> ColumnRule:
    """Redaction that mirrors `ENTITY_RULES` and removes the row's own identifying values."""
    row_columns = {
        name: col.pii.value for name, col in dataset.columns.items()
        if col.pii is not None and col.pii is not PiiEntity.FREE_TEXT
    }
    entity_rules = {e.value: r.model_dump(include={"operator", "params"}) for e, r in ENTITY_RULES.items()}
    return _rule("redact_text", entity_rules=entity_rules, row_columns=row_columns)


def _default_rule(name: str, column: Column, dataset: Dataset, tokenize_restricted: frozenset[str]) -> ColumnRule:
    pii = column.pii
    if pii is PiiEntity.NATIONAL_ID:
        return _rule("drop")
    if column.classification is Classification.restricted:
        if name in tokenize_restricted and column.type in ("string", "int64"):
            return _rule("hmac_token", entity=entity_context(column))
        return _rule("drop")
    if pii is PiiEntity.FREE_TEXT:
        return free_text_rule(dataset)
    if pii is not None:
        base = ENTITY_RULES[pii]
        params = dict(base.params)
        if "entity" in params and column.refers_to:
            params["entity"] = column.refers_to
        return ColumnRule(operator=base.operator, params=params,
                          quasi_identifier=base.quasi_identifier or column.quasi_identifier)
    if is_stable_key(name, column, dataset):
        return _rule("hmac_token", entity=entity_context(column))
    if is_quasi_identifier(column):
        return _generalisation(name, column)
    if column.classification is Classification.confidential:
        return _rule("hmac_token", entity=entity_context(column)) if column.type in ("string", "int64") else _rule("drop")
    return _rule("keep")


def _generalisation(name: str, column: Column) -> ColumnRule:
    if column.type in TEMPORAL_TYPES:
        # The day: exact times single people out, the day keeps the windows models train on.
        return _rule("generalize_date", quasi_identifier=True, days=1)
    if column.type in ("int64", "float64"):
        return _number_buckets(column, quasi_identifier=True)
    if column.type == "string" and column.pii is PiiEntity.LOCATION:
        return _rule("prefix", quasi_identifier=True, length=3)
    # Coarse categorical QIs (country): kept as they are; the k-anonymity gate suppresses small groups.
    return _rule("keep", quasi_identifier=True)


def _number_buckets(column: Column, quasi_identifier: bool) -> ColumnRule:
    """The contract's buckets when the manifest gives them, else quantiles of the data."""
    if column.buckets is not None:
        return _rule("bucket", quasi_identifier=quasi_identifier, edges=list(column.buckets))
    return _rule("bucket", quasi_identifier=quasi_identifier, quantiles=DEFAULT_QUANTILES)


def _check_env(env: str) -> None:
    from hurricane_assets.settings import ENVIRONMENTS

    if env not in ENVIRONMENTS:
        raise PlanError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")


def default_plan(dataset: Dataset, env: str, *, name: str = "<dataset>", source: str | None = None,
                 tokenize_restricted: tuple[str, ...] = ()) -> MaskingPlan:
    """The manifest-derived plan: prod keeps everything; below prod, classification and PII decide.

    `tokenize_restricted` names restricted identifier columns that get an irreversible token instead
    of being dropped (never NATIONAL_ID).
    """
    _check_env(env)
    for col in tokenize_restricted:
        if col not in dataset.columns:
            raise PlanError(f"{name}: tokenize_restricted names {col!r}, which is not a column of the manifest")
    restricted = frozenset(tokenize_restricted)
    rules = {
        col: _rule("keep", quasi_identifier=spec.quasi_identifier) if env == PROD
        else _default_rule(col, spec, dataset, restricted)
        for col, spec in dataset.columns.items()
    }
    return _plan(dataset, env, name, source or f"manifest of {name}", rules)


def _contract_rule(name: str, column: Column, method: MaskingMethod, dataset: Dataset, env: str,
                   where: str) -> ColumnRule:
    qi = is_quasi_identifier(column)
    pii = column.pii
    if method is MaskingMethod.none:
        if env != PROD and pii is not None:
            raise PlanError(f"{where}: column {name!r} holds {pii.value} and cannot cross to {env} unmasked")
        if env != PROD and is_stable_key(name, column, dataset):
            return _rule("hmac_token", entity=entity_context(column))  # the consumer's copies hold it so
        if env != PROD and qi:
            return _generalisation(name, column)
        return _rule("keep", quasi_identifier=qi)
    if method is MaskingMethod.drop:
        return _rule("drop")
    if method is MaskingMethod.tokenize:
        if column.type not in ("string", "int64"):
            raise PlanError(f"{where}: column {name!r} has type {column.type}; tokenize applies to string or int64")
        return _rule("hmac_token", quasi_identifier=qi, entity=entity_context(column))
    if method is MaskingMethod.format_preserving:
        if pii in (PiiEntity.EMAIL_ADDRESS, PiiEntity.PHONE_NUMBER, PiiEntity.CREDIT_CARD, PiiEntity.IBAN_CODE,
                   PiiEntity.PERSON):
            base = ENTITY_RULES[pii]
            return ColumnRule(operator=base.operator, params=base.params, quasi_identifier=qi)
        if column.type in TEMPORAL_TYPES:
            # Shifted per person by a keyed offset, an exact time no longer matches what anyone saw,
            # so it leaves the k gate (intervals within one person survive: the point of shifting).
            return _rule("date_shift", quasi_identifier=False, entity=_shift_entity(dataset),
                         entity_column=_entity_column(dataset, name, where))
        if column.type == "string":
            return _rule("keyed_chars", quasi_identifier=qi, entity=entity_context(column))
        raise PlanError(f"{where}: column {name!r} has type {column.type}; format_preserving has no operator for it")
    if method is MaskingMethod.generalize:
        if column.type in TEMPORAL_TYPES:
            # A birth date needs year bands against re-identification; any other date is a feature
            # whose recency matters (account age), and a month keeps it (the k gate may go coarser).
            if pii is PiiEntity.DATE_OF_BIRTH:
                return _rule("generalize_date", quasi_identifier=True, years=1)
            return _rule("generalize_date", quasi_identifier=True, months=1)
        if column.type in ("int64", "float64"):
            return _number_buckets(column, quasi_identifier=qi)
        if column.type == "string":
            return _rule("prefix", quasi_identifier=qi, length=3)
        raise PlanError(f"{where}: column {name!r} has type {column.type}; generalize has no operator for it")
    if method is MaskingMethod.redact:
        if column.type != "string":
            raise PlanError(f"{where}: column {name!r} has type {column.type}; redact applies to text")
        return free_text_rule(dataset)
    raise PlanError(f"{where}: unknown masking method {method!r} for column {name!r}")


def _entity_column(dataset: Dataset, column: str, where: str) -> str:
    """The column whose value keys a per-entity date shift: the customer id if any, else the row key."""
    for name, spec in dataset.columns.items():
        if spec.pii is PiiEntity.CUSTOMER_ID:
            return name
    if len(dataset.keys) == 1:
        return dataset.keys[0]
    raise PlanError(f"{where}: no entity column to key the date shift of {column!r}")


def _shift_entity(dataset: Dataset) -> str:
    return "customer" if any(c.pii is PiiEntity.CUSTOMER_ID for c in dataset.columns.values()) else dataset.entity


def plan_from_contract(dataset: Dataset, env: str, columns: dict[str, MaskingMethod], *,
                       name: str = "<dataset>") -> MaskingPlan:
    """The plan for a negotiated share: each listed column gets its contract method; every other
    column is dropped. Below prod a contract may only strengthen the default plan."""
    _check_env(env)
    where = f"contract for {name} ({env})"
    unknown = sorted(set(columns) - set(dataset.columns))
    if unknown:
        raise PlanError(f"{where}: columns not in the manifest: {', '.join(unknown)}")
    baseline = default_plan(dataset, env, name=name)
    rules: dict[str, ColumnRule] = {}
    raised: list[str] = []
    for col, spec in dataset.columns.items():
        method = MaskingMethod(columns.get(col, MaskingMethod.drop))
        rule = _contract_rule(col, spec, method, dataset, env, where)
        floor = baseline.rules[col].method
        shifted_time = rule.operator == "date_shift" and spec.pii is None  # "coarsened or shifted per person"
        if env != PROD and rule.method.strength < floor.strength and not shifted_time:
            raise PlanError(f"{where}: column {col!r} asks for {method.value}, weaker than the default "
                            f"{floor.value} for {env}")
        if method is MaskingMethod.none and rule.operator != "keep":
            raised.append(col)
        rules[col] = rule
    return _plan(dataset, env, name, where, rules, raised_to_floor=tuple(raised))


def _plan(dataset: Dataset, env: str, name: str, source: str, rules: dict[str, ColumnRule],
          raised_to_floor: tuple[str, ...] = ()) -> MaskingPlan:
    identifying = (MaskingMethod.tokenize, MaskingMethod.format_preserving)
    rules = {
        col: rule.model_copy(update={"unique": True})
        if (col in dataset.keys or dataset.columns[col].refers_to) and rule.method in identifying else rule
        for col, rule in rules.items()
    }
    sensitive = tuple(c for c, spec in dataset.columns.items()
                      if spec.pii is not None or spec.classification.rank >= Classification.confidential.rank)
    return MaskingPlan(dataset=name, env=env, source=source, rules=rules, sensitive_columns=sensitive,
                       expected_types={c: spec.type for c, spec in dataset.columns.items()},
                       person_column=person_column(dataset), raised_to_floor=raised_to_floor)
