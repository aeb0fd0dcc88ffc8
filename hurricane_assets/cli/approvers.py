"""`hurricane approvers`: register human approvers' keys, list them, approve a renewal.

An approver is a role: a public key a domain registered in the ledger (APPROVER_ADDED, signed by
the domain's key). Approvals are envelopes signed with the approver's private key; a name alone
approves nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from hurricane_assets.clock import utc_now
from hurricane_assets.settings import hurricane_paths

app = typer.Typer(help="Human approvers: register their keys, list them, approve a renewal.", no_args_is_help=True)


def _fail_input(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def default_key_path(name: str) -> Path:
    """Where the embedded default keeps an approver's private key (`$HURRICANE_HOME/approvers`)."""
    from hurricane_assets.approval.approvers import check_name

    return hurricane_paths().home / "approvers" / f"{check_name(name)}.ed25519"


def _now() -> datetime:
    return utc_now()  # the command line is the edge where the clock enters (HURRICANE_NOW pins it)


@app.command("add")
def add(
    name: str,
    domains: list[str] = typer.Option(..., "--for", help="a domain this approver may approve for (repeatable)"),
    public_key: Path | None = typer.Option(None, "--public-key",
                                           help="the approver's Ed25519 public key (PEM or base64); default: "
                                           "make a key pair under $HURRICANE_HOME/approvers"),
) -> None:
    """Register NAME's public key as an approver for each --for domain (a ledger entry signed by that
    domain). All or nothing: when one registration fails, none is made and no new key is kept."""
    from hurricane_assets.approval.approvers import (
        ApproverError,
        add_approvers,
        check_name,
        new_private_key,
        public_raw_from,
        read_private_key,
    )
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.identity.keys import public_raw_of
    from hurricane_assets.ledger import Ledger

    domains = list(dict.fromkeys(domains))  # one entry per domain, however often it is named
    try:
        check_name(name)
        known = set(load_catalog().domains)
        unknown = [d for d in domains if d not in known]
        if unknown:
            _fail_input(f"--for {', '.join(unknown)}: not a catalog domain (known: {', '.join(sorted(known))})")
        if public_key is not None:
            try:
                raw = public_raw_from(public_key.read_bytes(), str(public_key))
            except FileNotFoundError:
                _fail_input(f"{public_key}: no such file")
            receipts, where = add_approvers(Ledger(), name, raw, domains), str(public_key)
        elif (path := default_key_path(name)).exists():  # an earlier add's key: an approver keeps one key
            key = read_private_key(path)
            receipts, where = add_approvers(Ledger(), name, public_raw_of(key.public_key()), domains), str(path)
        else:
            with new_private_key(path) as key:
                receipts = add_approvers(Ledger(), name, public_raw_of(key.public_key()), domains)
            where = f"new key at {path}"
    except ApproverError as exc:
        _fail_input(str(exc))
    for domain, receipt in zip(domains, receipts, strict=True):
        typer.echo(f"approver {name} registered for {domain} (ledger entry #{receipt.seq}; key from {where})")


@app.command("list")
def list_approvers() -> None:
    """Approvers registered in the ledger, with their key ids and domains."""
    from hurricane_assets.approval.approvers import registered_approvers
    from hurricane_assets.contracts.history import LedgerHistory
    from hurricane_assets.ledger import Ledger

    ledger = Ledger()
    approvers = registered_approvers(LedgerHistory.read(ledger), ledger.keyring.registry)
    if not approvers:
        typer.echo("no approvers registered")
    for approver in sorted(approvers.values(), key=lambda a: a.name):
        typer.echo(f"{approver.name}\tkey {approver.key_id}\tfor {', '.join(sorted(approver.domains))}")


@app.command("approve-renewal")
def approve_renewal(
    contract_id: str,
    by: str = typer.Option(..., "--by", help="the approver's name"),
    key: Path | None = typer.Option(None, "--key", help="the approver's private key (default $HURRICANE_HOME/approvers/<by>.ed25519)"),
    deny: bool = typer.Option(False, "--deny", help="record a refusal instead of an approval"),
) -> None:
    """Sign and record the approval (or refusal) of renewing a human-approved contract."""
    from hurricane_assets.approval.approval import (
        ApprovalError,
        record_approval,
        renewal_approval_payload,
        sign_approval,
    )
    from hurricane_assets.approval.approvers import ApproverError, read_private_key
    from hurricane_assets.contracts.check import ContractRejected, check_contract
    from hurricane_assets.contracts.store import ContractNotFoundError, ContractStore
    from hurricane_assets.identity.signer import Signer
    from hurricane_assets.ledger import Ledger

    try:
        contract = ContractStore().get(contract_id)
    except (ContractNotFoundError, ValueError) as exc:
        _fail_input(str(exc).strip("'\""))
    ledger = Ledger()
    try:
        check_contract(contract, signer=Signer(), ledger=ledger, now=_now())
        private = read_private_key(key if key is not None else default_key_path(by))
        envelope = sign_approval(private, by, renewal_approval_payload(contract, not deny), now=_now())
        approver, receipt = record_approval(ledger, envelope, now=_now())
    except (ContractRejected, ApproverError, ApprovalError) as exc:
        _fail_input(str(exc))
    typer.echo(f"{'refusal' if deny else 'approval'} of renewing {contract_id} by {approver.name} recorded (ledger entry #{receipt.seq})")
