"""Manifest validation: every kind of bad manifest fails with file, field and reason."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from hurricane_assets.catalog import ManifestError, load_catalog, load_manifest
from hurricane_assets.catalog.catalog import default_domains_dir

GOOD = {
    "domain": "shop",
    "owner": "shop@bank.example",
    "description": "A shop.",
    "datasets": {
        "orders": {
            "description": "Orders.",
            "entity": "order",
            "keys": ["order_id"],
            "event_time": "ordered_at",
            "freshness": {"max_lag_hours": 24},
            "allowed_purposes": ["analytics"],
            "allowed_environments": ["prod", "preprod"],
            "columns": {
                "order_id": {"type": "string", "classification": "internal", "nullable": False},
                "email": {"type": "string", "classification": "confidential", "pii": "EMAIL_ADDRESS"},
                "ordered_at": {"type": "timestamp", "classification": "internal", "nullable": False},
            },
        }
    },
}


def write(tmp_path: Path, data, folder: str = "shop") -> Path:
    path = tmp_path / folder / "product.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def mutated(fn):
    data = copy.deepcopy(GOOD)
    fn(data)
    return data


def test_good_manifest_loads(tmp_path):
    product = load_manifest(write(tmp_path, GOOD), expected_domain="shop")
    assert product.datasets["orders"].columns["email"].pii.value == "EMAIL_ADDRESS"


@pytest.mark.parametrize(
    ("name", "data", "field", "reason"),
    [
        ("unknown field", mutated(lambda d: d["datasets"]["orders"]["columns"]["email"].update(clasification="x")),
         "datasets.orders.columns.email.clasification", "Extra inputs"),
        ("bad classification", mutated(lambda d: d["datasets"]["orders"]["columns"]["email"].update(classification="secret")),
         "datasets.orders.columns.email.classification", "'secret'"),
        ("bad pii entity", mutated(lambda d: d["datasets"]["orders"]["columns"]["email"].update(pii="EMAIL")),
         "datasets.orders.columns.email.pii", "'EMAIL'"),
        ("bad type", mutated(lambda d: d["datasets"]["orders"]["columns"]["email"].update(type="varchar")),
         "datasets.orders.columns.email.type", "'varchar'"),
        ("missing description", mutated(lambda d: d["datasets"]["orders"].pop("description")),
         "datasets.orders.description", "Field required"),
        ("key not declared", mutated(lambda d: d["datasets"]["orders"].update(keys=["id"])),
         "datasets.orders", "key column 'id' is not declared"),
        ("nullable key", mutated(lambda d: d["datasets"]["orders"]["columns"]["order_id"].update(nullable=True)),
         "datasets.orders", "must be nullable: false"),
        ("event time not a timestamp", mutated(lambda d: d["datasets"]["orders"].update(event_time="email")),
         "datasets.orders", "must have type timestamp"),
        ("bad environment", mutated(lambda d: d["datasets"]["orders"].update(allowed_environments=["staging"])),
         "datasets.orders.allowed_environments.0", "'staging'"),
        ("bad column name", mutated(lambda d: d["datasets"]["orders"]["columns"].update({"Bad Name": {"type": "string", "classification": "public"}})),
         "datasets.orders.columns", "must match"),
        ("negative freshness", mutated(lambda d: d["datasets"]["orders"]["freshness"].update(max_lag_hours=0)),
         "datasets.orders.freshness.max_lag_hours", "greater than 0"),
        ("no datasets", mutated(lambda d: d.update(datasets={})),
         "datasets", "at least 1"),
    ],
)
def test_bad_manifest_names_file_field_reason(tmp_path, name, data, field, reason):
    path = write(tmp_path, data)
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert err.value.path == str(path)
    assert err.value.field == field, name
    assert reason in err.value.reason, name
    assert str(path) in str(err.value)


def test_invalid_yaml_names_line(tmp_path):
    path = write(tmp_path, "domain: shop\ndatasets: [unclosed\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert err.value.field.startswith("line ")
    assert "not valid YAML" in err.value.reason


def test_binary_manifest_names_the_file_and_that_it_is_not_text(tmp_path):
    path = tmp_path / "shop" / "product.yaml"
    path.parent.mkdir()
    path.write_bytes(b"domain: shop\nowner: \xff\xfe\x00team\n")
    with pytest.raises(ManifestError) as err:
        load_catalog(tmp_path)
    assert (err.value.path, err.value.field, err.value.reason) == (str(path), "byte 20", "not UTF-8 text")
    assert str(path) in str(err.value)


def test_manifest_must_be_a_mapping(tmp_path):
    with pytest.raises(ManifestError, match="must be a mapping"):
        load_manifest(write(tmp_path, "- just\n- a list\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "nope" / "product.yaml")


def test_domain_must_match_folder(tmp_path):
    write(tmp_path, GOOD, folder="other")
    with pytest.raises(ManifestError) as err:
        load_catalog(tmp_path)
    assert err.value.field == "domain"
    assert "does not match its folder 'other'" in err.value.reason


def test_empty_domains_folder(tmp_path):
    with pytest.raises(ManifestError, match="no product.yaml"):
        load_catalog(tmp_path)


def test_every_shipped_manifest_is_valid():
    catalog = load_catalog(default_domains_dir())
    assert catalog.domains == ["customers", "marketing", "payments", "risk", "support"]
