"""Real components for the share lifecycle: prod Delta tables from the generator, the Cedar gate,
the Delta ledger, domain signatures and the contract store, all under the test's HURRICANE_HOME."""

from __future__ import annotations

import pytest
from deltalake import write_deltalake

from hurricane_assets.catalog import load_catalog
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.identity.signer import Signer
from hurricane_assets.ledger.ledger import Ledger
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.synthetic import SyntheticConfig, generate_dataset


@pytest.fixture(scope="session")
def share_catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def share_gate(share_catalog):
    return CedarPolicyGate(share_catalog)


@pytest.fixture
def share_parts(share_catalog, share_gate):
    return {"catalog": share_catalog, "gate": share_gate, "signer": Signer(), "ledger": Ledger(), "store": ContractStore()}


@pytest.fixture
def share_prod_tables():
    config = SyntheticConfig(transactions=2000, seed=3, drift_days=30)
    for domain, dataset in (("payments", "transactions"), ("payments", "chargebacks"), ("customers", "profiles"), ("support", "tickets")):
        write_deltalake(hurricane_paths().table_uri("prod", domain, dataset), generate_dataset(config, domain, dataset))
    return config


