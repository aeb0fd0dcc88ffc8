"""Importing an ODCS contract verifies it: the agreement hash is required and must match, both
parties' signatures must verify, the copy's location is the one settings derive, and malformed
input is an `OdcsError` naming the field (never a YAML or Key error). Each edit below is what an
insider would do to a consumer's exported copy; before, every one was accepted or crashed."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from hurricane_assets.contracts import OdcsError, export_odcs, import_odcs
from tests.security.contract_fixtures import (  # noqa: F401  (fixtures)
    share_catalog,
    share_gate,
    share_parts,
    signed,
)


@pytest.fixture
def exported(share_parts):
    contract = signed(share_parts)
    return contract, export_odcs(contract, catalog=share_parts["catalog"])


def _edit(path, change):
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _top(doc):
    return {p["property"]: p for p in doc["customProperties"]}


def _unmask(doc):
    for prop in doc["schema"][0]["properties"]:
        for custom in prop["customProperties"]:
            if custom["property"] == "dhMasking":
                custom["value"] = "none"


def test_the_honest_export_imports_and_verifies(exported):
    contract, path = exported
    assert import_odcs(path) == contract


def test_hash_removed_and_masking_set_to_none_is_refused(exported):
    _, path = exported

    def attack(doc):
        doc["customProperties"] = [p for p in doc["customProperties"] if p["property"] != "dhAgreementSha256"]
        _unmask(doc)

    _edit(path, attack)
    with pytest.raises(OdcsError, match=r"customProperties\.dhAgreementSha256: missing"):
        import_odcs(path)


def test_masking_none_with_a_recomputed_hash_fails_on_the_signatures(exported):
    """The attacker recomputes the agreement hash over the edited body; the parties' signatures
    were over the original body and no longer verify."""
    contract, path = exported
    weaker = contract.model_copy(update={"terms": contract.terms.model_copy(
        update={"columns": {c: type(m).none if m.value != "drop" else m for c, m in contract.terms.columns.items()}})})
    fake_hash = hashlib.sha256(weaker.body()).hexdigest()

    def attack(doc):
        _unmask(doc)
        _top(doc)["dhAgreementSha256"]["value"] = fake_hash

    _edit(path, attack)
    with pytest.raises(OdcsError, match=r"customProperties\.dhSignatures: .*signature invalid"):
        import_odcs(path)


def test_signatures_removed_is_refused(exported):
    _, path = exported
    _edit(path, lambda doc: doc.__setitem__(
        "customProperties", [p for p in doc["customProperties"] if p["property"] != "dhSignatures"]))
    with pytest.raises(OdcsError, match=r"customProperties\.dhSignatures: missing"):
        import_odcs(path)


def test_malformed_yaml_is_an_odcs_error_naming_the_line(exported):
    _, path = exported
    path.write_text(path.read_text() + "\nschema: [unclosed\n  - {\n")
    with pytest.raises(OdcsError, match=r"<yaml line \d+>: not valid YAML"):
        import_odcs(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(OdcsError, match="<root>: expected a mapping, got list"):
        import_odcs(path)


@pytest.mark.parametrize("where, remove, field", [
    ("schema", "dhSourceDataset", r"schema\[0\]\.customProperties\.dhSourceDataset: missing"),
    ("sla", "endOfLife", r"slaProperties\.endOfLife: missing"),
    ("sla", "retention", r"slaProperties\.retention: missing"),
    ("column", "dhMasking", r"schema\[0\]\.properties\[0\]\.customProperties\.dhMasking: missing"),
    ("top", "dhConsumerDomain", r"customProperties\.dhConsumerDomain: missing"),
])
def test_a_missing_property_is_an_odcs_error_naming_it(exported, where, remove, field):
    _, path = exported

    def attack(doc):
        if where == "schema":
            table = doc["schema"][0]
            table["customProperties"] = [p for p in table["customProperties"] if p["property"] != remove]
        elif where == "sla":
            doc["slaProperties"] = [p for p in doc["slaProperties"] if p["property"] != remove]
        elif where == "column":
            column = doc["schema"][0]["properties"][0]
            column["customProperties"] = [p for p in column["customProperties"] if p["property"] != remove]
        else:
            doc["customProperties"] = [p for p in doc["customProperties"] if p["property"] != remove]

    _edit(path, attack)
    with pytest.raises(OdcsError, match=field):
        import_odcs(path)


def test_a_server_path_outside_the_consumer_copy_is_refused(exported, tmp_path):
    _, path = exported
    _edit(path, lambda doc: doc["servers"][0].__setitem__("path", str(tmp_path / "elsewhere")))
    with pytest.raises(OdcsError, match=r"servers\[0\]\.path: is not the consumer's copy"):
        import_odcs(path)
