"""Fixtures for the masking tests: a fixed-key keyring and a prod world written as real Delta tables."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.schema import arrow_schema
from hurricane_assets.masking.keys import Keyring, MaskingKey
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.synthetic import SyntheticConfig, generate

# A fixed end: the world (and so every text and value the masking tests look for) is the same at any hour.
WORLD = SyntheticConfig(transactions=2000, seed=7, as_of=datetime(2026, 6, 1, tzinfo=timezone.utc))


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(env="preprod", key=MaskingKey(bytes(range(32)), source="test"))


@pytest.fixture
def key(keyring) -> MaskingKey:
    return keyring.key


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def world() -> dict[tuple[str, str], pa.Table]:
    cat = load_catalog()
    return {
        (domain, dataset): pa.Table.from_pandas(frame, schema=arrow_schema(cat.dataset(domain, dataset)),
                                                preserve_index=False)
        for (domain, dataset), frame in generate(WORLD).items()
    }


@pytest.fixture
def prod_world(world) -> dict[tuple[str, str], pa.Table]:
    """Every dataset of the catalog written to prod Delta under this test's HURRICANE_HOME."""
    for (domain, dataset), table in world.items():
        write_deltalake(hurricane_paths().table_uri("prod", domain, dataset), table, mode="overwrite")
    return world
