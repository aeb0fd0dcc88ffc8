"""Verifying the ledger: every check, every entry, the first bad one named.

Checks, in the order a problem is attributed: (1) seq is contiguous from 0; (2) fields are well
formed; (3) payload hash; (4) prev_hash links; (5) entry hash; (6) signatures, with the key the
registry holds for the actor's identity at the entry's time; (7) every stored checkpoint's
signature, size (a checkpoint larger than the ledger means the tail was cut) and Merkle root.
Steps 1-6 catch edits, insertions, deletions, reorders and forgeries; 7 catches truncation.
"""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidSignature
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.identity import KeyRegistry
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.ledger.checkpoint import CheckpointStore, verify_note
from hurricane_assets.ledger.entry import (
    ACTOR_PATTERN,
    GENESIS_HASH,
    HASH_PATTERN,
    ID_PATTERN,
    KEY_ID_PATTERN,
    EntryType,
    identity_of,
)
from hurricane_assets.ledger.ledger import group_message
from hurricane_assets.ledger.merkle import MerkleLevels
from hurricane_assets.settings import hurricane_paths

SIGNATURE_THREADS = 2  # cryptography releases the GIL while verifying


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None
    signatures_checked: int = 0
    checkpoints_checked: int = 0

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "signatures_checked": self.signatures_checked,
            "checkpoints_checked": self.checkpoints_checked,
        }


class _Findings:
    """Keeps the problem at the lowest seq; checks can run in any order."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.problem: str | None = None

    def add(self, seq: int, problem: str) -> None:
        if self.seq is None or seq < self.seq:
            self.seq, self.problem = seq, problem


def _first_false(mask: pa.ChunkedArray | pa.Array) -> int | None:
    bad = pc.indices_nonzero(pc.invert(pc.fill_null(mask, False)))
    return bad[0].as_py() if len(bad) else None


def _check_formats(table: pa.Table, findings: _Findings) -> None:
    patterns = [
        ("entry_id", ID_PATTERN, False),
        ("negotiation_id", ID_PATTERN, True),
        ("contract_id", ID_PATTERN, True),
        ("actor", ACTOR_PATTERN, False),
        ("payload_hash", HASH_PATTERN, False),
        ("prev_hash", HASH_PATTERN, False),
        ("entry_hash", HASH_PATTERN, False),
        ("key_id", KEY_ID_PATTERN, False),
    ]
    for column, pattern, nullable in patterns:
        values = table.column(column)
        mask = pc.match_substring_regex(values, pattern)
        if nullable:
            mask = pc.or_kleene(mask, pc.is_null(values))
        index = _first_false(mask)
        if index is not None:
            findings.add(index, f"{column} is malformed: {values[index].as_py()!r}")
    types = pa.array([t.value for t in EntryType])
    index = _first_false(pc.is_in(table.column("entry_type"), value_set=types))
    if index is not None:
        findings.add(index, f"unknown entry_type {table.column('entry_type')[index].as_py()!r}")


def _check_signatures(table: pa.Table, registry: KeyRegistry, findings: _Findings) -> int:
    """One key's entries since its previous signature form a group, signed on the group's last entry."""
    key_ids = table.column("key_id")
    signed = pc.is_valid(table.column("signature")).to_numpy(zero_copy_only=False)
    hashes = table.column("entry_hash").to_pylist()
    jobs: list[tuple[int, object, bytes, bytes]] = []
    for key_id in pc.unique(key_ids).to_pylist():
        rows = np.flatnonzero(pc.equal(key_ids, key_id).to_numpy(zero_copy_only=False))
        start = 0
        for end in np.flatnonzero(signed[rows]):
            group, i = rows[start : end + 1], int(rows[end])
            start = end + 1
            try:
                when = datetime.fromtimestamp(table.column("ts")[i].value / 1e6, tz=timezone.utc)
                key = registry.resolve(key_id, identity_of(table.column("actor")[i].as_py()), when)
                signature = base64.b64decode(table.column("signature")[i].as_py(), validate=True)
                message = group_message([bytes.fromhex(hashes[j]) for j in group])
            except (EnvelopeError, ValueError) as exc:
                findings.add(i, f"signature cannot be checked: {exc}")
                continue
            jobs.append((i, key.public_key(), signature, message))
        if start < len(rows):
            findings.add(int(rows[start]), "entry is not covered by any signature")

    def check(job: tuple[int, object, bytes, bytes]) -> int | None:
        signed_at, public, signature, message = job
        try:
            public.verify(signature, message)
            return None
        except InvalidSignature:
            return signed_at

    with ThreadPoolExecutor(SIGNATURE_THREADS) as pool:
        for bad in pool.map(check, jobs, chunksize=max(1, len(jobs) // 64)):
            if bad is not None:
                findings.add(bad, "signature does not verify (entry forged or re-signed with another key)")
    return len(jobs)


def _quoted_or_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.fill_null(pc.binary_join_element_wise('"', values, '"', ""), "null")


def _check_chain(table: pa.Table, findings: _Findings) -> None:
    """Payload hashes, prev links and entry hashes, with the string work done by Arrow.

    The header of every entry is assembled column-wise (the same bytes as `header_bytes`, which a
    test pins to RFC 8785), so Python only runs SHA-256.
    """
    n = table.num_rows
    if n == 0:
        return
    sha256 = hashlib.sha256
    payloads = table.column("payload_json").cast(pa.binary()).to_pylist()
    computed = pa.array([sha256(p).hexdigest() for p in payloads], pa.string())
    index = _first_false(pc.equal(computed, table.column("payload_hash")))
    if index is not None:
        findings.add(index, "payload_hash does not match payload_json (payload modified)")

    entry_hash = table.column("entry_hash")
    expected_prev = pa.concat_arrays([pa.array([GENESIS_HASH]), entry_hash.slice(0, n - 1).combine_chunks()])
    index = _first_false(pc.equal(table.column("prev_hash"), expected_prev))
    if index is not None:
        findings.add(index, "prev_hash does not link to the previous entry (entry deleted, inserted or reordered)")

    def text(column: str) -> pa.ChunkedArray:
        return table.column(column)

    headers = pc.binary_join_element_wise(
        '{"actor":"', text("actor"),
        '","contract_id":', _quoted_or_null(text("contract_id")),
        ',"entry_id":"', text("entry_id"),
        '","entry_type":"', text("entry_type"),
        '","key_id":"', text("key_id"),
        '","negotiation_id":', _quoted_or_null(text("negotiation_id")),
        ',"payload_hash":"', text("payload_hash"),
        '","prev_hash":"', text("prev_hash"),
        '","seq":', pc.cast(text("seq"), pa.string()),
        ',"ts":', pc.cast(pc.cast(text("ts"), pa.int64()), pa.string()),
        "}",
        "",
    )
    digests = [sha256(h).digest() for h in pc.cast(headers, pa.binary()).to_pylist()]
    index = _first_false(pc.equal(pa.array([d.hex() for d in digests], pa.string()), entry_hash))
    if index is not None:
        findings.add(index, "entry_hash does not match the entry's header (a header field was modified)")


def verify_table(
    table: pa.Table, *, registry: KeyRegistry | None = None, checkpoints: CheckpointStore | None = None
) -> VerificationResult:
    registry = registry if registry is not None else KeyRegistry()
    checkpoints = checkpoints if checkpoints is not None else CheckpointStore()
    table = table.sort_by("seq")
    n = table.num_rows
    findings = _Findings()

    seqs = table.column("seq")
    index = _first_false(pc.equal(seqs, pa.array(range(n), pa.int64())))
    if index is not None:
        findings.add(index, f"seq is not contiguous: expected {index}, found {seqs[index].as_py()} (entry missing or inserted)")
    _check_formats(table, findings)

    _check_chain(table, findings)

    signatures_checked = _check_signatures(table, registry, findings)

    stored = checkpoints.all()
    # the checkpoints sign the chain as stored; a leaf that is not hex is already a format finding
    tree = MerkleLevels([bytes.fromhex(h) if len(h) == 64 else b"" for h in table.column("entry_hash").to_pylist()])
    for checkpoint in stored:
        try:
            verify_note(checkpoint, registry)
        except EnvelopeError as exc:
            findings.add(min(checkpoint.tree_size, n), str(exc))
            continue
        if checkpoint.tree_size > n:
            findings.add(n, f"ledger truncated: checkpoint says {checkpoint.tree_size} entries, table has {n}")
            continue
        if base64.b64encode(tree.root(checkpoint.tree_size)).decode() != checkpoint.root_b64:
            findings.add(
                checkpoint.tree_size - 1,
                f"Merkle root of the first {checkpoint.tree_size} entries differs from the signed checkpoint (history rewritten)",
            )
    ok = findings.seq is None
    return VerificationResult(ok, n, findings.seq, findings.problem, signatures_checked, len(stored))


def verify_ledger(
    uri: str | None = None, *, registry: KeyRegistry | None = None, checkpoints: CheckpointStore | None = None
) -> VerificationResult:
    """Verify the Delta ledger at `uri` (default `hurricane_paths().ledger`)."""
    uri = uri if uri is not None else hurricane_paths().ledger
    checkpoints = checkpoints if checkpoints is not None else CheckpointStore(ledger_uri=uri)
    try:
        table = DeltaTable(uri).to_pyarrow_table()
    except TableNotFoundError:
        table = None
    if table is None:
        stored = checkpoints.all()
        if stored:
            return VerificationResult(False, 0, 0, f"ledger table missing at {uri} but {len(stored)} checkpoints exist")
        return VerificationResult(True, 0)
    return verify_table(table, registry=registry, checkpoints=checkpoints)
