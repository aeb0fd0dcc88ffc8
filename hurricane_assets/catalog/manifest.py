"""Typed data-product manifests (`domains/<name>/product.yaml`).

A manifest is the producer's promise: which datasets it offers, every column with its type,
classification and PII entity, the freshness SLA, and for which purposes and environments the data
may be shared. Everything downstream (checks, masking plans, policy attributes, negotiation
issues) is derived from it, so a manifest that does not validate stops the load with the file, the
field and the reason.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
BaseModelT = TypeVar("BaseModelT", bound=BaseModel)


class ManifestError(ValueError):
    """A manifest that cannot be used, naming the file, the field path and the reason."""

    def __init__(self, path: str | Path, field: str, reason: str):
        self.path = str(path)
        self.field = field
        self.reason = reason
        super().__init__(f"{self.path}: {field}: {reason}")


class Classification(str, Enum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"

    @property
    def rank(self) -> int:
        return list(Classification).index(self)


class PiiEntity(str, Enum):
    PERSON = "PERSON"
    EMAIL_ADDRESS = "EMAIL_ADDRESS"
    PHONE_NUMBER = "PHONE_NUMBER"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN_CODE = "IBAN_CODE"
    NATIONAL_ID = "NATIONAL_ID"
    LOCATION = "LOCATION"
    IP_ADDRESS = "IP_ADDRESS"
    DEVICE_ID = "DEVICE_ID"
    CUSTOMER_ID = "CUSTOMER_ID"
    FREE_TEXT = "FREE_TEXT"


ColumnType = Literal["string", "int64", "float64", "bool", "date", "timestamp"]
Environment = Literal["prod", "preprod", "dev"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    type: ColumnType
    classification: Classification
    description: str = ""
    pii: PiiEntity | None = None
    quasi_identifier: bool = False
    refers_to: str | None = Field(default=None, description="entity this column identifies, e.g. customer")
    nullable: bool = True
    tags: tuple[str, ...] = ()
    buckets: tuple[float, ...] | None = Field(
        default=None, description="lower edges of the buckets a 'generalize' masking floors this number to "
                                  "(the contract's buckets); without them, quantiles of the data")

    @model_validator(mode="after")
    def _buckets_fit(self) -> Column:
        if self.buckets is not None:
            if self.type not in ("int64", "float64"):
                raise ValueError(f"buckets apply to int64 or float64 columns, not {self.type}")
            if not self.buckets or any(a >= b for a, b in zip(self.buckets, self.buckets[1:])):
                raise ValueError(f"buckets must be a non-empty, strictly increasing list (got {list(self.buckets)})")
        return self


class PrivacyThresholds(_Strict):
    """What every masked copy and share of a dataset must measure up to (asset checks that block)."""

    k: int = Field(default=5, ge=1, description="persons per quasi-identifier group, at least")
    l_diversity: int = Field(default=1, ge=1, description="distinct sensitive values per group, at least")
    sensitive: tuple[str, ...] = Field(default=(), description="columns ℓ-diversity and inference are measured on")
    max_suppression: float = Field(default=0.05, ge=0, lt=1, description="share of rows whose QIs may be suppressed")
    max_singling_out_risk: float = Field(default=0.05, ge=0, le=1)
    max_linkability_risk: float = Field(default=0.20, ge=0, le=1, description="1/k: what k promises a prosecutor")
    max_inference_risk: float = Field(default=0.20, ge=0, le=1)
    max_two_event_singling_out_risk: float | None = Field(
        default=None, ge=0, le=1, description="limit on persons singled out by two known events (reported when unset)")
    sample_persons: int = Field(default=2000, ge=50, description="persons sampled for the attack-based risks")


class Freshness(_Strict):
    max_lag_hours: int = Field(gt=0, description="data time (max event time) may lag now by at most this")
    materialize_every_hours: int = Field(default=24, gt=0)


class Dataset(_Strict):
    description: str
    entity: str = Field(description="what one row is about, e.g. transaction")
    keys: tuple[str, ...] = Field(min_length=1)
    event_time: str
    freshness: Freshness
    allowed_purposes: tuple[str, ...] = ()
    allowed_environments: tuple[Environment, ...] = ("prod",)
    tags: tuple[str, ...] = ()
    privacy: PrivacyThresholds = Field(default_factory=PrivacyThresholds)
    columns: dict[str, Column] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _column_names(cls, columns: dict[str, Column]) -> dict[str, Column]:
        for name in columns:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"column name {name!r} must match {NAME_PATTERN}")
        return columns

    @model_validator(mode="after")
    def _references_exist(self) -> Dataset:
        for key in self.keys:
            if key not in self.columns:
                raise ValueError(f"key column {key!r} is not declared in columns")
            if self.columns[key].nullable:
                raise ValueError(f"key column {key!r} must be nullable: false")
        if self.event_time not in self.columns:
            raise ValueError(f"event_time column {self.event_time!r} is not declared in columns")
        if self.columns[self.event_time].type != "timestamp":
            raise ValueError(f"event_time column {self.event_time!r} must have type timestamp")
        for column in self.privacy.sensitive:
            if column not in self.columns:
                raise ValueError(f"privacy.sensitive names {column!r}, which is not declared in columns")
        return self

    def column_names(self) -> list[str]:
        return list(self.columns)


class DataProduct(_Strict):
    domain: str = Field(pattern=NAME_PATTERN)
    owner: str
    description: str
    datasets: dict[str, Dataset] = Field(min_length=1)

    @field_validator("datasets")
    @classmethod
    def _dataset_names(cls, datasets: dict[str, Dataset]) -> dict[str, Dataset]:
        for name in datasets:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"dataset name {name!r} must match {NAME_PATTERN}")
        return datasets


def load_validated_yaml(path: Path, model: type[BaseModelT], error: type[ManifestError], root_hint: str) -> BaseModelT:
    """Parse a YAML file into `model`; every failure raises `error` naming file, field and reason."""
    try:
        # the C parser (same safe subset, ~10x faster): every delivery and sensor tick loads the catalog
        raw = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise error(path, "<file>", "file not found") from None
    except UnicodeDecodeError as exc:
        raise error(path, f"byte {exc.start}", "not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<yaml>"
        raise error(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise error(path, "<root>", root_hint)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "<root>"
        value = first.get("input")
        shown = f" (got {value!r})" if not isinstance(value, (dict, list)) else ""
        raise error(path, field, f"{first['msg']}{shown}") from None


def load_manifest(path: str | Path, expected_domain: str | None = None) -> DataProduct:
    """Load and validate one manifest; raise `ManifestError` naming file, field and reason."""
    path = Path(path)
    product = load_validated_yaml(path, DataProduct, ManifestError, "manifest must be a mapping")
    if expected_domain is not None and product.domain != expected_domain:
        raise ManifestError(
            path, "domain", f"domain {product.domain!r} does not match its folder {expected_domain!r}"
        )
    return product
