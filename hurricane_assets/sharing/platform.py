"""The real parts a share's life needs, built once per run from `$HURRICANE_HOME`."""

from __future__ import annotations

from dataclasses import dataclass

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.identity.signer import Signer
from hurricane_assets.ledger import Ledger
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.policy.gate import CedarPolicyGate


@dataclass(frozen=True)
class SharingPlatform:
    catalog: Catalog
    gate: CedarPolicyGate
    signer: Signer
    ledger: Ledger
    store: ContractStore
    lineage: LineageEmitter

    @classmethod
    def from_environment(cls, catalog: Catalog | None = None) -> SharingPlatform:
        catalog = catalog if catalog is not None else load_catalog()
        return cls(
            catalog=catalog,
            gate=CedarPolicyGate(catalog),
            signer=Signer(),
            ledger=Ledger(),
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
