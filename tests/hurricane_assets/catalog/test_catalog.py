"""Catalog search by entity, column, tag and classification over the shipped manifests."""

from __future__ import annotations

import pytest

from hurricane_assets.catalog import load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_search_by_entity_finds_every_customer_join_key(catalog):
    hits = {r.qualified for r in catalog.search(entity="customer", column="customer_id")}
    assert "payments.transactions.customer_id" in hits
    assert "support.tickets.customer_id" in hits
    assert "customers.profiles.customer_id" in hits


def test_search_by_tag(catalog):
    assert {r.qualified for r in catalog.search(tag="device")} == {"payments.transactions.device_id"}
    assert {r.qualified for r in catalog.search(tag="account_age")} == {"customers.profiles.account_opened_at"}


def test_search_by_classification(catalog):
    restricted = {r.qualified for r in catalog.search(classification="restricted")}
    assert {"customers.profiles.national_id", "payments.transactions.card_number"} <= restricted
    assert all(r.spec.classification.rank <= 1 for r in catalog.search(max_classification="internal"))


def test_search_combines_criteria(catalog):
    hits = catalog.search(entity="transaction", tag="feature", max_classification="internal")
    assert {r.dataset for r in hits} <= {"transactions", "alerts"}
    assert all(r.spec.classification.value in ("public", "internal") for r in hits)


def test_unknown_dataset_names_what_exists(catalog):
    with pytest.raises(KeyError, match="payments offers: chargebacks, transactions"):
        catalog.dataset("payments", "refunds")
    with pytest.raises(KeyError, match="unknown domain 'hr'"):
        catalog.product("hr")
