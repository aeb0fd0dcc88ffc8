from __future__ import annotations

import base64
import logging
import os
import stat

import pytest

from hurricane_assets.masking.keys import Keyring, MaskingKey, MaskingKeyError
from hurricane_assets.settings import hurricane_paths


def test_key_file_is_created_once_with_mode_0600_and_reused():
    first = Keyring.load("dev")
    path = hurricane_paths().keys / "masking-dev.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.load("dev").key.secret == first.key.secret
    assert Keyring.load("preprod").key.secret != first.key.secret


def test_key_from_environment_in_hex_or_base64(monkeypatch):
    secret = bytes(range(32))
    monkeypatch.setenv("HURRICANE_MASKING_KEY_PREPROD", secret.hex())
    assert Keyring.load("preprod").key.secret == secret
    monkeypatch.setenv("HURRICANE_MASKING_KEY_PREPROD", base64.b64encode(secret).decode())
    assert Keyring.load("preprod").key.secret == secret
    assert not (hurricane_paths().keys / "masking-preprod.key").exists()


def test_key_id_is_the_sha256_prefix_and_repr_never_shows_the_key(caplog):
    key = MaskingKey(b"\xab" * 32, source="test")
    import hashlib

    assert key.key_id == hashlib.sha256(b"\xab" * 32).hexdigest()[:16]
    ring = Keyring(env="dev", key=key)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("params %s %r %s", {"key": key}, ring, key)
    for shown in (repr(key), str(key), repr(ring), str(ring), caplog.text):
        assert "ab" * 8 not in shown and "\\xab" not in shown
        assert base64.b64encode(b"\xab" * 32).decode()[:12] not in shown


def test_bad_keys_are_refused_with_their_source(monkeypatch):
    monkeypatch.setenv("HURRICANE_MASKING_KEY_DEV", "not a key!")
    with pytest.raises(MaskingKeyError, match="HURRICANE_MASKING_KEY_DEV is neither hex nor base64"):
        Keyring.load("dev")
    monkeypatch.setenv("HURRICANE_MASKING_KEY_DEV", "abcd")
    with pytest.raises(MaskingKeyError, match="has 2 bytes"):
        Keyring.load("dev")
    with pytest.raises(MaskingKeyError, match="unknown environment 'qa'"):
        Keyring.load("qa")


def test_a_key_file_readable_by_others_is_refused():
    Keyring.load("dev")
    path = hurricane_paths().keys / "masking-dev.key"
    os.chmod(path, 0o644)
    with pytest.raises(MaskingKeyError, match="mode 0o644"):
        Keyring.load("dev")


def test_derived_sub_keys_differ_per_purpose():
    key = MaskingKey(bytes(32))
    assert key.derive("a") != key.derive("b")
    assert len(key.derive("aes-siv", 64)) == 64
