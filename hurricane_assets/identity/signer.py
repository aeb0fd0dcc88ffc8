"""`SignerPort` for the negotiation: detached Ed25519 signatures by a domain's key."""

from __future__ import annotations

import base64
from datetime import datetime

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
        """Raise `UnknownSignerError`, `WrongKeyError` or `ModifiedPayloadError` (all `ValueError`s).

        Without `at`, any key the signer has held (pinned, or rotated to by a certificate) verifies:
        a contract signed before a rotation stays verifiable, and a retired key cannot sign anything
        new because its private half was destroyed at rotation. With `at`, the key must have been
        valid at that moment.
        """
        registry = self.keyring.registry
        if at is None:
            key = registry.owned(signature.key_id, signature.signer)
        else:
            key = registry.resolve(signature.key_id, signature.signer, at)
        try:
            key.public_key().verify(base64.b64decode(signature.signature), message)
        except (InvalidSignature, ValueError):
            raise ModifiedPayloadError(
                f"signature by {signature.signer!r} (key {signature.key_id}) does not match the message"
            ) from None

    def __repr__(self) -> str:
        return f"Signer({self.keyring!r})"
