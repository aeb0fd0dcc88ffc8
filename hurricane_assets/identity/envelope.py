"""Signed envelopes: a payload, who signed it, a nonce and a validity window, under one signature.

The signature covers the canonical JSON (RFC 8785) of every field except the signature itself, so
changing the payload, the signer, the nonce or the timestamps all break it.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hurricane_assets.clock import utc_now
from hurricane_assets.identity.canonical import canonical_json
from hurricane_assets.identity.errors import ExpiredEnvelopeError, ModifiedPayloadError
from hurricane_assets.identity.keyring import KeyRing
from hurricane_assets.identity.replay import ReplayCache

ENVELOPE_VERSION = 1
DEFAULT_TTL = timedelta(minutes=15)
MAX_LIFETIME = timedelta(hours=1)  # an envelope claiming a longer life is refused, whatever it says
CLOCK_SKEW = timedelta(seconds=30)  # tolerated for issued_at slightly in the future


class SignedEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = ENVELOPE_VERSION
    signer: str
    key_id: str
    nonce: str = Field(min_length=16)
    issued_at: AwareDatetime
    expires_at: AwareDatetime
    payload: dict[str, Any]
    signature: str

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value.isoformat()} must be timezone-aware (UTC)")
    return value.astimezone(timezone.utc)


def sign_envelope(
    domain: str,
    payload: dict[str, Any],
    *,
    keyring: KeyRing | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> SignedEnvelope:
    if ttl > MAX_LIFETIME:
        raise ValueError(f"envelope lifetime {ttl} exceeds the maximum {MAX_LIFETIME}")
    keyring = keyring if keyring is not None else KeyRing()
    key = keyring.key(domain)
    issued = _utc(now) if now is not None else utc_now()
    unsigned = SignedEnvelope(
        signer=domain,
        key_id=key.key_id,
        nonce=secrets.token_hex(16),
        issued_at=issued,
        expires_at=issued + ttl,
        payload=payload,
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
    return unsigned.model_copy(update={"signature": signature})


def verify_envelope(
    envelope: SignedEnvelope,
    *,
    replay_cache: ReplayCache,
    now: datetime | None = None,
    keyring: KeyRing | None = None,
) -> dict[str, Any]:
    """Check signer, signature, validity window and nonce; return the payload.

    Raises `UnknownSignerError`, `WrongKeyError`, `ModifiedPayloadError`, `ExpiredEnvelopeError` or
    `ReplayedNonceError`. The nonce is recorded only after every other check passed, so a forged
    envelope cannot burn a genuine nonce.

    The key must be valid *now* (the verifier's clock), not at the `issued_at` the signer wrote: a
    retired key cannot sign a back-dated envelope. The lifetime is capped at `MAX_LIFETIME`, so an
    envelope signed just before a rotation stops being accepted soon after it.
    """
    registry = (keyring if keyring is not None else KeyRing()).registry
    now = _utc(now) if now is not None else utc_now()
    key = registry.resolve(envelope.key_id, envelope.signer, now)
    try:
        key.public_key().verify(base64.b64decode(envelope.signature), envelope.signed_bytes())
    except (InvalidSignature, ValueError):
        raise ModifiedPayloadError(
            f"signature of envelope {envelope.nonce} from {envelope.signer!r} does not match its contents "
            "(payload or header modified after signing)"
        ) from None
    if envelope.expires_at - envelope.issued_at > MAX_LIFETIME:
        raise ExpiredEnvelopeError(
            f"envelope {envelope.nonce} from {envelope.signer!r} claims a lifetime of "
            f"{envelope.expires_at - envelope.issued_at}, more than the maximum {MAX_LIFETIME}"
        )
    if now >= envelope.expires_at:
        raise ExpiredEnvelopeError(
            f"envelope {envelope.nonce} from {envelope.signer!r} expired at {envelope.expires_at.isoformat()} "
            f"(now {now.isoformat()})"
        )
    if envelope.issued_at > now + CLOCK_SKEW:
        raise ExpiredEnvelopeError(
            f"envelope {envelope.nonce} from {envelope.signer!r} is issued in the future ({envelope.issued_at.isoformat()})"
        )
    replay_cache.remember(envelope.nonce, envelope.signer, envelope.expires_at, now)
    return envelope.payload
