"""`hurricane approvers`: registering keys, bad input, and a renewal approved from the command line."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.sharing.lifecycle import renew
from tests.security.contract_fixtures import (  # noqa: F401  (fixtures)
    LIFECYCLE,
    forge_active,
    prod_template,
    share_catalog,
    share_gate,
    share_parts,
    share_prod_tables,
)
from tests.security.test_approval_enforced import analytics_terms, approve_terms

runner = CliRunner()


def test_add_with_a_public_key_list_and_bad_input(tmp_path):
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "dora.pub"
    pem.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    added = runner.invoke(app, ["approvers", "add", "dora", "--for", "customers", "--for", "support", "--public-key", str(pem)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["approvers", "list"]).output
    assert "dora" in listed and "for customers, support" in listed
    for args, message in (
        (["approvers", "add", "eve", "--for", "moon"], "--for moon: not a catalog domain"),
        (["approvers", "add", "Eve!", "--for", "customers"], "approver name 'Eve!' must match"),
        (["approvers", "add", "eve", "--for", "customers", "--public-key", str(tmp_path / "none.pub")], "none.pub: no such file"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    garbage = tmp_path / "garbage.pub"
    garbage.write_text(base64.b64encode(b"short").decode())
    bad = runner.invoke(app, ["approvers", "add", "eve", "--for", "customers", "--public-key", str(garbage)])
    assert bad.exit_code == 2 and "not an Ed25519 public key" in bad.stderr


def test_a_renewal_approved_from_the_command_line(share_parts, share_prod_tables, hurricane_home):
    assert runner.invoke(app, ["approvers", "add", "erin", "--for", "customers"]).exit_code == 0
    key_file = hurricane_home / "approvers" / "erin.ed25519"
    assert key_file.stat().st_mode & 0o777 == 0o600 and key_file.parent.stat().st_mode & 0o777 == 0o700
    erin = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    terms = analytics_terms()
    approve_terms(erin, "erin", terms, "neg-cli")
    from hurricane_assets.sharing.contracting import sign_agreements
    from tests.hurricane_assets.share_terms import agreement_for

    (contract,) = sign_agreements([agreement_for(terms, share_parts["gate"], "neg-cli")],
                                  **{k: share_parts[k] for k in LIFECYCLE}).contracts
    # a key file others can read is refused before anything is signed
    key_file.chmod(0o644)
    loose = runner.invoke(app, ["approvers", "approve-renewal", contract.contract_id, "--by", "erin"])
    assert loose.exit_code == 2 and "readable by others" in loose.stderr
    key_file.chmod(0o600)
    approved = runner.invoke(app, ["approvers", "approve-renewal", contract.contract_id, "--by", "erin"])
    assert approved.exit_code == 0, approved.stderr
    entry = share_parts["ledger"].tail(1)[0]
    assert entry["entry_type"] == "HUMAN_APPROVAL" and json.loads(entry["payload_json"])["approver"] == "erin"
    # renewal finds the approval the command recorded
    assert renew(contract, **{k: share_parts[k] for k in LIFECYCLE}) is not None


def test_a_failed_add_leaves_no_key_and_no_registration(hurricane_home):
    trust = hurricane_home / "trust"
    saved = hurricane_home.parent / "trust-saved"
    trust.rename(saved)  # a home without a trust root: no domain can sign the registration
    failed = runner.invoke(app, ["approvers", "add", "bob", "--for", "payments"])
    assert failed.exit_code == 2 and "no trust root" in failed.stderr, failed.output
    assert not (hurricane_home / "approvers").exists()  # no key left for a later add to reuse
    saved.rename(trust)
    support_key = hurricane_home / "domains" / "support"
    support_key.rename(hurricane_home.parent / "support-saved")  # one of two domains cannot sign
    half = runner.invoke(app, ["approvers", "add", "bob", "--for", "payments", "--for", "support"])
    assert half.exit_code == 2 and "no signing key for 'support'" in half.stderr, half.output
    assert not (hurricane_home / "approvers").exists()
    assert runner.invoke(app, ["approvers", "list"]).output.strip() == "no approvers registered"
    added = runner.invoke(app, ["approvers", "add", "bob", "--for", "payments"])
    assert added.exit_code == 0 and "key from new key at" in added.output, added.output
    assert (hurricane_home / "approvers" / "bob.ed25519").exists()
    assert sorted(p.name for p in (hurricane_home / "approvers").iterdir()) == ["bob.ed25519"]
