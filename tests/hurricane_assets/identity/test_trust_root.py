"""The key store and the trust root: `hurricane keys init`, pinned keys, certified rotations."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.identity import (
    DefaultKeySource,
    FileKeySource,
    KeyRegistry,
    KeyRing,
    TrustRootError,
    init_trust_root,
    load_trust_root,
)
from hurricane_assets.settings import hurricane_paths

DOMAINS = ["customers", "marketing", "payments", "risk", "support"]
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


@pytest.fixture
def empty_home(hurricane_home):
    for part in ("trust", "domains", "exchange"):
        shutil.rmtree(hurricane_home / part, ignore_errors=True)
    return hurricane_home


def test_init_creates_each_key_in_its_store_and_pins_them(empty_home):
    root, created = init_trust_root(DOMAINS, DefaultKeySource(), now=T0)
    assert created == sorted([*DOMAINS, "system"]) and root.witnesses == DOMAINS
    assert load_trust_root() == root and root.created_at == T0
    for identity in created:
        assert KeyRing().key(identity).key_id == root.identities[identity].key_id
    assert (empty_home / "exchange" / "keys" / "system.ed25519").exists()
    assert init_trust_root(DOMAINS, DefaultKeySource())[1] == []  # again: nothing created


def test_init_never_replaces_a_missing_pinned_key(empty_home):
    init_trust_root(DOMAINS, DefaultKeySource())
    FileKeySource().path("risk").unlink()
    with pytest.raises(TrustRootError, match="'risk': no private key at .*risk.ed25519; it is pinned"):
        init_trust_root(DOMAINS, DefaultKeySource())
    assert not FileKeySource().path("risk").exists()


def test_init_does_not_extend_the_root_implicitly(empty_home):
    init_trust_root(["payments"], DefaultKeySource())
    with pytest.raises(TrustRootError, match="does not pin risk"):
        init_trust_root(["payments", "risk"], DefaultKeySource())


def test_missing_or_malformed_trust_root_is_a_clear_error(empty_home):
    with pytest.raises(TrustRootError, match="no trust root at .*root.json: run `hurricane keys init` first"):
        KeyRing().key("payments")
    init_trust_root(DOMAINS, DefaultKeySource())
    path = empty_home / "trust" / "root.json"
    path.write_text(path.read_text()[:-20])
    with pytest.raises(TrustRootError, match=r"root.json: not valid JSON \(line"):
        KeyRegistry().keys()


def test_a_key_from_the_environment_is_used_only_if_it_is_the_pinned_one(empty_home, monkeypatch):
    init_trust_root(DOMAINS, DefaultKeySource())
    pem = FileKeySource().path("support").read_text()
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_SUPPORT", pem)
    FileKeySource().path("support").unlink()  # the file is gone: the secrets manager holds it now
    assert KeyRing().key("support").key_id == KeyRegistry().current("support").key_id
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_SUPPORT", FileKeySource().path("risk").read_text())
    with pytest.raises(TrustRootError, match=r"at \$HURRICANE_SIGNING_KEY_SUPPORT is not 'support'.s pinned key"):
        KeyRing().key("support")


def test_rotation_is_certified_and_destroys_the_retired_key(empty_home):
    init_trust_root(DOMAINS, DefaultKeySource())
    ring = KeyRing()
    old, new, certificate = ring.rotate("payments", now=T0)
    assert FileKeySource().path("payments").with_name("payments.ed25519.next").exists()
    ring.activate(new, certificate)
    keys = KeyRegistry().keys()
    assert keys[old.key_id].valid_to == keys[new.key_id].valid_from == T0
    assert KeyRing().key("payments").key_id == new.key_id
    assert sorted(p.name for p in FileKeySource().path("payments").parent.glob("payments*")) == ["payments.ed25519"]
    line = (empty_home / "trust" / "rotations.jsonl").read_text().strip()
    assert json.loads(line)["old_key_id"] == old.key_id
    # the same certificate again (replayed) is refused: the old key is no longer current
    with pytest.raises(TrustRootError, match="not its current key"):
        KeyRegistry().record_rotation(certificate)


def test_a_loaded_registry_sees_a_rotation_recorded_by_another(empty_home):
    """As another process would: this registry has read the trust files before the rotation."""
    init_trust_root(DOMAINS, DefaultKeySource())
    registry = KeyRegistry()
    before = registry.current("payments")
    ring = KeyRing()
    _, new, certificate = ring.rotate("payments", now=T0)
    ring.activate(new, certificate)
    assert registry.current("payments").key_id == new.key_id
    assert registry.get(before.key_id).valid_to == T0
    assert registry.current("risk").key_id == KeyRing().key("risk").key_id


def test_keys_cli_init_and_show(empty_home):
    result = CliRunner().invoke(app, ["keys", "init"])
    assert result.exit_code == 0 and result.output.count("created") == 6
    assert f"trust root: {hurricane_paths().home / 'trust' / 'root.json'}" in result.output
    shown = CliRunner().invoke(app, ["keys", "show"], terminal_width=200)
    assert shown.exit_code == 0 and shown.output.count("current") == 6
    FileKeySource().path("payments").unlink()
    again = CliRunner().invoke(app, ["keys", "init"])
    assert again.exit_code == 2 and again.output.startswith("error: 'payments': no private key at")


def test_keys_cli_rotate_records_the_rotation_in_the_ledger():
    from hurricane_assets.ledger import Ledger, verify_ledger

    before = KeyRegistry().current("risk").key_id
    result = CliRunner().invoke(app, ["keys", "rotate", "risk"])
    assert result.exit_code == 0, result.output
    after = KeyRegistry().current("risk").key_id
    assert after != before and result.output.startswith(f"risk: key {after} from ledger seq 1 on")
    rows = Ledger().read().to_pylist()
    assert [r["entry_type"] for r in rows] == ["KEY_ROTATED"] and rows[0]["key_id"] == before
    assert verify_ledger().ok
    assert CliRunner().invoke(app, ["keys", "rotate", "nobody"]).exit_code == 2


def test_keys_cli_rotate_of_an_unknown_identity_names_the_pinned_ones_and_writes_nothing():
    # it said "no signing key for 'nobody' at …/domains/nobody/keys/nobody.ed25519: run `hurricane keys
    # init`", which creates the catalog's domains' keys only: the advice could not help
    from hurricane_assets.ledger import Ledger

    result = CliRunner().invoke(app, ["keys", "rotate", "nobody"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: unknown identity 'nobody': the trust root at {KeyRegistry().path} "
                                     "pins customers, marketing, payments, risk, support, system")
    assert Ledger().read().num_rows == 0
