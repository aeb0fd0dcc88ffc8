"""Domain definitions built inside each test, after HURRICANE_HOME points at the test's temp folder
(the IO manager's root is fixed when the definitions are built)."""

from __future__ import annotations

import pytest

DOMAINS = ("customers", "payments", "marketing", "risk", "support")


@pytest.fixture
def tiny_rows(monkeypatch):
    monkeypatch.setenv("HURRICANE_ROWS", "1000")
    return 1000


@pytest.fixture
def build_defs(tiny_rows):
    from domains.reference_world import dataset_generator
    from hurricane_assets.dagster_layer.domain import build_domain_definitions

    def build(domain: str):
        return build_domain_definitions(domain, dataset_generator(domain))

    return build
