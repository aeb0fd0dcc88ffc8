"""Per-domain storage: a domain's code location gets its own prefix and its own credentials, and
its share inbox (where deliveries to it land) is inside that prefix; other domains' tables are not."""

from __future__ import annotations

import pytest

from hurricane_assets.dagster_layer.resources import _delta_io, shared_resources
from hurricane_assets.settings import domain_of_uri, hurricane_paths
from hurricane_assets.storage import storage_options


@pytest.fixture
def two_domains(monkeypatch):
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT", "s3://shared/hurricane")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.eu-west-1.amazonaws.com")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "exchange-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "exchange-secret")
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT_RISK", "s3://risk-bucket/hurricane/")
    monkeypatch.setenv("HURRICANE_AWS_ACCESS_KEY_ID_RISK", "risk-key")
    monkeypatch.setenv("HURRICANE_AWS_SECRET_ACCESS_KEY_RISK", "risk-secret")


def test_a_domain_resource_is_rooted_at_its_own_prefix_with_its_own_credentials(two_domains):
    risk = shared_resources("risk")["delta_io"]
    assert risk.root_uri == "s3://risk-bucket/hurricane/envs/prod"
    assert risk.storage_options.access_key_id == "risk-key"
    assert risk.storage_options.secret_access_key == "risk-secret"

    payments = shared_resources("payments")["delta_io"]
    assert payments.root_uri == "s3://shared/hurricane/envs/prod"
    assert payments.storage_options.access_key_id is None  # the process's own AWS variables, never risk's
    assert "risk" not in str(payments.storage_options.dict())


def test_a_consumers_inbox_lies_in_its_own_prefix_and_uses_its_credentials(two_domains):
    paths = hurricane_paths()
    inbox = paths.table_uri("preprod", "risk", "payments__transactions")
    assert inbox == "s3://risk-bucket/hurricane/envs/preprod/risk/payments__transactions"
    assert domain_of_uri(inbox) == "risk"
    assert storage_options(inbox)["AWS_ACCESS_KEY_ID"] == "risk-key"
    producer_table = paths.table_uri("prod", "payments", "transactions")
    assert producer_table.startswith("s3://shared/hurricane/envs/prod/payments/")
    assert storage_options(producer_table)["AWS_ACCESS_KEY_ID"] == "exchange-key"


def test_half_set_domain_credentials_fail_naming_the_variables_not_the_values(two_domains, monkeypatch):
    monkeypatch.delenv("HURRICANE_AWS_SECRET_ACCESS_KEY_RISK")
    with pytest.raises(ValueError, match="HURRICANE_AWS_SECRET_ACCESS_KEY_RISK") as error:
        storage_options("s3://risk-bucket/hurricane/envs/prod/risk/fraud_labels")
    assert "risk-key" not in str(error.value)


def test_a_domains_keys_are_never_paired_with_the_process_session_token(two_domains, monkeypatch):
    """The exchange's session token went out with risk's keys: a pair no principal holds."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "exchange-sts-token")
    inbox = "s3://risk-bucket/hurricane/envs/preprod/risk/payments__transactions"
    with pytest.raises(ValueError, match="HURRICANE_AWS_SESSION_TOKEN_RISK") as error:
        storage_options(inbox)
    assert "exchange-sts-token" not in str(error.value) and "risk-key" not in str(error.value)
    monkeypatch.setenv("HURRICANE_AWS_SESSION_TOKEN_RISK", "risk-sts-token")  # a domain's own token goes with its keys
    assert storage_options(inbox)["AWS_SESSION_TOKEN"] == "risk-sts-token"
    _delta_io.cache_clear()  # built once per process; this test changed the environment after others
    assert shared_resources("risk")["delta_io"].storage_options.token == "risk-sts-token"
    _delta_io.cache_clear()  # and none of this test's credentials is left for the next
    producer = storage_options("s3://shared/hurricane/envs/prod/payments/transactions")
    assert producer["AWS_SESSION_TOKEN"] == "exchange-sts-token"  # the process's own tables keep its token
