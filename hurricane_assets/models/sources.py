"""Tables a model reads besides its rows: delivered shares and the domain's other own datasets.

Both are described the same way (where the table is, what each column is per the catalog, which
entity it joins on), so one feature derivation serves them; a share adds the contract it came from.

Where the table is, is named, not written down: the environment, the domain whose environment folder
holds it (the consumer, for a share) and the table's name there. The location is resolved from the
current settings on every read (`uri`), so a model stored in one home and read in a copy of it, or
after the home moved, reads the copy's own tables. Before, the stored plan pinned absolute paths, and
a copied home whose payments share had been revoked went on reading the original home's copy.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hurricane_assets.catalog import Catalog
from hurricane_assets.catalog.facts import column_facts
from hurricane_assets.settings import ENVIRONMENTS, hurricane_paths
from hurricane_assets.storage import read_table
from negotiation_graph.ports import ColumnFacts
from negotiation_graph.terms import ShareTerms

NAME = r"^[A-Za-z0-9_][A-Za-z0-9_-]*$"  # one path segment: an edited plan cannot point outside its folder
# the tail of a location stored before locations were named: <anything>/envs/<environment>/<holder>/<table>
STORED_LAYOUT = re.compile(r"/envs/(?P<environment>[^/]+)/(?P<holder>[^/]+)/(?P<table>[^/]+)$")


class StoredLocationError(ValueError):
    """A stored table location that cannot be resolved against the current settings."""


def location_from_uri(uri: str) -> dict[str, str]:
    """environment, holder and table of an absolute table location written by an earlier version: the
    tail inside the home's layout is kept and the home it was written in is dropped."""
    path = uri.partition("://")[2] if "://" in uri else uri
    match = STORED_LAYOUT.search(posixpath.normpath(path))
    if match is None:
        raise StoredLocationError(f"stored table location {uri!r} is not inside a home's "
                                  "envs/<environment>/<domain>/<table> layout: retrain the model to store it by name")
    return match.groupdict()


class TableSource(BaseModel):
    """A Delta table whose columns become features, joined to the model's rows on `join_entity`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: str
    dataset: str
    environment: str
    holder: str = Field(pattern=NAME, description="the domain whose environment folder holds the table")
    table: str = Field(pattern=NAME, description="the table's name in that folder")
    columns: dict[str, ColumnFacts] = Field(min_length=1)
    join_entity: str
    event_time: str | None = Field(default=None, description="the table's own event time column, if it has one")

    @model_validator(mode="before")
    @classmethod
    def _stored_uri(cls, data: Any) -> Any:
        """A plan stored before this change held `uri`, an absolute path into the home it was trained
        in; it is read as the same table of the current home (`location_from_uri`)."""
        if isinstance(data, dict) and "uri" in data and "table" not in data:
            data = {k: v for k, v in data.items() if k != "uri"} | location_from_uri(str(data["uri"]))
        return data

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in ENVIRONMENTS:
            raise ValueError(f"unknown environment {value!r}; expected one of {', '.join(ENVIRONMENTS)}")
        return value

    @property
    def uri(self) -> str:
        """Where the table is under the current settings (never a path stored with the model)."""
        return hurricane_paths().table_uri(self.environment, self.holder, self.table)

    @property
    def prefix(self) -> str:
        """Feature names start with this, so the model (and its ablation) knows where each came from."""
        return f"{self.producer}__{self.dataset}"

    @property
    def label(self) -> str:
        return self.prefix

    def read(self) -> pd.DataFrame:
        return read_table(self.uri, columns=list(self.columns)).to_pandas()

    def join_column(self) -> str:
        for name, facts in self.columns.items():
            if facts.refers_to == self.join_entity:
                return name
        raise ValueError(f"{self.prefix} at {self.uri}: no column refers to its join entity {self.join_entity!r}")


class ShareInput(TableSource):
    """A delivered share: a producer's dataset under a contract, in the consumer's environment."""

    contract_id: str

    @property
    def label(self) -> str:
        return self.contract_id


def source_from_catalog(
    catalog: Catalog,
    producer: str,
    dataset: str,
    *,
    environment: str,
    join_entity: str,
    holder: str | None = None,
    table: str | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
    contract_id: str | None = None,
) -> TableSource:
    """Describe `producer.dataset` from its manifest (only `columns` when given, e.g. a contract's
    shared columns), read from table `table` (default: the dataset) of `holder`'s folder (default:
    the producer's) in `environment`; with `contract_id` the result is a `ShareInput`."""
    spec = catalog.dataset(producer, dataset)
    names = list(columns) if columns is not None else list(spec.columns)
    unknown = [c for c in names if c not in spec.columns]
    if unknown:
        raise KeyError(f"{producer}.{dataset} has no column(s) {', '.join(unknown)}")
    args = dict(
        producer=producer,
        dataset=dataset,
        environment=environment,
        holder=holder or producer,
        table=table or dataset,
        columns={c: column_facts(spec.columns[c]) for c in names},
        join_entity=join_entity,
        event_time=spec.event_time if spec.event_time in names else None,
    )
    return ShareInput(contract_id=contract_id, **args) if contract_id else TableSource(**args)


def join_entities(spec, catalog: Catalog) -> list[str]:
    """The entities a model's rows can join shares on, finest (the rows' own entity) first."""
    own = catalog.dataset(spec.domain, spec.rows).entity
    return sorted(spec.entity_keys, key=lambda e: e != own)


def share_from_terms(terms: ShareTerms, label: str, catalog: Catalog, entities: list[str], *,
                     table: str | None = None) -> ShareInput:
    """The share `terms` describe, as a model reads it from the consumer's folder in the terms'
    environment (table `<producer>__<dataset>`, or `table`, e.g. a trial's): the shared (not dropped)
    columns, joined on the first of `entities` (finest first, e.g. transaction, then customer) that one
    of those columns refers to. `label` names the share in features and uplift reports."""
    from hurricane_assets.contracts.check import share_table_name

    spec = catalog.dataset(terms.producer, terms.dataset)
    columns = [c for c in terms.shared_columns() if c in spec.columns]
    refers = {spec.columns[c].refers_to for c in columns}
    join_entity = next((e for e in entities if e in refers), None)
    if join_entity is None:
        raise ValueError(f"{label}: none of the shared columns of {terms.producer}.{terms.dataset} "
                         f"({', '.join(columns)}) refers to {' or '.join(entities)}")
    return source_from_catalog(catalog, terms.producer, terms.dataset, environment=terms.environment.value,
                               holder=terms.consumer, table=table or share_table_name(terms),
                               join_entity=join_entity, columns=columns, contract_id=label)


def share_from_contract(contract, catalog: Catalog, entities: list[str]) -> ShareInput:
    """The share a signed contract delivers, read from where settings put the consumer's copy (never
    from a path written in the contract file, nor in a stored model: it is resolved on each read)."""
    return share_from_terms(contract.terms, contract.contract_id, catalog, entities)
