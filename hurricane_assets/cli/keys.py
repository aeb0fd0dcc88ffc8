"""`hurricane keys`: provision the domains' keys and the trust root, show them, rotate one."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Signing keys and the trust root that pins them.", no_args_is_help=True)
console = Console()


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def domain_identities() -> list[str]:
    from hurricane_assets.catalog import load_catalog

    return list(load_catalog().domains)


@app.command()
def init() -> None:
    """Create each domain's key (and the exchange's) in its own key store and pin them in the trust root.

    Run again, it creates nothing: it checks that every pinned key is present and is the pinned one.
    """
    from hurricane_assets.identity import DefaultKeySource, KeyRegistry, TrustRootError, init_trust_root
    from hurricane_assets.identity.keys import SYSTEM_IDENTITY

    try:
        root, created = init_trust_root(domain_identities(), DefaultKeySource())
    except TrustRootError as exc:
        _fail(str(exc))
    registry = KeyRegistry()
    for identity in sorted(root.identities):
        current = registry.current(identity)
        state = "created" if identity in created else "present"
        role = "log" if identity == SYSTEM_IDENTITY else "domain, witness"
        typer.echo(f"{identity:<10} key {current.key_id if current else '?'}  ({role}; {state})")
    typer.echo(f"trust root: {registry.path}")


@app.command()
def show() -> None:
    """Every key the registry knows: pinned at init or introduced by a rotation, and its validity."""
    from hurricane_assets.identity import KeyRegistry, TrustRootError

    try:
        keys = KeyRegistry().keys()
    except TrustRootError as exc:
        _fail(str(exc))
    table = Table("identity", "key id", "valid from", "valid to")
    for key in sorted(keys.values(), key=lambda k: (k.owner, k.valid_from)):
        table.add_row(key.owner, key.key_id, key.valid_from.isoformat(timespec="seconds"),
                      key.valid_to.isoformat(timespec="seconds") if key.valid_to else "current")
    console.print(table)


@app.command()
def rotate(identity: str = typer.Argument(..., help="domain (or `system`) whose key to rotate")) -> None:
    """Rotate a key: a KEY_ROTATED ledger entry signed by the old key certifies the new one; the old
    private key is destroyed."""
    from hurricane_assets.identity import KeyRegistry, TrustRootError
    from hurricane_assets.ledger import Ledger

    try:
        registry = KeyRegistry()
        pinned = registry.trust_root().identities
        if identity not in pinned:
            # `keys init` pins the catalog's domains and the log's key: it would not create this one either
            _fail(f"unknown identity {identity[:60]!r}: the trust root at {registry.path} pins "
                  f"{', '.join(sorted(pinned))}")
        receipt = Ledger().rotate_key(identity)
    except (TrustRootError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"{identity}: key {KeyRegistry().current(identity).key_id} from ledger seq {receipt.seq + 1} on")
