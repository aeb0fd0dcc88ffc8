"""The real parts a share's life needs, built once per run from `$HURRICANE_HOME`."""

from __future__ import annotations

from dataclasses import dataclass

from hurricane_assets.agents.exchange import exchange_from_environment
from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.policy.gate import CedarPolicyGate
from negotiation_graph.ports import LedgerPort, SignerPort


@dataclass(frozen=True)
class SharingPlatform:
    catalog: Catalog
    gate: CedarPolicyGate
    signer: SignerPort
    ledger: LedgerPort
    store: ContractStore
    lineage: LineageEmitter

    @classmethod
    def from_environment(cls, catalog: Catalog | None = None) -> SharingPlatform:
        catalog = catalog if catalog is not None else load_catalog()
        # contracts are signed by the domains' own agents (in process by default, or A2A services
        # under `HURRICANE_AGENTS`); the exchange's ledger holds the log's key only
        exchange = exchange_from_environment()
        return cls(
            catalog=catalog,
            gate=CedarPolicyGate(catalog),
            signer=exchange.signer,
            ledger=exchange.ledger,
            store=ContractStore(catalog=catalog),
            lineage=LineageEmitter(catalog=catalog),
        )

    @property
    def signing(self) -> dict:
        """The arguments contract signing and lifecycle functions take."""
        return {"gate": self.gate, "signer": self.signer, "ledger": self.ledger, "store": self.store}

    @property
    def delivering(self) -> dict:
        return {"catalog": self.catalog, "gate": self.gate, "signer": self.signer, "ledger": self.ledger,
                "lineage": self.lineage}
