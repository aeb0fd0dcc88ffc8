"""Tables a model reads besides its rows: delivered shares and the domain's other own datasets.

Both are described the same way (where the table is, what each column is per the catalog, which
entity it joins on), so one feature derivation serves them; a share adds the contract it came from.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from hurricane_assets.catalog import Catalog
from hurricane_assets.catalog.facts import column_facts
from hurricane_assets.storage import read_table
from negotiation_graph.ports import ColumnFacts
from negotiation_graph.terms import ShareTerms


class TableSource(BaseModel):
    """A Delta table whose columns become features, joined to the model's rows on `join_entity`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: str
    dataset: str
    uri: str
    columns: dict[str, ColumnFacts] = Field(min_length=1)
    join_entity: str
    event_time: str | None = Field(default=None, description="the table's own event time column, if it has one")

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
    uri: str,
    *,
    join_entity: str,
    columns: list[str] | tuple[str, ...] | None = None,
    contract_id: str | None = None,
) -> TableSource:
    """Describe `producer.dataset` at `uri` from its manifest (only `columns` when given, e.g. a
    contract's shared columns); with `contract_id` the result is a `ShareInput`."""
    spec = catalog.dataset(producer, dataset)
    names = list(columns) if columns is not None else list(spec.columns)
    unknown = [c for c in names if c not in spec.columns]
    if unknown:
        raise KeyError(f"{producer}.{dataset} has no column(s) {', '.join(unknown)}")
    args = dict(
        producer=producer,
        dataset=dataset,
        uri=uri,
        columns={c: column_facts(spec.columns[c]) for c in names},
        join_entity=join_entity,
        event_time=spec.event_time if spec.event_time in names else None,
    )
    return ShareInput(contract_id=contract_id, **args) if contract_id else TableSource(**args)


def join_entities(spec, catalog: Catalog) -> list[str]:
    """The entities a model's rows can join shares on, finest (the rows' own entity) first."""
    own = catalog.dataset(spec.domain, spec.rows).entity
    return sorted(spec.entity_keys, key=lambda e: e != own)


def share_from_terms(terms: ShareTerms, uri: str, label: str, catalog: Catalog, entities: list[str]) -> ShareInput:
    """The share `terms` describe, as a model reads it from `uri`: the shared (not dropped) columns,
    joined on the first of `entities` (finest first, e.g. transaction, then customer) that one of
    those columns refers to. `label` names the share in features and uplift reports."""
    spec = catalog.dataset(terms.producer, terms.dataset)
    columns = [c for c in terms.shared_columns() if c in spec.columns]
    refers = {spec.columns[c].refers_to for c in columns}
    join_entity = next((e for e in entities if e in refers), None)
    if join_entity is None:
        raise ValueError(f"{label}: none of the shared columns of {terms.producer}.{terms.dataset} "
                         f"({', '.join(columns)}) refers to {' or '.join(entities)}")
    return source_from_catalog(catalog, terms.producer, terms.dataset, uri,
                               join_entity=join_entity, columns=columns, contract_id=label)


def share_from_contract(contract, catalog: Catalog, entities: list[str]) -> ShareInput:
    """The share a signed contract delivers, read from where settings put the consumer's copy (never
    from a path written in the contract file)."""
    from hurricane_assets.contracts.check import share_uri_for

    return share_from_terms(contract.terms, share_uri_for(contract.terms), contract.contract_id, catalog, entities)
