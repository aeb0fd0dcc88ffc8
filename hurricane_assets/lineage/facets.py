"""The custom facets that tie lineage to a contract: a delivery run to its contract and ledger entry,
a dropped copy to the contract whose end dropped it."""

from __future__ import annotations

import attr
from openlineage.client.facet_v2 import DatasetFacet, RunFacet

CONTRACT_FACET_KEY = "dataHurricane_contract"
PRODUCER_URI = "https://data-hurricane.invalid/hurricane_assets"  # .invalid: a URI that claims no real host
FACET_SCHEMA_BASE = "https://data-hurricane.invalid/spec/facets/1-0-0"


@attr.define
class DataHurricaneContractRunFacet(RunFacet):
    contractId: str
    contractVersion: str
    purpose: str
    expiresAt: str
    ledgerSeq: int | None = None
    ledgerEntryHash: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return f"{FACET_SCHEMA_BASE}/DataHurricaneContractRunFacet.json"


@attr.define
class DataHurricaneContractDatasetFacet(DatasetFacet):
    """On a DROP: which contract's end dropped the copy (one share path serves successive contracts)."""

    contractId: str
    contractVersion: str
    endedAs: str  # the contract's status: revoked or expired

    @staticmethod
    def _get_schema() -> str:
        return f"{FACET_SCHEMA_BASE}/DataHurricaneContractDatasetFacet.json"
