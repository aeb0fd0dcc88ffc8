"""Private keys from a source, public halves pinned in the trust root: what signers and verifiers share."""

from __future__ import annotations

from datetime import datetime

from hurricane_assets.clock import utc_now
from hurricane_assets.identity.keys import DefaultKeySource, DomainKey, KeySource, check_identity
from hurricane_assets.identity.registry import KeyRegistry
from hurricane_assets.identity.trust_root import RotationCertificate, TrustRootError


class KeyRing:
    """Hands out each identity's signing key, and only the key the trust root pins for it.

    A missing key is an error (never a freshly made one), and so is a key the registry does not hold
    as the identity's current key: a replaced key file cannot start signing in a domain's name.
    """

    def __init__(self, source: KeySource | None = None, registry: KeyRegistry | None = None):
        self.source = source if source is not None else DefaultKeySource()
        self.registry = registry if registry is not None else KeyRegistry()
        self._loaded: dict[str, DomainKey] = {}

    def _where(self, identity: str) -> str:
        describe = getattr(self.source, "describe", None)
        return describe(identity) if describe is not None else type(self.source).__name__

    def key(self, identity: str) -> DomainKey:
        check_identity(identity)
        key = self._loaded.get(identity)
        current = self.registry.current(identity)
        if key is not None and current is not None and current.key_id == key.key_id:
            return key
        key = self.source.load(identity)
        if key is None:
            raise TrustRootError(
                f"no signing key for {identity!r} at {self._where(identity)}: run `hurricane keys init` "
                "(keys are never created on use)"
            )
        if current is None:
            raise TrustRootError(f"{identity!r} is not pinned in the trust root {self.registry.path}")
        if current.key_id != key.key_id:
            raise TrustRootError(
                f"key {key.key_id} at {self._where(identity)} is not {identity!r}'s pinned key {current.key_id}: "
                "an unknown key is refused"
            )
        self._loaded[identity] = key
        return key

    def rotate(self, identity: str, *, now: datetime | None = None) -> tuple[DomainKey, DomainKey, RotationCertificate]:
        """Stage a new key and certify it with the old one: returns (old, new, certificate).

        The caller records the certificate (the ledger's KEY_ROTATED entry, signed by the old key),
        then calls `activate`; until then the old key still signs.
        """
        old = self.key(identity)
        new = self.source.stage_rotation(identity)
        certificate = RotationCertificate.issue(old, new, now=now if now is not None else utc_now())
        return old, new, certificate

    def activate(self, new: DomainKey, certificate: RotationCertificate) -> None:
        """Register the rotation, make the new key current and destroy the retired private key."""
        self.registry.record_rotation(certificate)
        commit = getattr(self.source, "commit_rotation", None)
        if commit is not None:
            commit(new.identity, new)
        self._loaded[new.identity] = new

    def __repr__(self) -> str:
        return f"KeyRing(source={type(self.source).__name__}, identities={sorted(self._loaded)})"
