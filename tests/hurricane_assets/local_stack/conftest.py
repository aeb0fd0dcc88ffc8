"""The services a deployment would have, started by the tests themselves: a throwaway PostgreSQL
cluster (one per test session and worker, a fresh database per test) and a moto S3 server (a fresh
prefix per test)."""

from __future__ import annotations

import itertools

import pytest

from hurricane_assets.local_stack.postgres import LocalPostgres
from hurricane_assets.local_stack.s3 import LocalS3

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_cluster():
    with LocalPostgres(databases=()) as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster, monkeypatch) -> str:
    """A new, empty database, selected for this test through the HURRICANE_POSTGRES_* settings;
    returns its libpq URL for the test's own queries."""
    settings = postgres_cluster.create_database(f"test_{next(_databases)}")
    for name, value in settings.environ().items():
        monkeypatch.setenv(name, value)
    return settings.url


@pytest.fixture(scope="session")
def s3_server():
    with LocalS3("hurricane") as server:
        yield server


@pytest.fixture
def s3_root(s3_server, monkeypatch, request) -> str:
    """HURRICANE_STORAGE_ROOT on the moto server, under a prefix of its own per test."""
    for name, value in s3_server.environ().items():
        monkeypatch.setenv(name, value)
    root = s3_server.uri(f"t{next(_databases)}")
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT", root)
    return root
