"""Private keys from a source, public halves in the registry: what signers and verifiers share."""

from __future__ import annotations

from hurricane_assets.identity.keys import DomainKey, FileKeySource, KeySource, check_identity
from hurricane_assets.identity.registry import KeyRegistry


class KeyRing:
    """Hands out each identity's signing key, creating it on first use when the source can.

    A key is registered in the public-key registry the first time it is used, so a verifier in any
    process can resolve its key id.
    """

    def __init__(self, source: KeySource | None = None, registry: KeyRegistry | None = None):
        self.source = source if source is not None else FileKeySource()
        self.registry = registry if registry is not None else KeyRegistry()
        self._loaded: dict[str, DomainKey] = {}

    def key(self, identity: str) -> DomainKey:
        check_identity(identity)
        key = self._loaded.get(identity)
        if key is None:
            key = self.source.load(identity) or self.source.create(identity)
            if key.key_id not in self.registry.keys():
                self.registry.register(identity, key.public_raw)
            self._loaded[identity] = key
        return key

    def rotate(self, identity: str) -> tuple[DomainKey, DomainKey]:
        """Make a new key for `identity`, without registering it yet: returns (old, new).

        The caller records the rotation signed by the old key, then calls `activate(new)`; until
        then the old key still signs.
        """
        old = self.key(identity)
        return old, self.source.rotate(identity)

    def activate(self, key: DomainKey) -> None:
        """Register `key` from now on (ending its predecessor's validity) and sign with it."""
        self.registry.register(key.identity, key.public_raw)
        self._loaded[key.identity] = key

    def __repr__(self) -> str:
        return f"KeyRing(source={type(self.source).__name__}, identities={sorted(self._loaded)})"
