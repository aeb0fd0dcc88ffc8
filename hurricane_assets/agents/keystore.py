"""A key source that can load one identity's key and no other: what a domain agent (its domain)
and the exchange (the log's `system` key) each get, so neither can sign for anybody else even when
other stores sit on the same disk."""

from __future__ import annotations

from hurricane_assets.identity.keyring import KeyRing
from hurricane_assets.identity.keys import DefaultKeySource, DomainKey, check_identity
from hurricane_assets.identity.registry import KeyRegistry
from hurricane_assets.identity.trust_root import TrustRootError


class NotThisPrincipal(TrustRootError):
    """Asked for the key of an identity this principal is not."""


class OwnKeySource:
    """`DefaultKeySource` (environment, else `$HURRICANE_HOME/domains/<identity>/keys`) limited to one identity."""

    def __init__(self, identity: str):
        self.identity = check_identity(identity)
        self._source = DefaultKeySource()

    def _check(self, identity: str) -> None:
        if identity != self.identity:
            raise NotThisPrincipal(f"{self.identity!r} holds no key of {identity!r}: only {identity!r}'s own agent signs for it")

    def describe(self, identity: str) -> str:
        self._check(identity)
        return self._source.describe(identity)

    def load(self, identity: str) -> DomainKey | None:
        self._check(identity)
        return self._source.load(identity)

    def create(self, identity: str) -> DomainKey:
        self._check(identity)
        return self._source.create(identity)

    def stage_rotation(self, identity: str) -> DomainKey:
        self._check(identity)
        return self._source.stage_rotation(identity)

    def commit_rotation(self, identity: str, new: DomainKey) -> None:
        self._check(identity)
        self._source.commit_rotation(identity, new)


def own_keyring(identity: str, registry: KeyRegistry | None = None) -> KeyRing:
    return KeyRing(OwnKeySource(identity), registry)
