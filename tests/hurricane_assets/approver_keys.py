"""Approvers for tests: a key pair registered in the ledger by a domain, and envelopes it signs."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hurricane_assets.approval import add_approver, negotiation_approval_payload, sign_approval
from hurricane_assets.identity.keys import public_raw_of
from hurricane_assets.ledger import Ledger


def register_approver(name: str, *domains: str, ledger: Ledger | None = None) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    ledger = ledger if ledger is not None else Ledger()
    for domain in domains:
        add_approver(ledger, name, public_raw_of(key.public_key()), domain)
    return key


def answer(key: Ed25519PrivateKey, name: str, report, approve: bool, now: datetime):
    """The envelope answering a paused negotiation's escalation."""
    payload = negotiation_approval_payload(report.negotiation_id, report.pending_approval, approve)
    return sign_approval(key, name, payload, now=now)
