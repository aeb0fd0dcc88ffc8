"""Deterministic ledger entry ids, so a step that re-runs (a resumed run, a retried op) finds its
entry instead of appending a second one."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-4c1e-9d7a-2b5e8f0a1c3d")


def entry_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))
