"""Real components for the tests under hurricane_assets/.

Share lifecycle: prod Delta tables from the generator, the Cedar gate, the Delta ledger, domain
signatures and the contract store, all under the test's HURRICANE_HOME.

Synthetic worlds on real Delta tables: prod from the generator, preprod from the masking engine.
Two worlds are built once per session in a template home: CALM (no drift) and DRIFTED (the same
tables overwritten by the drifted generation, so its Delta logs continue CALM's). A test installs
one into its own HURRICANE_HOME by copying; installing DRIFTED after CALM is "the drift arrives".
The masking key is copied too, so tokens stay consistent between the worlds and the test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from deltalake import write_deltalake

from hurricane_assets.catalog import load_catalog
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.delivery.deliver import masked_share
from hurricane_assets.identity.signer import Signer
from hurricane_assets.ledger.ledger import Ledger
from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.keys import ENVIRONMENTS, init_masking_keys, key_path
from hurricane_assets.models.sources import ShareInput, join_entities, share_from_terms
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.synthetic import SyntheticConfig, generate, generate_dataset
from negotiation_graph.terms import Environment, MaskingMethod, ShareTerms
from tests.trust_keys import home_at

AS_OF = datetime(2025, 6, 1, tzinfo=timezone.utc)
CALM = SyntheticConfig(transactions=10_000, seed=7, as_of=AS_OF, history_days=60, drift_days=None)
DRIFTED = replace(CALM, drift_days=30)
WORLDS = {"calm": CALM, "drifted": DRIFTED}
STATE = ("envs", "keys")


def write_world(config: SyntheticConfig) -> None:
    """Every dataset to prod, and its masked copy to preprod where the manifest allows it."""
    catalog = load_catalog()
    for (domain, dataset), frame in generate(config).items():
        uri = hurricane_paths().table_uri("prod", domain, dataset)
        write_deltalake(uri, frame, mode="overwrite", schema_mode="overwrite")
        if "preprod" in catalog.dataset(domain, dataset).allowed_environments:
            copy_masked(catalog, domain, dataset, "preprod")


def fixed_masking_keys() -> None:
    """The test worlds' masking keys, the same on every run: tokens order the rows of one instant
    (a preprod alert's day), so with a random key the few holdout rows of a one-day window held a
    fraud on some runs and not on others."""
    for env in ENVIRONMENTS:
        path = key_path(env)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        path.write_text(hashlib.sha256(f"test world {env}".encode()).hexdigest())
        os.chmod(path, 0o600)


@pytest.fixture(scope="session")
def world_templates(tmp_path_factory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("world_home")
    templates = {}
    with home_at(home):
        fixed_masking_keys()
        init_masking_keys()
        for name, config in WORLDS.items():
            write_world(config)
            target = tmp_path_factory.mktemp(f"world_{name}")
            for part in STATE:
                shutil.copytree(home / part, target / part)
            templates[name] = target
    return templates


@pytest.fixture
def install_world(hurricane_home, world_templates):
    """`install_world("calm")` copies that world's tables and keys into this test's home."""

    def install(name: str) -> SyntheticConfig:
        for part in STATE:
            shutil.copytree(world_templates[name] / part, hurricane_home / part, dirs_exist_ok=True)
        return WORLDS[name]

    return install


# The masking the fraud model's negotiation agrees per producer (the terms of the demo's contracts), so
# model tests train on the features a real share carries, not on the producer's default preprod copy.
CONTRACT_COLUMNS: dict[tuple[str, str], dict[str, MaskingMethod]] = {
    ("payments", "transactions"): {"txn_id": MaskingMethod.none, "channel": MaskingMethod.tokenize,
                                   "device_id": MaskingMethod.tokenize},
    ("customers", "profiles"): {"customer_id": MaskingMethod.tokenize, "account_opened_at": MaskingMethod.generalize,
                                "segment": MaskingMethod.tokenize},
    ("support", "tickets"): {"customer_id": MaskingMethod.tokenize, "category": MaskingMethod.tokenize,
                             "priority": MaskingMethod.generalize, "satisfaction": MaskingMethod.generalize},
}


def contract_terms(producer: str, dataset: str) -> ShareTerms:
    """The terms of the fraud model's contract with `producer` for `dataset`."""
    return ShareTerms(producer=producer, consumer="risk", dataset=dataset, columns=CONTRACT_COLUMNS[(producer, dataset)],
                      purpose="fraud_detection", environment=Environment.preprod, freshness_hours=24, retention_days=90,
                      term_days=90)


@pytest.fixture
def deliver_share(share_catalog, share_gate):
    """`deliver_share("payments", "transactions")` does what a delivery under a signed contract does to the
    current prod table (policy check, projection, the contract's masking) and writes the result where
    the fraud model reads its shares; returns the share as the model sees it."""
    fraud = load_model_spec("risk", "fraud_model", catalog=share_catalog)

    def deliver(producer: str, dataset: str) -> ShareInput:
        terms = contract_terms(producer, dataset)
        decision = share_gate.evaluate(terms)
        assert decision.allowed, decision  # a fixture share the policy would refuse tests nothing real
        masked = masked_share(terms, catalog=share_catalog, now=utc_now())
        share = share_from_terms(terms, f"ctr-{producer}-{dataset}", share_catalog, join_entities(fraud, share_catalog))
        write_deltalake(share.uri, masked.table, mode="overwrite", schema_mode="overwrite")
        return share

    return deliver


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


