"""Why a signature or envelope was rejected: one class per failure, so callers can react precisely."""

from __future__ import annotations


class KeySourceError(ValueError):
    """A signing key could not be loaded (missing, malformed, unreadable)."""


class EnvelopeError(ValueError):
    """Base class: a signed record failed verification."""


class UnknownSignerError(EnvelopeError):
    """The key id is not in the public-key registry."""


class WrongKeyError(EnvelopeError):
    """The key exists but belongs to another identity, or was not valid at signing time."""


class ModifiedPayloadError(EnvelopeError):
    """The signature does not match the signed bytes: something changed after signing."""


class ReplayedNonceError(EnvelopeError):
    """The nonce was already accepted once."""


class ExpiredEnvelopeError(EnvelopeError):
    """The envelope is outside its validity window."""
