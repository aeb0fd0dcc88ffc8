"""The custom run facet that ties a delivery run to its contract and ledger entry."""

from __future__ import annotations

import attr
from openlineage.client.facet_v2 import RunFacet

CONTRACT_FACET_KEY = "dataHurricane_contract"
PRODUCER_URI = "https://data-hurricane.invalid/hurricane_assets"  # .invalid: a URI that claims no real host


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
        return "https://data-hurricane.invalid/spec/facets/1-0-0/DataHurricaneContractRunFacet.json"
