"""OpenLineage events for negotiations and deliveries, with contract-aware facets."""

from hurricane_assets.lineage.emitter import EmittedEvent, LineageEmitter, default_transport, negotiation_run_id
from hurricane_assets.lineage.facets import (
    CONTRACT_FACET_KEY,
    DataHurricaneContractDatasetFacet,
    DataHurricaneContractRunFacet,
)
from hurricane_assets.lineage.naming import dataset_name

__all__ = [
    "CONTRACT_FACET_KEY",
    "DataHurricaneContractDatasetFacet",
    "DataHurricaneContractRunFacet",
    "EmittedEvent",
    "LineageEmitter",
    "dataset_name",
    "default_transport",
    "negotiation_run_id",
]
