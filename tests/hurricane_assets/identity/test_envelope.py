from datetime import datetime, timedelta, timezone

import pytest

from hurricane_assets.identity import (
    ExpiredEnvelopeError,
    FileKeySource,
    KeyRegistry,
    KeyRing,
    ModifiedPayloadError,
    ReplayCache,
    ReplayedNonceError,
    UnknownSignerError,
    WrongKeyError,
    init_trust_root,
    sign_envelope,
    verify_envelope,
)


@pytest.fixture
def keyring():
    return KeyRing()


def test_valid_envelope_verifies_and_returns_payload(keyring):
    env = sign_envelope("payments", {"offer": 1}, keyring=keyring)
    assert verify_envelope(env, replay_cache=ReplayCache(), keyring=keyring) == {"offer": 1}


def test_unknown_key_is_rejected(keyring, tmp_path):
    other = KeyRing()
    # a key pinned in another trust root (another organisation, or an attacker's own init)
    init_trust_root(["payments"], FileKeySource(tmp_path / "k"), folder=tmp_path / "k")
    foreign = KeyRing(FileKeySource(tmp_path / "k"), KeyRegistry(tmp_path / "k"))
    env = sign_envelope("payments", {"offer": 1}, keyring=foreign)
    with pytest.raises(UnknownSignerError, match="not in the key registry"):
        verify_envelope(env, replay_cache=ReplayCache(), keyring=other)


def test_key_of_another_domain_is_rejected(keyring):
    env = sign_envelope("risk", {"offer": 1}, keyring=keyring)
    keyring.key("payments")
    claimed = env.model_copy(update={"signer": "payments"})
    with pytest.raises(WrongKeyError, match="belongs to 'risk', not to the claimed signer 'payments'"):
        verify_envelope(claimed, replay_cache=ReplayCache(), keyring=keyring)


def test_signature_by_wrong_key_under_right_key_id_is_rejected(keyring):
    genuine = sign_envelope("payments", {"offer": 1}, keyring=keyring)
    by_risk = sign_envelope("risk", {"offer": 1}, keyring=keyring)
    forged = genuine.model_copy(update={"signature": by_risk.signature})
    with pytest.raises(ModifiedPayloadError):
        verify_envelope(forged, replay_cache=ReplayCache(), keyring=keyring)


def test_modified_payload_is_rejected(keyring):
    env = sign_envelope("payments", {"columns": ["amount"]}, keyring=keyring)
    tampered = env.model_copy(update={"payload": {"columns": ["amount", "card_number"]}})
    with pytest.raises(ModifiedPayloadError, match="modified after signing"):
        verify_envelope(tampered, replay_cache=ReplayCache(), keyring=keyring)


def test_replayed_nonce_is_rejected_across_cache_instances(keyring):
    env = sign_envelope("payments", {"offer": 1}, keyring=keyring)
    verify_envelope(env, replay_cache=ReplayCache(), keyring=keyring)
    # a fresh cache object reads the same SQLite file, as another process would
    with pytest.raises(ReplayedNonceError, match=env.nonce):
        verify_envelope(env, replay_cache=ReplayCache(), keyring=keyring)


def test_forged_envelope_does_not_burn_the_nonce(keyring):
    env = sign_envelope("payments", {"offer": 1}, keyring=keyring)
    cache = ReplayCache()
    with pytest.raises(ModifiedPayloadError):
        verify_envelope(env.model_copy(update={"payload": {"offer": 2}}), replay_cache=cache, keyring=keyring)
    assert verify_envelope(env, replay_cache=cache, keyring=keyring) == {"offer": 1}


def test_expired_envelope_is_rejected(keyring):
    keyring.key("payments")
    now = datetime.now(timezone.utc)
    env = sign_envelope("payments", {"offer": 1}, keyring=keyring, ttl=timedelta(minutes=5), now=now)
    with pytest.raises(ExpiredEnvelopeError, match="expired at"):
        verify_envelope(env, replay_cache=ReplayCache(), keyring=keyring, now=now + timedelta(minutes=6))


def test_envelope_from_the_future_is_rejected(keyring):
    now = datetime.now(timezone.utc)
    env = sign_envelope("payments", {"offer": 1}, keyring=keyring, now=now + timedelta(hours=1))
    with pytest.raises(ExpiredEnvelopeError, match="in the future"):
        verify_envelope(env, replay_cache=ReplayCache(), keyring=keyring, now=now)


def test_naive_timestamp_is_refused(keyring):
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_envelope("payments", {}, keyring=keyring, now=datetime(2026, 1, 1))
