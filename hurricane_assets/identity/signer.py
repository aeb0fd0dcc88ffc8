"""`SignerPort` for the negotiation: detached Ed25519 signatures by a domain's key."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature

from hurricane_assets.identity.errors import ModifiedPayloadError
from hurricane_assets.identity.keyring import KeyRing
from negotiation_graph.ports import SignatureBlock


class Signer:
    """Implements `negotiation_graph.ports.SignerPort`."""

    def __init__(self, keyring: KeyRing | None = None):
        self.keyring = keyring if keyring is not None else KeyRing()

    def sign(self, domain: str, message: bytes) -> SignatureBlock:
        key = self.keyring.key(domain)
        return SignatureBlock(signer=domain, key_id=key.key_id, signature=base64.b64encode(key.sign(message)).decode())

    def verify(self, message: bytes, signature: SignatureBlock, *, at: datetime | None = None) -> None:
        """Raise `UnknownSignerError`, `WrongKeyError` or `ModifiedPayloadError` (all `ValueError`s)."""
        when = at if at is not None else datetime.now(timezone.utc)
        key = self.keyring.registry.resolve(signature.key_id, signature.signer, when)
        try:
            key.public_key().verify(base64.b64decode(signature.signature), message)
        except (InvalidSignature, ValueError):
            raise ModifiedPayloadError(
                f"signature by {signature.signer!r} (key {signature.key_id}) does not match the message"
            ) from None

    def __repr__(self) -> str:
        return f"Signer({self.keyring!r})"
