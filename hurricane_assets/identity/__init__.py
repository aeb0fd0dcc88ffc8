"""Domain identities: Ed25519 keys per domain, a public-key registry, signed envelopes.

Every record that crosses a domain boundary (negotiation messages, contracts, ledger entries) is
canonical JSON (RFC 8785) signed by the acting domain's key, so anyone holding the registry can
tell who said what, and that nobody changed it since.
"""

from hurricane_assets.identity.canonical import canonical_json, sha256_hex
from hurricane_assets.identity.envelope import SignedEnvelope, sign_envelope, verify_envelope
from hurricane_assets.identity.errors import (
    EnvelopeError,
    ExpiredEnvelopeError,
    KeySourceError,
    ModifiedPayloadError,
    ReplayedNonceError,
    UnknownSignerError,
    WrongKeyError,
)
from hurricane_assets.identity.keyring import KeyRing
from hurricane_assets.identity.keys import (
    SYSTEM_IDENTITY,
    DefaultKeySource,
    DomainKey,
    EnvKeySource,
    FileKeySource,
    KeySource,
    key_id_of,
)
from hurricane_assets.identity.registry import KeyRegistry, RegisteredKey
from hurricane_assets.identity.replay import ReplayCache
from hurricane_assets.identity.signer import Signer
from hurricane_assets.identity.trust_root import (
    RotationCertificate,
    TrustRoot,
    TrustRootError,
    init_trust_root,
    load_trust_root,
)

__all__ = [
    "SYSTEM_IDENTITY",
    "DefaultKeySource",
    "DomainKey",
    "EnvKeySource",
    "EnvelopeError",
    "ExpiredEnvelopeError",
    "FileKeySource",
    "KeyRegistry",
    "KeyRing",
    "KeySource",
    "KeySourceError",
    "ModifiedPayloadError",
    "RegisteredKey",
    "RotationCertificate",
    "TrustRoot",
    "TrustRootError",
    "init_trust_root",
    "load_trust_root",
    "ReplayCache",
    "ReplayedNonceError",
    "SignedEnvelope",
    "Signer",
    "UnknownSignerError",
    "WrongKeyError",
    "canonical_json",
    "key_id_of",
    "sha256_hex",
    "sign_envelope",
    "verify_envelope",
]
