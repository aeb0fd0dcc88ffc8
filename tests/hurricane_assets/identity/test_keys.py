import base64
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hurricane_assets.identity import EnvKeySource, FileKeySource, KeyRing, KeySourceError, key_id_of
from hurricane_assets.settings import hurricane_paths


def test_file_key_is_created_once_with_private_mode():
    source = FileKeySource()
    first = KeyRing(source).key("payments")
    path = hurricane_paths().keys / "payments.ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing(source).key("payments").key_id == first.key_id


def test_key_id_is_first_16_hex_of_sha256_of_raw_public_key():
    key = KeyRing().key("risk")
    import hashlib

    assert key.key_id == hashlib.sha256(key.public_raw).hexdigest()[:16] == key_id_of(key.public_raw)


def test_repr_shows_key_id_only():
    key = KeyRing().key("risk")
    pem = (hurricane_paths().keys / "risk.ed25519").read_text()
    body = "".join(pem.splitlines()[1:-1])
    assert key.key_id in repr(key)
    assert body not in repr(key) and body not in str(key)


def test_env_key_source_reads_pem_and_base64_seed(monkeypatch):
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_PAYMENTS", pem)
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("HURRICANE_SIGNING_KEY_RISK", base64.b64encode(seed).decode())
    ring = KeyRing(EnvKeySource())
    assert ring.key("payments").key_id == ring.key("risk").key_id
    assert ring.registry.current("payments").key_id == ring.key("payments").key_id


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
    old, new = ring.rotate("payments")
    assert ring.key("payments").key_id == old.key_id  # still signing until activated
    ring.activate(new)
    assert ring.key("payments").key_id == new.key_id != old.key_id
    registered = ring.registry.keys()
    assert registered[old.key_id].valid_to == registered[new.key_id].valid_from
    assert ring.registry.current("payments").key_id == new.key_id


def test_env_key_source_does_not_rotate():
    with pytest.raises(KeySourceError, match="secrets manager"):
        EnvKeySource().rotate("payments")
