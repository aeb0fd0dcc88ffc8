"""Pinning the policy bundle in the ledger: the first decision under a bundle the ledger has not
seen appends a POLICY_CHANGED entry (bundle hash, the previous one, each file's hash).

So every change of the org policy or a domain policy is itself a ledger entry, before any
contract is signed, delivered or renewed under it, and every decision records the bundle hash it
was made with: an auditor can re-evaluate a past decision with the exact policies then in force.
The ledger, not a file, holds the pin, because the ledger is signed and witnessed.
"""

from __future__ import annotations

from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.ledger.entry import SYSTEM_ACTOR, EntryType
from hurricane_assets.sharing.ids import entry_id
from negotiation_graph.ports import LedgerReceipt


def pin_bundle(gate, ledger, history: LedgerHistory | None = None) -> LedgerReceipt | None:
    """Record the gate's bundle in the ledger unless it is already the latest pinned one.

    Returns the new entry's receipt, or None when nothing changed. A gate without a bundle (a test
    double) or a ledger that cannot be read back pins nothing.
    """
    bundle = getattr(gate, "bundle", None)
    if bundle is None or not hasattr(ledger, "read"):
        return None
    history = history if history is not None else LedgerHistory.read(ledger)
    latest = history.latest_policy_bundle()
    if latest is not None and latest["payload"].get("bundle_sha256") == bundle.sha256:
        return None
    previous = latest["payload"].get("bundle_sha256") if latest is not None else None
    return ledger.append(
        entry_type=EntryType.POLICY_CHANGED,
        actor=SYSTEM_ACTOR,
        payload={"bundle_sha256": bundle.sha256, "previous_bundle_sha256": previous, "files": bundle.file_sha256},
        # the previous pin's seq makes A → B → A two entries, not one
        entry_id=entry_id("policy-changed", latest["seq"] if latest is not None else -1, bundle.sha256),
    )
