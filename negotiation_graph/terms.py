"""The typed, finite issue space that agents negotiate over, and the data need that starts it.

Everything here is plain data with a canonical form, so two parties (and the ledger) can agree on
the exact bytes of an offer by its SHA-256.
"""

from __future__ import annotations

import hashlib
import math
from enum import Enum
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from negotiation_graph.canonical import canonical_json

MAX_WORTH = 1000.0  # a need's weights are relative worths (a drift score times its evidence: ~0.1-5)


class MaskingMethod(str, Enum):
    """How a column crosses over, weakest protection first."""

    none = "none"
    tokenize = "tokenize"
    format_preserving = "format_preserving"
    generalize = "generalize"
    redact = "redact"
    drop = "drop"

    @property
    def strength(self) -> int:
        return MASKING_STRENGTH[self]  # (a lookup: scoring asks for it tens of thousands of times)


class Environment(str, Enum):
    """Target environment of a share, most isolated first."""

    dev = "dev"
    preprod = "preprod"
    prod = "prod"

    @property
    def exposure(self) -> int:
        return ENVIRONMENT_EXPOSURE[self]


MASKING_STRENGTH = {method: rank for rank, method in enumerate(MaskingMethod)}
ENVIRONMENT_EXPOSURE = {environment: rank for rank, environment in enumerate(Environment)}


Scalar = str | int | float | bool


class Predicate(BaseModel):
    """One typed comparison; a row filter is a conjunction of these. Never raw SQL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    op: Literal["eq", "in", "between", ">=", "<="]
    values: tuple[Scalar, ...] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _arity(cls, values, info):
        op = info.data.get("op")
        if op == "between" and len(values) != 2:
            raise ValueError("between takes exactly two values")
        if op in ("eq", ">=", "<=") and len(values) != 1:
            raise ValueError(f"{op} takes exactly one value")
        return values


class RowFilter(BaseModel):
    """Which rows cross over: all predicates hold, within the time window, sampled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all_of: tuple[Predicate, ...] = ()
    since_days: int | None = Field(default=None, gt=0, description="only rows whose event time is this recent")
    sample_fraction: float | None = Field(default=None, gt=0, le=1)

    @property
    def is_everything(self) -> bool:
        return not self.all_of and self.since_days is None and self.sample_fraction is None


class ShareTerms(BaseModel):
    """One complete offer: what crosses from `producer` to `consumer`, how, for what, for how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: str
    consumer: str
    dataset: str
    columns: dict[str, MaskingMethod] = Field(min_length=1)
    row_filter: RowFilter = RowFilter()
    purpose: str
    environment: Environment
    freshness_hours: int = Field(gt=0, description="the copy is refreshed at least this often")
    retention_days: int = Field(gt=0)
    term_days: int = Field(gt=0, description="access expires this many days after signature")

    def canonical(self) -> bytes:
        return self._canonical

    def sha256(self) -> str:
        # frozen, so both are computed once: an offer is hashed by the gate, its message, the
        # message validator and the acceptance check
        return self._sha256

    @cached_property
    def _canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @cached_property
    def _sha256(self) -> str:
        return hashlib.sha256(self._canonical).hexdigest()

    def model_copy(self, *, update=None, deep: bool = False) -> ShareTerms:
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("_canonical", None)  # the copy may have other bytes
        copied.__dict__.pop("_sha256", None)
        return copied

    def shared_columns(self) -> dict[str, MaskingMethod]:
        """The columns that actually cross over (dropped ones do not)."""
        return {c: m for c, m in self.columns.items() if m is not MaskingMethod.drop}


class NeedSpec(BaseModel):
    """What a consumer's model needs, in catalog terms; starts a negotiation.

    `wanted` maps a column name or a catalog tag to how much it is worth to the consumer (e.g. the
    drift score of the feature it would explain). `listings` ("producer.dataset") narrows who is
    asked to those listings; empty, every joinable listing is. `prompt` is generated prose for
    display and for an optional LLM; it is untrusted and never interpreted by the policy gate.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    need_id: str
    consumer: str
    model: str
    purpose: str
    environment: Environment
    join_entities: tuple[str, ...] = Field(min_length=1, description="entities the consumer can join on")
    wanted: dict[str, float] = Field(min_length=1)
    has_columns: tuple[str, ...] = ()
    freshness_hours: int = Field(default=24, gt=0)
    retention_days: int = Field(default=90, gt=0)
    term_days: int = Field(default=90, gt=0)
    # rows wanted: the last `window_days` (None: all history) of the given `countries` (empty: all)
    window_days: int | None = Field(default=None, gt=0)
    countries: tuple[str, ...] = ()
    # the model trains on its last `training_days` of rows: a share whose retention is shorter leaves
    # the older part of that window without the feature (rows past retention are deleted from the
    # share), so the consumer values retention up to this length (`scoring.retention_cover`)
    training_days: int | None = Field(default=None, gt=0)
    # a person asking for named columns of one dataset means that dataset: a column name alone
    # (txn_id, amount) is served by other listings too, which must not be asked
    listings: tuple[str, ...] = ()
    prompt: str = ""

    @field_validator("wanted")
    @classmethod
    def _worth(cls, wanted):
        # a worth is a relative weight: 1e308 overflowed the utilities mid-negotiation ("min() arg is an
        # empty sequence" after the CFP was sent), NaN and infinities made the agents refuse
        for key, weight in wanted.items():
            if not math.isfinite(weight) or not 0 < weight <= MAX_WORTH:
                raise ValueError(f"wanted[{key[:80]!r}] = {weight}: a worth must be a number in (0, {MAX_WORTH}]")
        return wanted

    @field_validator("listings")
    @classmethod
    def _qualified(cls, listings):
        for listing in listings:
            producer, _, dataset = listing.partition(".")
            if not producer or not dataset:
                raise ValueError(f"listing {listing[:80]!r}: expected PRODUCER.DATASET, e.g. payments.transactions")
        return listings

    @model_serializer(mode="wrap")
    def _without_empty_listings(self, handler):
        # a need open to every listing keeps the bytes (and so the negotiation id and the signed
        # CFP) it had before needs could name listings
        data = handler(self)
        if not self.listings:
            data.pop("listings", None)
        return data

    def admits(self, producer: str, dataset: str) -> bool:
        """Whether the listing `producer.dataset` may be asked to serve this need."""
        return not self.listings or f"{producer}.{dataset}" in self.listings

    @model_validator(mode="after")
    def _asks_what_it_uses(self):
        if self.training_days is not None and self.retention_days < self.training_days:
            raise ValueError(f"retention_days {self.retention_days} is shorter than training_days "
                             f"{self.training_days}: ask for at least the window the model trains on")
        return self
