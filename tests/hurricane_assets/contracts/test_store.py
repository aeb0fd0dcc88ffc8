"""The contracts folder: one file that is not a contract record is named, with the reason, and
skipped; every contract beside it is still listed."""

from __future__ import annotations

import logging

import pytest

from hurricane_assets.contracts import ContractStatus
from hurricane_assets.contracts.store import ContractStore, UnreadableContract


@pytest.fixture
def store_with_junk(tmp_path, signed):
    store = ContractStore(tmp_path)
    store.save(signed)
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "broken.json").write_text('{"contract_id": ')
    (tmp_path / "copy.json").write_text((tmp_path / f"{signed.contract_id}.json").read_text())
    (tmp_path / ".backup.json").write_text("{}")  # hidden: not a record, not reported
    return store


def test_scan_names_each_file_that_is_not_a_contract_and_lists_the_others(store_with_junk, signed, tmp_path):
    listing = store_with_junk.scan()
    assert [c.contract_id for c in listing.contracts] == [signed.contract_id]
    reasons = {bad.path: bad.reason for bad in listing.unreadable}
    assert sorted(reasons) == [str(tmp_path / name) for name in ("broken.json", "copy.json", "notes.json")]
    assert reasons[str(tmp_path / "broken.json")].startswith("not a valid contract record: Invalid JSON")
    assert reasons[str(tmp_path / "copy.json")] == f"holds contract {signed.contract_id!r}, not 'copy'"
    assert reasons[str(tmp_path / "notes.json")] == "not a valid contract record: negotiation_id: Field required (6 error(s))"
    assert store_with_junk.scan(status=ContractStatus.active).contracts == []  # the signed one is proposed
    assert len(store_with_junk.scan(status=ContractStatus.active).unreadable) == 3  # a bad file has no status


def test_list_skips_a_bad_file_with_a_warning_naming_it(store_with_junk, signed, caplog):
    with caplog.at_level(logging.WARNING, logger="hurricane_assets.contracts.store"):
        assert [c.contract_id for c in store_with_junk.list()] == [signed.contract_id]
    assert any("notes.json: not a valid contract record" in r.getMessage() for r in caplog.records)


def test_get_of_a_bad_file_names_it(store_with_junk, tmp_path):
    with pytest.raises(UnreadableContract, match=r"notes\.json: not a valid contract record: negotiation_id"):
        store_with_junk.get("notes")


def test_a_status_given_by_name_lists_the_same_contracts_as_the_enum(tmp_path, signed):
    """`list(status="proposed")` from Python listed nothing: the filter compared identity with the enum."""
    store = ContractStore(tmp_path)
    store.save(signed)
    assert [c.contract_id for c in store.list(status="proposed")] == [signed.contract_id]
    assert store.list(status="proposed") == store.list(status=ContractStatus.proposed)
    with pytest.raises(ValueError, match="'actve' is not a valid ContractStatus"):
        store.list(status="actve")
