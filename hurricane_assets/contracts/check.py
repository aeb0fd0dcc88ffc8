"""The one check every use of a contract goes through: deliver, revoke, expire, renew, read a share.

A contract file can be edited by anyone who can write the state folder, so nothing in it is trusted
on its own: both parties' signatures are verified over the body, the body's hash must be the one
the ledger recorded when the contract was signed, the status is the ledger's (the file's status is
not signed), and the expiry is the signed one. Where the copy lives is never read from the file:
it is derived from settings (the consumer's environment root and `<producer>__<dataset>`). Any
error while checking is a refusal.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection
from datetime import datetime

from hurricane_assets.contracts.contract import Contract, ContractStatus, verify_contract
from hurricane_assets.contracts.history import ContractRecord, LedgerHistory
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.ports import SignerPort
from negotiation_graph.terms import ShareTerms

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


class ContractRejected(ValueError):
    """The contract may not be used: tampered, not signed by both parties, not active, or expired."""

    def __init__(self, contract_id: str, reason: str):
        self.contract_id = contract_id
        self.reason = reason
        super().__init__(f"contract {contract_id}: {reason}")


def share_table_name(terms: ShareTerms) -> str:
    return f"{terms.producer}__{terms.dataset}"


def consumer_root(terms: ShareTerms) -> str:
    """The folder holding every copy the consumer receives in the contract's environment."""
    return hurricane_paths().table_uri(terms.environment.value, terms.consumer, "")


def share_uri_for(terms: ShareTerms) -> str:
    """Where the consumer's copy lives: derived from settings, never taken from a contract file."""
    for name, value in (("producer", terms.producer), ("consumer", terms.consumer), ("dataset", terms.dataset)):
        if not NAME.match(value):
            raise ValueError(f"terms.{name} {value!r} is not a plain name (letters, digits, _ and -)")
    return hurricane_paths().table_uri(terms.environment.value, terms.consumer, share_table_name(terms))


def inside_consumer_root(uri: str, terms: ShareTerms) -> bool:
    """True if `uri`, normalised, is a table strictly inside the consumer's environment root."""
    root = consumer_root(terms)
    scheme, sep, path = uri.partition("://")
    root_scheme, root_sep, root_path = root.partition("://")
    if not sep:
        scheme, path, root_scheme, root_path = "", uri, "", root
    if scheme != root_scheme:
        return False
    normal, base = posixpath.normpath(path), posixpath.normpath(root_path)
    return normal.startswith(base + "/") and normal != base


def _signed_location_matches(contract: Contract) -> bool:
    # The signed share_uri must name this consumer's copy; the prefix (the home) may differ, so a
    # moved home keeps its contracts, but a contract signed for another path is refused.
    terms = contract.terms
    tail = "/".join([terms.environment.value, terms.consumer, share_table_name(terms)])
    return posixpath.normpath(contract.share_uri).endswith("/" + tail)


def check_contract(
    contract: Contract,
    *,
    signer: SignerPort,
    ledger=None,
    history: LedgerHistory | None = None,
    now: datetime | None,
    allowed: Collection[ContractStatus] = (ContractStatus.active,),
) -> ContractRecord:
    """Raise `ContractRejected` unless the contract may be used now; returns the ledger's record.

    `now=None` skips the expiry test (expiring a contract that ended is legal); every other check
    always runs. Either `history` (one ledger scan, reused) or `ledger` must be given.
    """
    cid = contract.contract_id
    try:
        if contract.status not in allowed:
            raise ContractRejected(cid, f"status is {contract.status.value}, not {' or '.join(s.value for s in allowed)}")
        if not _signed_location_matches(contract):
            raise ContractRejected(cid, "share_uri does not name the consumer's copy (contract file edited)")
        share_uri_for(contract.terms)  # the names the copy is derived from are plain
        try:
            verify_contract(contract, signer)
        except ValueError as exc:
            raise ContractRejected(cid, f"signature check failed: {exc}") from None
        if history is None:
            if ledger is None:
                raise ContractRejected(cid, "no ledger to check the contract's status against")
            history = LedgerHistory.read(ledger)
        record = history.contract(cid)
        if record is None:
            raise ContractRejected(cid, "the ledger holds no CONTRACT_SIGNED or RENEWED entry for it")
        if record.agreement_sha256 != contract.agreement_sha256:
            raise ContractRejected(cid, "its body differs from the one the ledger recorded at signature (contract file edited)")
        if record.status is not contract.status:
            raise ContractRejected(
                cid, f"the file says {contract.status.value} but the ledger says {record.status.value} (contract file edited)"
            )
        if now is not None and contract.expires_at <= now:
            raise ContractRejected(cid, f"expired at {contract.expires_at.isoformat()}")
        return record
    except ContractRejected:
        raise
    except Exception as exc:  # a check that errors denies
        raise ContractRejected(cid, f"could not be checked: {type(exc).__name__}: {exc}") from None
