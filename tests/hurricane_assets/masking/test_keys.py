from __future__ import annotations

import base64
import logging
import os
import shutil
import stat

import pytest
from deltalake import DeltaTable

from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.keys import (
    Keyring,
    MaskingKey,
    MaskingKeyError,
    MissingMaskingKeyError,
    init_masking_keys,
)
from hurricane_assets.settings import hurricane_paths


def test_init_creates_each_key_once_with_mode_0600_and_keeps_it(hurricane_home):
    shutil.rmtree(hurricane_paths().keys)
    ids = init_masking_keys()
    path = hurricane_paths().keys / "masking-dev.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = Keyring.load("dev")
    assert ids["dev"] == first.key_id and set(ids) == {"prod", "preprod", "dev"}
    assert init_masking_keys() == ids
    assert Keyring.load("dev").key.secret == first.key.secret
    assert Keyring.load("preprod").key.secret != first.key.secret


def test_a_missing_key_is_an_error_and_is_never_created_on_use():
    shutil.rmtree(hurricane_paths().keys)
    with pytest.raises(MissingMaskingKeyError) as raised:
        Keyring.load("dev")
    message = str(raised.value)
    assert "no masking key for dev" in message and "HURRICANE_MASKING_KEY_DEV" in message
    assert str(hurricane_paths().keys / "masking-dev.key") in message and "init-keys" in message
    assert not hurricane_paths().keys.exists()


def test_a_lost_key_of_an_environment_with_copies_fails_closed(catalog, prod_world):
    first = copy_masked(catalog, "customers", "profiles", "preprod")
    target = hurricane_paths().table_uri("preprod", "customers", "profiles")
    version = DeltaTable(target).version()
    (hurricane_paths().keys / "masking-preprod.key").unlink()

    for attempt in (lambda: Keyring.load("preprod"), lambda: init_masking_keys(("preprod",)),
                    lambda: copy_masked(catalog, "customers", "profiles", "preprod")):
        with pytest.raises(MissingMaskingKeyError) as raised:
            attempt()
        message = str(raised.value)
        assert "no masking key for preprod" in message and "masking-preprod.key" in message
        assert "already holds 1 masked table(s)" in message and f"key id {first.key_id}" in message
        assert "customers/profiles" in message
    assert not (hurricane_paths().keys / "masking-preprod.key").exists()
    assert DeltaTable(target).version() == version  # nothing was written with a new key

    # a deliberate rotation creates a new key; every copy must then be refreshed
    rotated = init_masking_keys(("preprod",), rotate=True)["preprod"]
    assert rotated != first.key_id
    assert copy_masked(catalog, "customers", "profiles", "preprod").key_id == rotated


def test_key_from_environment_in_hex_or_base64(monkeypatch):
    secret = bytes(range(32))
    monkeypatch.setenv("HURRICANE_MASKING_KEY_PREPROD", secret.hex())
    assert Keyring.load("preprod").key.secret == secret
    monkeypatch.setenv("HURRICANE_MASKING_KEY_PREPROD", base64.b64encode(secret).decode())
    assert Keyring.load("preprod").key.secret == secret
    assert Keyring.load("preprod").key.source == "HURRICANE_MASKING_KEY_PREPROD"


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
    path = hurricane_paths().keys / "masking-dev.key"
    os.chmod(path, 0o644)
    with pytest.raises(MaskingKeyError, match="mode 0o644"):
        Keyring.load("dev")


def test_derived_sub_keys_differ_per_purpose():
    key = MaskingKey(bytes(32))
    assert key.derive("a") != key.derive("b")
    assert len(key.derive("aes-siv", 64)) == 64
