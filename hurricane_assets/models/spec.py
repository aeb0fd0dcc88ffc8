"""Typed model specs (`domains/<name>/models.yaml`): what a consumer domain's model learns from.

A spec names the dataset whose rows the model scores, where the label comes from, the domain's own
feature columns, the entities the rows can be joined on (how shares attach), the purpose that any
share must be allowed for, where it trains, and the thresholds its monitor and the keep-or-revoke
judgement use. It is checked against the catalog on load, so a typo stops the load with the file,
the field and the reason instead of surfacing as a KeyError in the middle of a training run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hurricane_assets.catalog import Catalog, ManifestError, load_catalog
from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.catalog.manifest import load_validated_yaml

SPEC_NAME = "models.yaml"


class ModelSpecError(ManifestError):
    """A model spec that cannot be used, naming the file, the field path and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelSpec(_Strict):
    dataset: str
    column: str
    join_on: str | None = Field(default=None, description="key shared with the rows dataset; None: same dataset")


class OwnSource(_Strict):
    """Another dataset of the same domain whose columns become features, joined like a share."""

    dataset: str
    columns: tuple[str, ...] = Field(min_length=1)
    join_entity: str


class TrainingSpec(_Strict):
    environment: Literal["prod", "preprod", "dev"] = "preprod"
    train_days: int = Field(default=45, gt=0, description="training uses the most recent N days of rows")
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1, description="last share of the window, by time")


class MonitorSpec(_Strict):
    window_days: int = Field(default=14, gt=0)


class Thresholds(_Strict):
    drift_share: float = Field(default=0.3, gt=0, le=1, description="the drift check fails at this share of drifted features")
    drift_score: float = Field(default=0.1, gt=0, le=1, description="a feature drifts at this Jensen-Shannon distance")
    auc_drop: float = Field(default=0.05, gt=0, lt=1, description="the performance check fails beyond this ROC AUC drop")
    min_uplift: float = Field(default=0.015, ge=0, lt=1, description="a share is kept only if it adds this much ROC AUC")


class ModelSpec(_Strict):
    domain: str = ""  # filled from the file's folder on load
    name: str = ""  # filled from the mapping key on load
    description: str = ""
    purpose: str
    rows: str = Field(description="dataset of this domain: one scored row per row of it")
    time_column: str
    entity_keys: dict[str, str] = Field(min_length=1, description="entity -> column of the rows dataset")
    label: LabelSpec
    features: tuple[str, ...] = Field(default=(), description="feature columns of the rows dataset")
    own_sources: tuple[OwnSource, ...] = ()
    training: TrainingSpec = TrainingSpec()
    monitor: MonitorSpec = MonitorSpec()
    thresholds: Thresholds = Thresholds()

    @property
    def datasets(self) -> tuple[str, ...]:
        """Every own dataset the model reads, rows first."""
        names = [self.rows, self.label.dataset, *(s.dataset for s in self.own_sources)]
        return tuple(dict.fromkeys(names))


class ModelSpecFile(_Strict):
    models: dict[str, ModelSpec] = Field(min_length=1)


def _check_against_catalog(path: Path, domain: str, spec: ModelSpec, catalog: Catalog) -> None:
    where = f"models.{spec.name}"
    product = catalog.product(domain)

    def dataset(field: str, name: str):
        if name not in product.datasets:
            raise ModelSpecError(path, f"{where}.{field}", f"{domain} has no dataset {name!r}; it offers {', '.join(sorted(product.datasets))}")
        return product.datasets[name]

    def column(field: str, ds_name: str, name: str):
        ds = dataset(field, ds_name)
        if name not in ds.columns:
            raise ModelSpecError(path, f"{where}.{field}", f"{domain}.{ds_name} has no column {name!r}")
        return ds.columns[name]

    rows = dataset("rows", spec.rows)
    if column("time_column", spec.rows, spec.time_column).type != "timestamp":
        raise ModelSpecError(path, f"{where}.time_column", f"{spec.time_column!r} must be a timestamp column")
    for entity, key in spec.entity_keys.items():
        col = column(f"entity_keys.{entity}", spec.rows, key)
        if entity not in (col.refers_to, rows.entity):
            raise ModelSpecError(path, f"{where}.entity_keys.{entity}", f"column {key!r} refers to {col.refers_to!r}, not {entity!r}")
    if rows.entity not in spec.entity_keys:
        raise ModelSpecError(path, f"{where}.entity_keys", f"must include the rows' own entity {rows.entity!r}")
    label = column("label.column", spec.label.dataset, spec.label.column)
    if label.type != "bool":
        raise ModelSpecError(path, f"{where}.label.column", f"{spec.label.column!r} must be a bool column, not {label.type}")
    if spec.label.dataset != spec.rows:
        if spec.label.join_on is None:
            raise ModelSpecError(path, f"{where}.label.join_on", f"required when the label comes from another dataset ({spec.label.dataset})")
        column("label.join_on", spec.rows, spec.label.join_on)
        column("label.join_on", spec.label.dataset, spec.label.join_on)
    for i, name in enumerate(spec.features):
        column(f"features.{i}", spec.rows, name)
    for i, source in enumerate(spec.own_sources):
        for name in source.columns:
            column(f"own_sources.{i}.columns", source.dataset, name)
        if source.join_entity not in spec.entity_keys:
            raise ModelSpecError(path, f"{where}.own_sources.{i}.join_entity", f"{source.join_entity!r} is not one of entity_keys")
    if not spec.features and not spec.own_sources:
        raise ModelSpecError(path, f"{where}.features", "a model needs at least one own feature column or source")
    for ds_name in spec.datasets:
        ds = product.datasets[ds_name]
        if spec.training.environment not in ds.allowed_environments:
            raise ModelSpecError(path, f"{where}.training.environment",
                                 f"{domain}.{ds_name} is not allowed in {spec.training.environment}")
        if spec.purpose not in ds.allowed_purposes:
            raise ModelSpecError(path, f"{where}.purpose", f"{domain}.{ds_name} does not allow purpose {spec.purpose!r}")


def load_model_specs(domain: str, *, path: str | Path | None = None, catalog: Catalog | None = None) -> dict[str, ModelSpec]:
    """The models a domain owns (`{}` when it has no models.yaml); raise `ModelSpecError` on a bad spec."""
    path = Path(path) if path else default_domains_dir() / domain / SPEC_NAME
    if not path.exists():
        return {}
    parsed = load_validated_yaml(path, ModelSpecFile, ModelSpecError,
                                 "a model spec file must be a mapping with a `models` key")
    catalog = catalog or load_catalog()
    specs = {}
    for name, spec in parsed.models.items():
        spec = spec.model_copy(update={"domain": domain, "name": name})
        _check_against_catalog(path, domain, spec, catalog)
        specs[name] = spec
    return specs


def load_model_spec(domain: str, model: str, **kwargs) -> ModelSpec:
    specs = load_model_specs(domain, **kwargs)
    if model not in specs:
        raise KeyError(f"{domain} has no model {model!r}; its models: {', '.join(sorted(specs)) or 'none'}")
    return specs[model]
