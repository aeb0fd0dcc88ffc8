"""`hurricane erasure`: record a person's right to erasure, list the requests.

What a request sets in motion is the platform's (docs/masking.md, Right to erasure): every masked
copy and share drops the person's rows at its next run, the domains' model stores drop their
reference rows, and a model that learnt from them is retrained. The person's id is read from the
command line or, with `-`, from stdin (kept out of shell history) and is never printed.
"""

from __future__ import annotations

import sys

import typer

from hurricane_assets.cli.errors import fail

app = typer.Typer(help="Right to erasure: record a request, list them.", no_args_is_help=True)


@app.command("request")
def request(
    entity: str = typer.Argument(..., help="what the id identifies, e.g. customer (an entity columns refer to)"),
    subject: str = typer.Argument(..., help="the person's prod id; - reads it from stdin"),
    reason: str = typer.Option(..., help="why, e.g. 'GDPR art. 17 request 2026-118'"),
) -> None:
    """Record that SUBJECT (a prod id of ENTITY) is erased: a row of the erasure register and an
    ERASURE ledger entry. Asking again for the same person prints the first request."""
    from hurricane_assets.clock import utc_now
    from hurricane_assets.identity import TrustRootError
    from hurricane_assets.ledger import Ledger
    from hurricane_assets.masking.erasure import ErasureError, request_erasure

    if subject == "-":
        subject = _subject_from_stdin()
    try:
        made = request_erasure(entity, subject, reason=reason, ledger=Ledger(), now=utc_now())
    except (ErasureError, TrustRootError) as exc:
        fail(str(exc))
    typer.echo(f"{made.request_id} {made.entity} requested {made.requested_at.isoformat()}: copies, shares and "
               "model stores apply it at their next run")


def _subject_from_stdin() -> str:
    """Exactly one id on stdin (one line, a final newline allowed), valid UTF-8."""
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail("erasure request: field 'subject' (stdin) is not valid UTF-8")
    lines = text.removesuffix("\n").removesuffix("\r").split("\n")
    if len(lines) != 1:
        fail(f"erasure request: field 'subject' (stdin) must be one id on one line, not {len(lines)} lines")
    return lines[0]


@app.command("list")
def list_requests() -> None:
    """The erasure register's requests, one tab-separated line each: id, entity, when, why (never the
    person's id)."""
    from deltalake.exceptions import TableNotFoundError

    from hurricane_assets.masking.erasure import register_uri
    from hurricane_assets.storage import open_table

    try:
        rows = open_table(register_uri()).to_pyarrow_dataset().to_table(
            columns=["request_id", "entity", "requested_at", "reason"]).to_pylist()
    except TableNotFoundError:
        rows = []
    if not rows:
        typer.echo("no erasure requests")
    for row in sorted(rows, key=lambda r: r["requested_at"]):  # one line each, tab-separated: greppable
        typer.echo("\t".join([row["request_id"], row["entity"], row["requested_at"].isoformat(), row["reason"]]))


@app.command("status")
def status(request_id: str = typer.Argument(..., help="an id `erasure list` shows")) -> None:
    """Where REQUEST_ID has reached: each masked copy below prod (applied, or pending until its next
    run) and each share delivery that applied it. Exit 1 while a copy is pending."""
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.ledger import Ledger
    from hurricane_assets.masking.erasure import ErasureError, erasure_status

    try:
        found = erasure_status(request_id, catalog=load_catalog(), ledger=Ledger())
    except ErasureError as exc:
        fail(str(exc))
    for name, state in found.copies.items():
        typer.echo(f"copy\t{name}\t{state}")
    for share in found.shares:
        typer.echo(f"share\t{share['contract_id']}\t{share['share_uri']}\tversion {share['table_version']}\t"
                   f"{share['rows_removed']} row(s) removed")
    typer.echo(f"{found.request_id} ({found.entity}): {len(found.copies) - len(found.pending)} of {len(found.copies)} "
               f"copies applied it, {len(found.shares)} share deliveries")
    if found.pending:
        raise typer.Exit(code=1)
