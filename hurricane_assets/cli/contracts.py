"""`hurricane contracts`: list, show and revoke share contracts."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.contracts.contract import ContractStatus, IllegalTransitionError
from hurricane_assets.contracts.odcs import odcs_path
from hurricane_assets.contracts.store import ContractNotFoundError, ContractStore
from hurricane_assets.sharing.lifecycle import end_share
from hurricane_assets.sharing.platform import SharingPlatform

app = typer.Typer(help="Share contracts: list, show, revoke.", no_args_is_help=True)
console = Console()


def _fail_input(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _get(store: ContractStore, contract_id: str):
    try:
        return store.get(contract_id)
    except (ContractNotFoundError, ValueError) as exc:
        _fail_input(str(exc).strip("'\""))


def _row(contract) -> dict:
    return {
        "id": contract.contract_id,
        "version": contract.version,
        "status": contract.status.value,
        "producer": contract.producer,
        "consumer": contract.consumer,
        "dataset": contract.dataset,
        "environment": contract.terms.environment.value,
        "purpose": contract.terms.purpose,
        "expires_at": contract.expires_at.isoformat(),
    }


@app.command("list")
def list_contracts(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    status: str | None = typer.Option(None, help="Only contracts with this status."),
) -> None:
    """Every contract, newest first."""
    if status is not None and status not in {s.value for s in ContractStatus}:
        _fail_input(f"unknown status {status!r}; expected one of {', '.join(s.value for s in ContractStatus)}")
    contracts = ContractStore().list(status=ContractStatus(status) if status else None)
    rows = [_row(c) for c in sorted(contracts, key=lambda c: c.signed_at, reverse=True)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} contract(s)")
    for header in ("id", "version", "status", "producer → consumer", "dataset", "environment", "expires"):
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(r["id"], r["version"], r["status"], f"{r['producer']} → {r['consumer']}", r["dataset"],
                      r["environment"], r["expires_at"][:10])
    console.print(table)


@app.command("show")
def show(contract_id: str) -> None:
    """One contract: terms, masking per column, signatures, ledger entry, ODCS export."""
    contract = _get(ContractStore(), contract_id)
    terms = contract.terms
    console.print(f"[bold]contract {contract.contract_id}[/] v{contract.version} — {contract.status.value}")
    console.print(f"{terms.producer}.{terms.dataset} → {terms.consumer} for {terms.purpose} in {terms.environment.value}")
    console.print(f"signed {contract.signed_at.isoformat()}, expires {contract.expires_at.isoformat()}; "
                  f"retention {terms.retention_days} d, refreshed every {terms.freshness_hours} h")
    table = Table(title="columns")
    table.add_column("column")
    table.add_column("masking")
    for column, method in terms.columns.items():
        table.add_row(column, method.value)
    console.print(table)
    if not terms.row_filter.is_everything:
        console.print(f"row filter: {terms.row_filter.model_dump_json()}")
    for signature in contract.signatures:
        console.print(f"signed by {signature.role} {signature.block.signer} (key {signature.block.key_id})")
    if contract.ledger:
        console.print(f"ledger entry #{contract.ledger.seq} {contract.ledger.entry_hash}")
    console.print(f"policy bundle {contract.policy_bundle_sha256}")
    console.print(f"share: {contract.share_uri}")
    console.print(f"ODCS: {odcs_path(contract.contract_id)}")


@app.command("revoke")
def revoke(
    contract_id: str,
    reason: str = typer.Option("revoked by the consumer", help="Why; recorded in the ledger."),
    by: str = typer.Option(None, help="Who revokes (default: the consumer agent)."),
) -> None:
    """Revoke a contract: the delivered copy is erased and the revocation recorded."""
    platform = SharingPlatform.from_environment()
    contract = _get(platform.store, contract_id)
    try:
        ended = end_share(contract, ContractStatus.revoked, reason=reason, by=by or f"agent:{contract.consumer}/consumer",
                          store=platform.store, ledger=platform.ledger, lineage=platform.lineage)
    except IllegalTransitionError as exc:
        _fail_input(str(exc))
    typer.echo(f"revoked {ended.contract_id}; copy at {ended.share_uri} erased")
