"""A consumer's delivered shares, described as model inputs (`ShareInput`): what its models train on
besides its own data. Only active contracts whose copy exists count."""

from __future__ import annotations

from collections.abc import Sequence

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.models.sources import ShareInput, source_from_catalog
from hurricane_assets.storage import table_exists


def join_entity(contract: Contract, entities: Sequence[str], catalog: Catalog) -> str | None:
    """The entity the consumer joins this share on: the dataset's own entity when the consumer's
    rows are about it, else an entity one of the shared columns refers to."""
    spec = catalog.dataset(contract.producer, contract.dataset)
    shared = contract.terms.shared_columns()
    if spec.entity in entities and any(spec.columns[c].refers_to == spec.entity for c in shared):
        return spec.entity
    for entity in entities:
        if any(spec.columns[c].refers_to == entity for c in shared):
            return entity
    return None


def share_inputs_for(
    consumer: str,
    entities: Sequence[str],
    *,
    environment: str,
    catalog: Catalog | None = None,
    store: ContractStore | None = None,
) -> list[ShareInput]:
    catalog = catalog if catalog is not None else load_catalog()
    store = store if store is not None else ContractStore(catalog=catalog)
    inputs = []
    for contract in store.list(status=ContractStatus.active):
        if contract.consumer != consumer or contract.terms.environment.value != environment:
            continue
        entity = join_entity(contract, entities, catalog)
        if entity is None or not table_exists(contract.share_uri):
            continue
        inputs.append(
            source_from_catalog(
                catalog, contract.producer, contract.dataset, contract.share_uri,
                join_entity=entity, columns=list(contract.terms.shared_columns()), contract_id=contract.contract_id,
            )
        )
    return inputs
