"""Attacks on keys (issue 10, "What was seen", Keys): stolen retired keys, long-lived envelopes, deleted
or swapped key files, loose file modes, and a forged trust root or rotation."""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from datetime import datetime, timedelta, timezone

import pytest

from hurricane_assets.identity import (
    ExpiredEnvelopeError,
    FileKeySource,
    KeyRing,
    KeySourceError,
    ReplayCache,
    SignedEnvelope,
    Signer,
    WrongKeyError,
    sign_envelope,
    verify_envelope,
)
from hurricane_assets.ledger import Ledger, verify_ledger
from hurricane_assets.settings import hurricane_paths
from tests.security import attacker


def _forge_envelope(key, *, issued_at: datetime, lifetime: timedelta) -> SignedEnvelope:
    unsigned = SignedEnvelope(
        signer=key.identity, key_id=key.key_id, nonce=secrets.token_hex(16), issued_at=issued_at,
        expires_at=issued_at + lifetime, payload={"accept": True}, signature="",
    )
    return unsigned.model_copy(update={"signature": base64.b64encode(key.sign(unsigned.signed_bytes())).decode()})


def test_entry_signed_with_a_retired_key_and_backdated_before_the_rotation_is_invalid(story_ledger):
    stolen = attacker.steal_key("payments")  # copied before the rotation
    receipt = story_ledger.rotate_key("payments")
    rotated_at = attacker.rows()[receipt.seq]["ts"]
    tip = attacker.rows()[-1]
    forged = {
        "seq": tip["seq"] + 1, "entry_id": "forged-1", "ts": rotated_at - timedelta(seconds=1), "entry_type": "OFFER",
        "actor": "agent:payments/producer", "negotiation_id": "neg-0", "contract_id": None,
        "payload_json": '{"columns":["card_number"]}',
    }
    attacker.append_raw(attacker.reseal(forged, tip["entry_hash"], stolen))
    result = verify_ledger()
    assert not result.ok and result.first_bad_seq == tip["seq"] + 1
    assert f"key {stolen.key_id} of 'payments' is not valid at seq {tip['seq'] + 1}: retired by the KEY_ROTATED entry at seq {receipt.seq}" in result.problem


def test_backdated_entry_with_the_current_key_is_invalid_beyond_the_skew(story_ledger):
    key = attacker.steal_key("payments")
    tip = attacker.rows()[-1]
    forged = {
        "seq": tip["seq"] + 1, "entry_id": "backdated-1", "ts": tip["ts"] - timedelta(days=30), "entry_type": "OFFER",
        "actor": "agent:payments/producer", "negotiation_id": "neg-0", "contract_id": None, "payload_json": "{}",
    }
    attacker.append_raw(attacker.reseal(forged, tip["entry_hash"], key))
    result = verify_ledger()
    assert not result.ok and result.first_bad_seq == tip["seq"] + 1 and "ts goes back 2592000 s" in result.problem


def test_envelope_with_a_100_year_lifetime_is_refused():
    key = KeyRing().key("payments")
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    envelope = _forge_envelope(key, issued_at=now, lifetime=timedelta(days=365 * 100))
    with pytest.raises(ExpiredEnvelopeError, match="more than the maximum"):
        verify_envelope(envelope, replay_cache=ReplayCache(), now=now + timedelta(minutes=1))
    with pytest.raises(ValueError, match="exceeds the maximum"):
        sign_envelope("payments", {"accept": True}, ttl=timedelta(days=2), now=now)


def test_retired_key_envelope_backdated_before_the_rotation_with_a_100_year_lifetime_is_refused():
    ring = KeyRing()
    ring.key("payments")
    stolen = attacker.steal_key("payments")  # copied before the rotation
    Ledger().rotate_key("payments")
    retired = ring.registry.keys()[stolen.key_id]
    rotated_at = retired.valid_to
    # back-dated to a moment the key was still valid
    issued_at = rotated_at - min(timedelta(minutes=1), (rotated_at - retired.valid_from) / 2)
    envelope = _forge_envelope(stolen, issued_at=issued_at, lifetime=timedelta(days=365 * 100))
    with pytest.raises((WrongKeyError, ExpiredEnvelopeError)):
        verify_envelope(envelope, replay_cache=ReplayCache(), now=rotated_at + timedelta(days=1))
    # even within a normal lifetime, the retired key is judged at the verifier's time, not the signer's
    short = _forge_envelope(stolen, issued_at=issued_at, lifetime=timedelta(minutes=10))
    with pytest.raises(WrongKeyError, match="was not valid at"):
        verify_envelope(short, replay_cache=ReplayCache(), now=rotated_at + timedelta(minutes=2))


def test_signatures_made_before_a_rotation_stay_verifiable():
    signer = Signer()
    block = signer.sign("payments", b"contract body")
    Ledger().rotate_key("payments")
    Signer().verify(b"contract body", block)  # a fresh process: the old key is known from the certificate
    assert Signer().sign("payments", b"x").key_id != block.key_id
    assert verify_ledger().ok


def test_deleted_key_file_is_an_error_not_a_new_key(story_ledger):
    path = FileKeySource().path("payments")
    path.unlink()
    with pytest.raises(KeySourceError, match="no signing key for 'payments'.*hurricane keys init"):
        Ledger().append(entry_type="OFFER", actor="agent:payments/producer", payload={})
    assert not path.exists()  # nothing was created on use
    assert len(Ledger()) == 37 and verify_ledger().ok


def test_swapped_key_file_is_refused(story_ledger):
    """The attacker puts their own key where payments' was: it is not the pinned key."""
    path = FileKeySource().path("payments")
    FileKeySource(path.parent.parent / "attacker").create("payments")
    os.replace(path.parent.parent / "attacker" / "payments.ed25519", path)
    with pytest.raises(KeySourceError, match="is not 'payments'.s pinned key"):
        Ledger().append(entry_type="OFFER", actor="agent:payments/producer", payload={})


def test_trust_root_edited_with_one_domains_key_does_not_load(story_ledger):
    """Replacing payments' pinned key with the attacker's (and its proof) breaks every other proof."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hurricane_assets.identity.keys import DomainKey, key_id_of
    from hurricane_assets.identity.trust_root import TrustRoot

    path = hurricane_paths().home / "trust" / "root.json"
    mine = DomainKey("payments", Ed25519PrivateKey.generate())
    raw = json.loads(path.read_text())
    raw["identities"]["payments"] = {"key_id": key_id_of(mine.public_raw), "public_key_b64": base64.b64encode(mine.public_raw).decode(), "role": "domain"}
    body = TrustRoot.model_validate(raw).body()
    raw["proofs"]["payments"] = base64.b64encode(mine.sign(body)).decode()
    path.write_text(json.dumps(raw))
    with pytest.raises(KeySourceError, match="proof of possession of 'customers'"):
        verify_ledger()


def test_rotation_certificate_written_without_the_old_key_is_refused():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hurricane_assets.identity.keys import DomainKey
    from hurricane_assets.identity.trust_root import RotationCertificate, append_rotation

    mine, other = (DomainKey("payments", Ed25519PrivateKey.generate()) for _ in range(2))
    pinned = KeyRing().key("payments").key_id
    forged = RotationCertificate.issue(mine, other, now=datetime.now(timezone.utc)).model_copy(update={"old_key_id": pinned})
    append_rotation(forged)
    with pytest.raises(KeySourceError, match="the old key's signature does not verify"):
        Signer().sign("payments", b"x")


def test_key_file_readable_by_others_is_refused():
    path = FileKeySource().path("risk")
    path.chmod(0o644)
    with pytest.raises(KeySourceError, match=r"key file .*risk.ed25519 has mode 0o644; it must be 0o600"):
        KeyRing().key("risk")


def test_key_folder_readable_by_others_is_refused():
    folder = FileKeySource().path("risk").parent
    folder.chmod(0o755)
    with pytest.raises(KeySourceError, match=r"key folder .* has mode 0o755; it must be 0o700"):
        KeyRing().key("risk")


def test_keys_init_and_the_masking_key_make_private_folders(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hurricane_assets.cli.main import app
    from hurricane_assets.masking.keys import init_masking_keys

    home = tmp_path / "fresh"
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    old = os.umask(0o022)
    try:
        init_masking_keys(("dev",))  # the masking key, which used to create keys/ first
        result = CliRunner().invoke(app, ["keys", "init"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700
    for identity in ("payments", "risk", "system"):
        path = FileKeySource().path(identity)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = CliRunner().invoke(app, ["keys", "init"])
    assert again.exit_code == 0 and "created" not in again.output.replace("(domain, witness; present)", "")
