import base64
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from hurricane_assets.identity import EnvKeySource, FileKeySource, KeyRing, KeySourceError, key_id_of
from hurricane_assets.settings import hurricane_paths


def test_each_domain_key_lives_in_its_own_private_key_store():
    source = FileKeySource()
    first = KeyRing(source).key("payments")
    path = hurricane_paths().home / "domains" / "payments" / "keys" / "payments.ed25519"
    assert source.path("payments") == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.glob("*.ed25519")] == ["payments.ed25519"]  # no other domain's key
    assert KeyRing(source).key("payments").key_id == first.key_id


def test_key_id_is_first_16_hex_of_sha256_of_raw_public_key():
    key = KeyRing().key("risk")
    import hashlib

    assert key.key_id == hashlib.sha256(key.public_raw).hexdigest()[:16] == key_id_of(key.public_raw)


def test_repr_shows_key_id_only():
    key = KeyRing().key("risk")
    pem = FileKeySource().path("risk").read_text()
    body = "".join(pem.splitlines()[1:-1])
    assert key.key_id in repr(key)
    assert body not in repr(key) and body not in str(key)


def test_env_key_source_reads_pem_and_base64_seed(monkeypatch):
    private = serialization.load_pem_private_key(FileKeySource().path("payments").read_bytes(), None)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_PAYMENTS", pem)
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_RISK", base64.b64encode(seed).decode())
    source = EnvKeySource()
    assert source.load("payments").key_id == source.load("risk").key_id
    # the pinned key, handed over by a secrets manager, signs; the same key claimed for risk does not
    ring = KeyRing(source)
    assert ring.registry.current("payments").key_id == ring.key("payments").key_id
    with pytest.raises(KeySourceError, match="not 'risk'.s pinned key"):
        ring.key("risk")


def test_env_key_source_missing_variable_is_a_clear_error():
    with pytest.raises(KeySourceError, match=r"\$HURRICANE_SIGNING_KEY_SUPPORT"):
        KeyRing(EnvKeySource()).key("support")


def test_env_key_source_malformed_key_names_the_variable_not_the_value(monkeypatch):
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_SUPPORT", "c2VjcmV0LWJ1dC1ub3QtYS1rZXk=")
    with pytest.raises(KeySourceError) as err:
        KeyRing(EnvKeySource()).key("support")
    assert "HURRICANE_SIGNING_KEY_SUPPORT" in str(err.value)
    assert "c2VjcmV0" not in str(err.value)


def test_bad_identity_name_is_refused():
    with pytest.raises(ValueError, match="must match"):
        KeyRing().key("../etc")


def test_rotation_closes_the_old_key_at_activation():
    ring = KeyRing()
    old, new, certificate = ring.rotate("payments")
    assert ring.key("payments").key_id == old.key_id  # still signing until activated
    ring.activate(new, certificate)
    assert ring.key("payments").key_id == new.key_id != old.key_id
    registered = ring.registry.keys()
    assert registered[old.key_id].valid_to == registered[new.key_id].valid_from
    assert ring.registry.current("payments").key_id == new.key_id


def test_env_key_source_does_not_rotate():
    with pytest.raises(KeySourceError, match="secrets manager"):
        EnvKeySource().rotate("payments")
