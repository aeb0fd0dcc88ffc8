"""Tables and the ledger on an S3 API (a moto server the tests start), through deltalake's own
object store, with the settings a deployment on AWS would use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hurricane_assets import object_files
from hurricane_assets.catalog import load_catalog
from hurricane_assets.dagster_layer.embedded_loop import QUIET
from hurricane_assets.dagster_layer.workspace import load_location
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.masking.copy import REPORT_NAME, copy_masked, failed_report_path
from hurricane_assets.masking.kanonymity import KAnonymityError
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table, storage_options, table_exists
from tests.hurricane_assets.local_stack.ledger_writer_child import ready_file
from tests.trust_keys import install_keys

ROOT = Path(__file__).resolve().parents[3]
WRITERS = {"agent:risk/negotiator": 10, "agent:payments/negotiator": 10}
pytestmark = pytest.mark.e2e


def test_the_storage_options_use_conditional_writes_never_unsafe_rename(s3_root):
    options = storage_options(f"{s3_root}/ledger")
    assert options["aws_conditional_put"] == "etag"
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in options
    assert options["AWS_ALLOW_HTTP"] == "true" and options["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")


def race_two_hosts(tmp_path: Path, *, ledger_exists: bool = True) -> int:
    """Two writer processes, each with its own HURRICANE_HOME (no shared file lock, as on two hosts),
    append to the ledger under HURRICANE_STORAGE_ROOT at once; asserts one valid chain and returns how
    many of their commits lost a race and were re-chained. Without `ledger_exists` they race to
    create it too."""
    before = 0
    if ledger_exists:
        Ledger().append(entry_type=EntryType.NEGOTIATION_STARTED, actor="system:ledger", payload={"genesis": True})
        for actor in WRITERS:  # one entry each before the race
            Ledger().append(entry_type=EntryType.NEGOTIATION_STARTED, actor=actor, payload={"register": True})
        before = 1 + len(WRITERS)
    go = tmp_path / "go"
    children = []
    for n, (actor, count) in enumerate(WRITERS.items()):
        home = tmp_path / f"host{n}"
        install_keys(home)  # the same trust root and key stores as this home (`hurricane keys init` once, copied)
        env = os.environ | {"PYTHONPATH": str(ROOT), "HURRICANE_HOME": str(home)}
        children.append(subprocess.Popen(
            [sys.executable, "-m", "tests.hurricane_assets.local_stack.ledger_writer_child", actor, str(count), str(go)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True))
    # Go once both are imported with their ledgers open: else the first may finish before the second starts.
    ready = [ready_file(go, actor) for actor in WRITERS]
    while not all(r.exists() for r in ready) and all(child.poll() is None for child in children):
        time.sleep(0.01)
    go.touch()
    outputs = [child.communicate(timeout=240)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    rows = Ledger().read(columns=["seq", "actor", "payload_json", "entry_id"]).to_pylist()
    assert [r["seq"] for r in rows] == list(range(before + sum(WRITERS.values()))), "the chain forked"
    for actor, count in WRITERS.items():
        written = sorted(json.loads(r["payload_json"]).get("i", -1) for r in rows if r["actor"] == actor)
        assert written == [-1] * ledger_exists + list(range(count)), f"{actor}'s entries were lost or doubled"
    assert len({r["entry_id"] for r in rows}) == len(rows)
    result = verify_ledger()
    assert result.ok, result.problem
    return sum(json.loads(out.strip().splitlines()[-1])["conflicts"] for out in outputs)


def test_two_hosts_appending_to_one_shared_folder_ledger_at_once_make_one_valid_chain(hurricane_home, tmp_path, monkeypatch):
    """On a shared file system the Delta commit is put-if-absent (an atomic link): the writers race,
    losers re-chain, and the chain never forks."""
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT", str(tmp_path / "shared"))
    assert race_two_hosts(tmp_path) >= 1  # they really raced


def test_two_hosts_appending_to_one_s3_ledger_at_once_make_one_valid_chain(s3_root, hurricane_home, tmp_path):
    """The same race on the S3 API: only S3's conditional put keeps the writers from forking the chain."""
    assert race_two_hosts(tmp_path) >= 1


@pytest.mark.parametrize("storage", ["shared folder", "s3"])
def test_two_hosts_creating_the_ledger_at_once_make_one_valid_chain(storage, request, hurricane_home, tmp_path, monkeypatch):
    """Both find no ledger and chain their first entry from the genesis hash: the second to commit must
    lose and re-chain, not append a second seq 0 to the table the first created (it did, 5 runs in 6)."""
    if storage == "s3":
        request.getfixturevalue("s3_root")
    else:
        monkeypatch.setenv("HURRICANE_STORAGE_ROOT", str(tmp_path / "shared"))
    race_two_hosts(tmp_path, ledger_exists=False)


def test_a_domain_job_writes_its_tables_and_masked_copies_under_its_own_s3_prefix_and_nothing_locally(
        s3_root, hurricane_home, monkeypatch):
    own = f"{s3_root}/customers-domain"
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT_CUSTOMERS", own)
    monkeypatch.setenv("HURRICANE_AWS_ACCESS_KEY_ID_CUSTOMERS", "customers-key")
    monkeypatch.setenv("HURRICANE_AWS_SECRET_ACCESS_KEY_CUSTOMERS", "customers-secret")
    defs = load_location("domains.customers.definitions", reload=True)
    config = {"resources": {"synthetic": {"config": {"transactions": 500, "seed": 3}}}, **QUIET}
    assert defs.resolve_job_def("customers_prod").execute_in_process(run_config=config).success
    prod = hurricane_paths().table_uri("prod", "customers", "profiles")
    assert prod == f"{own}/envs/prod/customers/profiles"
    assert read_table(prod).num_rows > 0
    assert table_exists(f"{own}/envs/preprod/customers/profiles")
    assert not table_exists(f"{s3_root}/envs/prod/customers/profiles")  # not on the shared root
    assert not (hurricane_home / "envs").exists()
    # the copy's privacy report beside its table on S3 (it went to the pod's local home: lost with the pod)
    report = json.loads(object_files.read_text(f"{own}/envs/preprod/customers/profiles/{REPORT_NAME}"))
    assert report["target_uri"] == f"{own}/envs/preprod/customers/profiles" and report["k_anonymity"]["satisfied"]
    assert not (hurricane_home / "reports").exists()


def test_a_copy_that_fails_closed_leaves_its_report_under_the_domains_own_s3_prefix(s3_root, hurricane_home, monkeypatch):
    own = f"{s3_root}/customers-domain"
    monkeypatch.setenv("HURRICANE_STORAGE_ROOT_CUSTOMERS", own)
    defs = load_location("domains.customers.definitions", reload=True)
    config = {"resources": {"synthetic": {"config": {"transactions": 500, "seed": 3}}}, **QUIET}
    assert defs.resolve_job_def("customers_prod").execute_in_process(run_config=config).success
    with pytest.raises(KAnonymityError):
        copy_masked(load_catalog(), "customers", "profiles", "dev", k=100_000)
    failed = failed_report_path("dev", "customers", "profiles")
    assert failed == f"{own}/reports/masking/customers/dev/profiles.failed.json"
    assert json.loads(object_files.read_text(failed))["k_anonymity"]["satisfied"] is False
    assert not (hurricane_home / "reports").exists()


def test_contracts_signed_on_one_host_are_on_s3_and_read_by_another(s3_root, s3_server, share_parts, hurricane_home, tmp_path, monkeypatch):
    from hurricane_assets.contracts.store import ContractStore
    from hurricane_assets.sharing.contracting import sign_agreements
    from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

    outcome = sign_agreements([agreement_for(fraud_terms(), share_parts["gate"])],
                              **{k: share_parts[k] for k in ("gate", "signer", "ledger", "store")})
    (contract,) = outcome.contracts
    prefix = s3_root.removeprefix(f"s3://{s3_server.bucket}/") + "/contracts/"
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix)
    assert sorted(o["Key"].removeprefix(prefix) for o in listed["Contents"]) == [
        f"{contract.contract_id}.json", f"{contract.contract_id}.odcs.yaml"]
    assert not (hurricane_home / "contracts").exists()

    monkeypatch.setenv("HURRICANE_HOME", str(tmp_path / "other-host"))  # another host, same storage root
    assert [c.contract_id for c in ContractStore().list()] == [contract.contract_id]
    assert ContractStore().get(contract.contract_id) == contract
