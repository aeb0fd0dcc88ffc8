"""`hurricane contracts`: list, show and revoke share contracts."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hurricane_assets.cli.display import short_path
from hurricane_assets.cli.errors import BAD_INPUT, fail

app = typer.Typer(help="Share contracts: list, show, revoke.", no_args_is_help=True)
console = Console()


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
    """Every contract, newest first. A file in the contracts folder that is not a contract record is
    named on stderr with the reason, after the others are listed, and the exit code is 2."""
    from hurricane_assets.contracts.contract import ContractStatus
    from hurricane_assets.contracts.store import ContractStore

    if status is not None and status not in {s.value for s in ContractStatus}:
        fail(f"unknown status {status!r}; expected one of {', '.join(s.value for s in ContractStatus)}")
    listing = ContractStore().scan(status=ContractStatus(status) if status else None)
    rows = [_row(c) for c in sorted(listing.contracts, key=lambda c: c.signed_at, reverse=True)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    for bad in listing.unreadable:
        typer.echo(f"error: {short_path(bad.path)}: {bad.reason} (skipped)", err=True)
    if listing.unreadable:
        raise typer.Exit(BAD_INPUT)  # a state file that cannot be read, as everywhere in the CLI


def _print_table(rows: list[dict]) -> None:
    # at 80 columns: the id whole (it is what the other commands take), the rest folds
    table = Table(title=f"{len(rows)} contract(s)", title_justify="left", box=None, padding=(0, 1))
    table.add_column("id", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("share (producer.dataset → consumer/env)", overflow="fold")
    table.add_column("expires", no_wrap=True)
    for r in rows:
        table.add_row(r["id"], r["status"], f"{r['producer']}.{r['dataset']} → {r['consumer']}/{r['environment']}",
                      r["expires_at"][:10])
    console.print(table)


@app.command("show")
def show(
    contract_id: str,
    as_json: bool = typer.Option(False, "--json", help="print the contract record as JSON"),
) -> None:
    """One contract: terms, masking per column, signatures, ledger entry, ODCS export."""
    from hurricane_assets.contracts.check import share_uri_for
    from hurricane_assets.contracts.odcs import odcs_path
    from hurricane_assets.contracts.store import ContractStore

    contract = ContractStore().get(contract_id)
    if as_json:
        typer.echo(contract.model_dump_json(indent=2))
        return
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
    console.print(f"share: {short_path(share_uri_for(contract.terms))}")
    console.print(f"ODCS: {short_path(str(odcs_path(contract.contract_id)))}")


@app.command("revoke")
def revoke(
    contract_id: str,
    reason: str = typer.Option("revoked by the consumer", help="Why; recorded in the ledger."),
    by: str = typer.Option(None, help="Who revokes (default: the consumer agent)."),
) -> None:
    """Revoke a contract: the contract is checked (signatures, the ledger's record), the revocation
    recorded, the delivered copy (where settings put it) erased. Run again, it finishes a revocation
    or expiry that stopped partway."""
    from hurricane_assets.contracts.check import ContractRejected, share_uri_for
    from hurricane_assets.contracts.contract import ContractStatus, IllegalTransitionError
    from hurricane_assets.delivery.erase import ErasureRefused
    from hurricane_assets.sharing.lifecycle import end_share
    from hurricane_assets.sharing.platform import SharingPlatform

    platform = SharingPlatform.from_environment()
    contract = platform.store.get(contract_id)
    try:
        ended = end_share(contract, ContractStatus.revoked, reason=reason, by=by or f"agent:{contract.consumer}/consumer",
                          store=platform.store, ledger=platform.ledger, lineage=platform.lineage,
                          signer=platform.signer)
    except (IllegalTransitionError, ContractRejected, ErasureRefused) as exc:
        fail(f"refused: {exc}")
    # the status the ledger recorded: a revoke that finishes an earlier, unfinished expiry says expired
    typer.echo(f"{ended.status.value} {ended.contract_id}; copy at {short_path(share_uri_for(ended.terms))} erased")
