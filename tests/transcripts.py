"""What the exchange's log holds for a negotiation message, to compare a ledger with a transcript."""

from __future__ import annotations

from hurricane_assets.agents.exchange import SYSTEM_ACTOR
from hurricane_assets.identity import canonical_json


def logged_bytes(message) -> str:
    """The message's ledger payload, naming the domain it speaks for (`on_behalf_of`) unless the
    exchange sent it as itself (a stand-in for an unavailable party): the log signs every entry with
    its own key, so this is the only trace in the entry of who spoke."""
    payload = message.ledger_payload()
    if message.sender != SYSTEM_ACTOR:
        payload["on_behalf_of"] = message.sender
    return canonical_json(payload).decode()
