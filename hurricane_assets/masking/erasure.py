"""Right to erasure below prod: a register of erased persons that every masked copy and delivery applies.

A person erased in prod must leave every lower-environment copy and every share in their next run,
also where prod itself keeps rows of theirs for a legal reason (payments keep transactions). The
register holds one row per request (`request_id`, `entity` such as `customer`, the prod `subject` id,
`requested_at`, `reason`) as a Delta table next to the ledger, in prod storage: it is prod data (the
subject is a prod identifier), read only by the writers of masked tables. Each masked write drops
every row whose column referring to the entity (catalog `refers_to`) holds an erased subject,
before masking, and `history.py` removes the earlier versions that still had them.

The request is recorded in the ledger as an `ERASURE` entry without the subject (the ledger is read
by every domain); each share that applies it records its own `ERASURE` entry, once per request.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import write_deltalake
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.catalog.manifest import Dataset
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.masking.columns import mask_column
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.plans import default_plan
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import open_table, storage_options
from negotiation_graph.ports import LedgerPort
from negotiation_graph.terms import Environment

REGISTER_SCHEMA = pa.schema([
    pa.field("request_id", pa.string(), nullable=False),
    pa.field("entity", pa.string(), nullable=False),
    pa.field("subject", pa.string(), nullable=False),
    pa.field("requested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
])


class ErasureError(ValueError):
    """A malformed erasure request; names the field, never the subject's value."""


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    entity: str
    subject: str = field(repr=False)  # a prod identifier: never in logs, the ledger or reports
    requested_at: datetime
    reason: str


@dataclass(frozen=True)
class Erasures:
    """The register as one masked write applies it: erased subjects per entity, at a register version."""

    version: int | None  # None: no register yet
    subjects: dict[str, frozenset[str]]
    request_ids: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.request_ids)


@dataclass(frozen=True)
class Applied:
    """What one masked write removed: never the subjects, only counts and request ids."""

    rows_removed: int
    register_version: int | None
    request_ids: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"rows_removed": self.rows_removed, "register_version": self.register_version,
                "request_ids": list(self.request_ids)}


def register_uri() -> str:
    return hurricane_paths().storage_root.rstrip("/") + "/erasure"


def load_erasures() -> Erasures:
    try:
        table = open_table(register_uri())
    except TableNotFoundError:
        return Erasures(version=None, subjects={}, request_ids=())
    rows = table.to_pyarrow_dataset().to_table(columns=["request_id", "entity", "subject"]).to_pylist()
    subjects: dict[str, set[str]] = {}
    for row in rows:
        subjects.setdefault(row["entity"], set()).add(row["subject"])
    return Erasures(version=table.version(), subjects={e: frozenset(s) for e, s in subjects.items()},
                    request_ids=tuple(sorted(r["request_id"] for r in rows)))


def request_erasure(entity: str, subject: str, *, reason: str, ledger: LedgerPort, now: datetime,
                    request_id: str | None = None, catalog: Catalog | None = None) -> ErasureRequest:
    """Record that `subject` (a prod id of `entity`) is erased: a register row and an ERASURE ledger
    entry. Asking again for the same person returns the first request."""
    for name, value in (("entity", entity), ("subject", subject), ("reason", reason)):
        if not isinstance(value, str) or not value.strip():
            raise ErasureError(f"erasure request: field {name!r} must be a non-empty string")
    if now.tzinfo is None:
        raise ErasureError("erasure request: field 'now' needs a timezone")
    # a request that matches no column erases nobody, yet was listed as applied ('customers' for
    # 'customer', an id with a space around it): refused instead. The value is not quoted: swapped
    # arguments would put the person's id in the message
    known = erasable_entities(catalog if catalog is not None else load_catalog())
    if entity not in known:
        raise ErasureError(f"erasure request: field 'entity' is not an entity any column refers to "
                           f"(known: {', '.join(sorted(known))})")
    _check_subject(subject)
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in reason) or subject in reason:
        raise ErasureError("erasure request: field 'reason' must be one line of text without control characters "
                           "and without the person's id (it goes into the ledger every domain reads)")
    existing = _existing(entity, subject)
    if existing is not None:
        return existing
    if request_id is not None and not REQUEST_ID.fullmatch(request_id):
        raise ErasureError(f"erasure request: field 'request_id' must match {REQUEST_ID.pattern}")
    if request_id is not None and (_request_ids() & {request_id} or _ledger_holds(ledger, request_id)):
        raise ErasureError(f"erasure request: field 'request_id': {request_id} is already taken")
    request = ErasureRequest(request_id=request_id or f"erasure-{secrets.token_hex(8)}", entity=entity,
                             subject=subject, requested_at=now, reason=reason)
    uri = register_uri()
    write_deltalake(uri, pa.Table.from_pylist([{
        "request_id": request.request_id, "entity": entity, "subject": subject,
        "requested_at": now, "reason": reason}], schema=REGISTER_SCHEMA),
        mode="append", storage_options=storage_options(uri) or None)
    try:
        ledger.append(
            entry_type=EntryType.ERASURE,
            actor="system:ledger",
            payload={"stage": "requested", "request_id": request.request_id, "entity": entity,
                     "requested_at": now.isoformat(), "reason": reason, "register_version": open_table(uri).version()},
            entry_id=request.request_id,
        )
    except BaseException:
        # no request without its ledger entry: the row this call wrote is withdrawn (unless the entry
        # was committed before the failure), so asking again starts afresh
        if not _ledger_holds(ledger, request.request_id):
            open_table(uri).delete(f"request_id = '{request.request_id}' AND requested_at = "
                                   f"'{now.astimezone(timezone.utc).isoformat()}'")
        raise
    return request


REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")  # a ledger entry id: it is the request's entry


def _check_subject(subject: str) -> None:
    """A prod id has no surrounding spaces, no control, format or separator characters inside (a BOM,
    a zero-width space, a tab, a NUL: each would be recorded as another person and erase no one) and
    is valid UTF-8."""
    if subject != subject.strip():
        raise ErasureError("erasure request: field 'subject' has leading or trailing whitespace; "
                           "prod ids have none, so it would match no row")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Zs") for c in subject):
        raise ErasureError("erasure request: field 'subject' holds a control, invisible or space character or "
                           "bytes that are not UTF-8; prod ids hold none, so it would match no row")


def _request_ids() -> set[str]:
    try:
        table = open_table(register_uri())
    except TableNotFoundError:
        return set()
    return set(table.to_pyarrow_dataset().to_table(columns=["request_id"])["request_id"].to_pylist())


def _ledger_holds(ledger: LedgerPort, entry_id: str) -> bool:
    receipt = getattr(ledger, "receipt", None)
    try:
        return receipt is not None and receipt(entry_id) is not None
    except Exception:  # noqa: BLE001 - an unreadable ledger holds nothing this call can rely on
        return False


def erasable_entities(catalog: Catalog) -> set[str]:
    """The entities some column refers to: the only ones `remove_erased` can find rows of."""
    return {column.refers_to for product in catalog.products.values() for dataset in product.datasets.values()
            for column in dataset.columns.values() if column.refers_to}


def _existing(entity: str, subject: str) -> ErasureRequest | None:
    try:
        table = open_table(register_uri())
    except TableNotFoundError:
        return None
    rows = [r for r in table.to_pyarrow_dataset().to_table().to_pylist()
            if r["entity"] == entity and r["subject"] == subject]
    return ErasureRequest(**rows[0]) if rows else None


def remove_erased(table: pa.Table, spec: Dataset, erasures: Erasures) -> tuple[pa.Table, Applied]:
    """`table` without the rows of erased persons: any column that refers to an erased entity and
    holds an erased subject drops the row (a null there does not)."""
    if not erasures:
        return table, Applied(0, erasures.version, ())
    drop = None
    for name, column in spec.columns.items():
        erased = erasures.subjects.get(column.refers_to or "")
        if not erased or name not in table.column_names:
            continue
        values = table[name]
        hit = pc.is_in(values, value_set=pa.array(sorted(erased), type=pa.string()).cast(values.type))
        drop = hit if drop is None else pc.or_kleene(drop, hit)
    if drop is None:
        return table, Applied(0, erasures.version, erasures.request_ids)
    kept = table.filter(pc.invert(pc.fill_null(drop, False)))
    return kept, Applied(table.num_rows - kept.num_rows, erasures.version, erasures.request_ids)


def erased_columns(spec: Dataset, erasures: Erasures) -> tuple[str, ...]:
    """The columns `remove_erased` reads: those referring to an entity with erased subjects."""
    return tuple(name for name, column in spec.columns.items() if erasures.subjects.get(column.refers_to or ""))


def erasure_applied(erasures: Erasures, rows_removed: int) -> Applied:
    """`remove_erased`'s account of a table it saw in batches, `rows_removed` rows in all."""
    return Applied(rows_removed, erasures.version, erasures.request_ids if erasures else ())


def masked_subjects(subjects: frozenset[str], spec: Dataset, column: str, keyring: Keyring) -> list[str]:
    """How `subjects` (prod ids) read in `column` of a masked copy of `spec` made with `keyring` by the
    manifest's plan: the same rule the copy applies, so a consumer's stored tokens can be matched to
    a register entry without the prod id leaving prod storage. A column the copy drops has none."""
    plan = default_plan(spec, keyring.env, name=column)
    rule = plan.rules.get(column)
    if rule is None or rule.drops or not subjects:
        return []
    values = pa.array(sorted(subjects), type=pa.string())
    masked = mask_column(values, rule, keyring.key, pa.table({column: values}))
    return [str(v) for v in masked.to_pylist() if v is not None]


@dataclass(frozen=True)
class ErasureStatus:
    """Where one request has reached: each masked copy below prod (applied in its current version, or
    pending until its next run) and each share delivery the ledger records as applied."""

    request_id: str
    entity: str
    copies: dict[str, str]  # "<env>/<domain>/<dataset>" -> "applied", "pending" or "unknown (...)"
    shares: list[dict]  # the ledger's "applied" entries: contract, share, table version, rows removed

    @property
    def pending(self) -> list[str]:
        return [name for name, state in self.copies.items() if state != "applied"]


def erasure_status(request_id: str, *, catalog: Catalog, ledger) -> ErasureStatus:
    """`request_id`'s reach: the copies' privacy reports (which requests their current version
    applied) and the ledger's ERASURE entries of share deliveries. Raises `ErasureError` for an
    unknown request."""
    import json

    from hurricane_assets import object_files
    from hurricane_assets.masking.copy import report_path

    try:
        rows = open_table(register_uri()).to_pyarrow_dataset().to_table(columns=["request_id", "entity"]).to_pylist()
    except TableNotFoundError:
        rows = []
    entity = next((r["entity"] for r in rows if r["request_id"] == request_id), None)
    if entity is None:
        raise ErasureError(f"no erasure request {request_id[:80]!r} in the register ({len(rows)} request(s))")
    from hurricane_assets.masking.keys import masked_tables

    paths = hurricane_paths()
    copies: dict[str, str] = {}
    # the tables that are there, not those today's manifests allow: a copy made while an environment
    # was allowed still holds its rows
    for env in (e.value for e in Environment if e.value != "prod"):
        for table in sorted(masked_tables(env)):
            domain, name = table.split("/", 1)
            if "__" in name:  # a share in its consumer's inbox: the ledger's entries below say
                continue
            uri = paths.table_uri(env, domain, name)
            try:
                report = json.loads(object_files.read_text(report_path(uri, env, domain, name)))
                applied = (report.get("erasure") or {}).get("request_ids", [])
            except (FileNotFoundError, ValueError, AttributeError):
                copies[f"{env}/{domain}/{name}"] = "unknown (no readable privacy report)"
                continue
            copies[f"{env}/{domain}/{name}"] = "applied" if request_id in applied else "pending"
    shares = []
    for entry in ledger.read().to_pylist():
        if entry["entry_type"] != EntryType.ERASURE.value:
            continue
        payload = json.loads(entry["payload_json"])
        if payload.get("stage") == "applied" and payload.get("request_id") == request_id:
            shares.append({"contract_id": entry["contract_id"], "share_uri": payload.get("share_uri"),
                           "table_version": payload.get("table_version"), "rows_removed": payload.get("rows_removed")})
    return ErasureStatus(request_id, entity, copies, shares)
