"""Verifying the ledger: every check, every entry, the first bad one named.

Checks, in the order a problem is attributed: (1) seq is contiguous from 0; (2) fields are well
formed; (3) payload hash; (4) prev_hash links; (5) entry hash; (6) keys by position: each entry's
key must be its identity's key at that point of the ledger (the trust root's pinned key, changed
only by a certified KEY_ROTATED entry), never judged by the timestamp the signer wrote; (7)
timestamps never go back more than `MAX_CLOCK_SKEW`; (8) signatures; (9) the log's checkpoints:
signature, size and Merkle root; (10) every witness's copy: its cosignature, and that the ledger
extends it (a smaller ledger is a cut, another root a rewrite or a fork, naming the witness);
(11) a checkpoint cosigned by every witness covers the tail within N entries and every entry that
changes a contract's state.
"""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidSignature
from deltalake.exceptions import DeltaError, TableNotFoundError
from pydantic import ValidationError

from hurricane_assets.identity import SYSTEM_IDENTITY, KeyRegistry
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.identity.trust_root import RotationCertificate, TrustRoot, TrustRootError
from hurricane_assets.ledger.checkpoint import (
    CHECKPOINT_EVERY,
    CheckpointStore,
    log_id_of,
    origin_of,
    parse_note,
    verify_log_signature,
    verify_note,
)
from hurricane_assets.ledger.entry import (
    ACTOR_PATTERN,
    COSIGNED_TYPES,
    GENESIS_HASH,
    HASH_PATTERN,
    ID_PATTERN,
    KEY_ID_PATTERN,
    LEDGER_SCHEMA,
    EntryType,
)
from hurricane_assets.ledger.ledger import group_message
from hurricane_assets.ledger.merkle import MerkleLevels
from hurricane_assets.ledger.witness import Witness, verify_cosignature
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import open_table

SIGNATURE_THREADS = 2  # cryptography releases the GIL while verifying
MAX_CLOCK_SKEW = timedelta(minutes=5)  # how far an entry's ts may be before its predecessor's (writers' clocks differ)


class LedgerInputError(ValueError):
    """What was given to verify is not a ledger (missing, or another table): one line, no row values."""


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None
    signatures_checked: int = 0
    checkpoints_checked: int = 0
    cosigned_entries: int = 0  # entries covered by a checkpoint every witness cosigned
    witnesses: int = 0

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "signatures_checked": self.signatures_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "cosigned_entries": self.cosigned_entries,
            "witnesses": self.witnesses,
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


def _identity_of_actor(actor: str) -> str:
    """Whose key signs: `agent:<domain>/<role>` -> domain, `system:ledger` -> system."""
    if actor == "system:ledger":
        return SYSTEM_IDENTITY
    return actor[len("agent:"):].split("/", 1)[0] if actor.startswith("agent:") else actor


def _check_keys(table: pa.Table, root: TrustRoot, findings: _Findings) -> dict[str, object]:
    """Each entry's key must be its identity's key at that position of the ledger.

    Keys start as the trust root pins them; a KEY_ROTATED entry, signed by the identity's current
    key and carrying a certificate signed by the old and the new key, switches the identity to the
    new key for every later entry. Returns key id -> public key for the signature check.

    Vectorised: rows are encoded as (actor, key id) pairs, of which a ledger has a handful; between
    two rotations a pair is either valid or not, so each segment is one numpy lookup.
    """
    publics: dict[str, object] = {p.key_id: p.public_key() for p in root.identities.values()}
    owners = {p.key_id: identity for identity, p in root.identities.items()}
    current = {identity: p.key_id for identity, p in root.identities.items()}
    n = table.num_rows
    if n == 0:
        return publics
    pairs = pc.binary_join_element_wise(table.column("actor"), table.column("key_id"), "|").combine_chunks()
    encoded = pc.dictionary_encode(pairs)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    split = [p.split("|", 1) for p in encoded.dictionary.to_pylist()]
    pair_identity = [_identity_of_actor(actor) for actor, _ in split]
    pair_key = [key_id for _, key_id in split]
    seqs = table.column("seq")
    rotation_rows = pc.indices_nonzero(pc.equal(table.column("entry_type"), EntryType.KEY_ROTATED.value)).to_pylist()
    retired_at: dict[str, int] = {}
    start = 0
    for boundary in [*rotation_rows, n]:
        # entries up to and including a KEY_ROTATED entry are judged by the keys current before it
        stop = min(boundary + 1, n)
        valid = np.array([current.get(i) == k for i, k in zip(pair_identity, pair_key)], dtype=bool)
        bad = np.flatnonzero(~valid[codes[start:stop]])
        if len(bad):
            i = start + int(bad[0])
            identity, key_id, seq = pair_identity[codes[i]], pair_key[codes[i]], seqs[i].as_py()
            if identity not in current:
                problem = f"identity {identity!r} of the actor is not pinned in the trust root"
            elif key_id in retired_at and owners.get(key_id) == identity:
                problem = f"key {key_id} of {identity!r} is not valid at seq {seq}: retired by the KEY_ROTATED entry at seq {retired_at[key_id]}"
            elif key_id in owners:
                problem = f"key {key_id} belongs to {owners[key_id]!r}, not to {identity!r}"
            else:
                problem = f"key {key_id} of {identity!r} is neither pinned in the trust root nor introduced by a KEY_ROTATED entry"
            findings.add(seq, problem)
            return publics
        if boundary == n:
            break
        i = boundary
        identity, key_id, seq = pair_identity[codes[i]], pair_key[codes[i]], seqs[i].as_py()
        try:
            certificate = RotationCertificate.model_validate_json(table.column("payload_json")[i].as_py())
            if certificate.identity != identity or certificate.old_key_id != key_id:
                raise TrustRootError(f"it rotates {certificate.identity!r} from key {certificate.old_key_id}, not the entry's signer")
            if certificate.new_key_id in owners:
                raise TrustRootError(f"it rotates to key {certificate.new_key_id}, which was already used")
            certificate.verify(publics[certificate.old_key_id])
        except ValidationError:
            findings.add(seq, "KEY_ROTATED entry invalid: its payload is not a rotation certificate")
            return publics
        except TrustRootError as exc:
            findings.add(seq, f"KEY_ROTATED entry invalid: {exc}")
            return publics
        retired_at[certificate.old_key_id] = seq
        current[identity] = certificate.new_key_id
        owners[certificate.new_key_id] = identity
        publics[certificate.new_key_id] = _public(certificate.new_public_key_b64)
        start = boundary + 1
    return publics


def _public(public_key_b64: str) -> object:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))


def _check_timestamps(table: pa.Table, findings: _Findings, max_skew: timedelta) -> None:
    """Entry times may not go back more than `max_skew`: a back-dated entry is refused by position."""
    if table.num_rows < 2:
        return
    ts = pc.cast(table.column("ts"), pa.int64()).to_numpy()
    back = np.flatnonzero(ts[1:] < ts[:-1] - int(max_skew.total_seconds() * 1e6))
    if len(back):
        i = int(back[0]) + 1
        gone = (ts[i - 1] - ts[i]) / 1e6
        findings.add(
            table.column("seq")[i].as_py(),
            f"ts goes back {gone:.0f} s before the previous entry's (more than the allowed skew of {max_skew.total_seconds():.0f} s)",
        )


def _check_signatures(table: pa.Table, publics: dict[str, object], findings: _Findings) -> int:
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
            public = publics.get(key_id)
            if public is None:
                findings.add(i, f"signature cannot be checked: key {key_id} is unknown")
                continue
            try:
                signature = base64.b64decode(table.column("signature")[i].as_py(), validate=True)
                message = group_message([bytes.fromhex(hashes[j]) for j in group])
            except ValueError as exc:
                findings.add(i, f"signature cannot be checked: {exc}")
                continue
            jobs.append((i, public, signature, message))
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


def _check_witnesses(
    table: pa.Table,
    tree: MerkleLevels,
    witnesses: list[Witness],
    registry: KeyRegistry,
    checkpoint_every: int,
    findings: _Findings,
) -> int:
    """Every witness's copy must be extended by the ledger; together they must cover the tail.

    Returns the size covered by a checkpoint every witness cosigned.
    """
    n = table.num_rows
    if n == 0:
        for witness in witnesses:
            if witness.origins():
                findings.add(0, f"ledger is empty but witness {witness.identity} has cosigned checkpoints of it (ledger deleted or cut)")
                return 0
        return 0
    origin = origin_of(log_id_of(table.column("entry_hash")[0].as_py()))
    covered: int | None = None
    lagging = None
    for witness in witnesses:
        try:
            copy = witness.latest(origin)
            if copy is not None:
                note_origin, note_size, note_root, signatures = parse_note(copy.note)
                if (note_origin, note_size, note_root) != (copy.origin, copy.tree_size, copy.root_b64):
                    raise EnvelopeError("its copy's note does not match its size and root")
                verify_log_signature(copy.body, signatures, registry, f"checkpoint {copy.tree_size}")
                verify_cosignature(copy.body, copy.cosignature, witness.identity, registry)
        except EnvelopeError as exc:
            findings.add(0, f"witness {witness.identity}: its copy does not verify: {exc}")
            continue
        size = copy.tree_size if copy is not None else 0
        if copy is not None and size > n:
            findings.add(n, f"ledger truncated: witness {witness.identity} cosigned {size} entries, the table has {n}")
        elif copy is not None and base64.b64encode(tree.root(size)).decode() != copy.root_b64:
            findings.add(
                size - 1,
                f"witness {witness.identity} cosigned a different history of the first {size} entries (ledger rewritten or forked)",
            )
        if covered is None or size < covered:
            covered, lagging = size, witness.identity
    if covered is None:
        return 0
    if n - covered >= checkpoint_every:
        findings.add(
            covered,
            f"no checkpoint cosigned by every witness covers entries from seq {covered} on "
            f"({n - covered} entries; at most {checkpoint_every - 1} may follow one; witness {lagging} has {covered})",
        )
    types = table.column("entry_type").slice(covered)
    state_rows = pc.indices_nonzero(pc.is_in(types, value_set=pa.array(sorted(COSIGNED_TYPES)))).to_pylist()
    if state_rows:
        seq = covered + state_rows[0]
        findings.add(
            seq,
            f"{types[state_rows[0]].as_py()} entry is not covered by a checkpoint cosigned by every witness "
            f"(witness {lagging} has cosigned {covered} entries; run `hurricane ledger checkpoint`)",
        )
    return covered


def verify_table(
    table: pa.Table,
    *,
    registry: KeyRegistry | None = None,
    checkpoints: CheckpointStore | None = None,
    witnesses: list[Witness] | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    max_skew: timedelta = MAX_CLOCK_SKEW,
) -> VerificationResult:
    registry = registry if registry is not None else KeyRegistry()
    root = registry.trust_root()
    witnesses = witnesses if witnesses is not None else [Witness(d, registry=registry) for d in root.witnesses]
    table = table.sort_by("seq")
    n = table.num_rows
    findings = _Findings()

    seqs = table.column("seq")
    index = _first_false(pc.equal(seqs, pa.array(range(n), pa.int64())))
    if index is not None:
        findings.add(index, f"seq is not contiguous: expected {index}, found {seqs[index].as_py()} (entry missing or inserted)")
    _check_formats(table, findings)

    _check_chain(table, findings)

    publics = _check_keys(table, root, findings)
    _check_timestamps(table, findings, max_skew)
    signatures_checked = _check_signatures(table, publics, findings)

    # the checkpoints sign the chain as stored; a leaf that is not hex is already a format finding
    tree = MerkleLevels([bytes.fromhex(h) if len(h) == 64 else b"" for h in table.column("entry_hash").to_pylist()])
    # witnesses first: at the same seq, the finding that names a witness is the one reported
    covered = _check_witnesses(table, tree, witnesses, registry, checkpoint_every, findings)
    stored = []
    if n:
        checkpoints = checkpoints if checkpoints is not None else CheckpointStore()
        if checkpoints.log_id is None:
            checkpoints = checkpoints.bind(log_id_of(table.column("entry_hash")[0].as_py()))
        stored = checkpoints.all()
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
    return VerificationResult(ok, n, findings.seq, findings.problem, signatures_checked, len(stored), covered, len(witnesses))


def _missing_commit(uri: str) -> str | None:
    """For a local table whose Delta log has a gap: which commit file is missing, and after which seq."""
    log_dir = Path(uri) / "_delta_log"
    if "://" in uri or not log_dir.is_dir():
        return None
    versions = sorted(int(p.stem) for p in log_dir.glob("*.json") if p.stem.isdigit())
    for before, after in zip(versions, versions[1:]):
        if after != before + 1:
            seq = None
            try:
                for line in (log_dir / f"{before:020d}.json").read_text().splitlines():
                    info = json.loads(line).get("commitInfo")
                    if info and "dh.seq" in info:
                        seq = int(info["dh.seq"]) + 1
            except (OSError, ValueError):
                pass
            where = f" (entries from seq {seq} on)" if seq is not None else ""
            return f"Delta commit file {before + 1:020d}.json is missing: a commit was deleted from the middle of the ledger{where}"
    return None


def verify_ledger(
    uri: str | None = None,
    *,
    registry: KeyRegistry | None = None,
    checkpoints: CheckpointStore | None = None,
    witnesses: list[Witness] | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
) -> VerificationResult:
    """Verify the Delta ledger at `uri` (default `hurricane_paths().ledger`).

    An explicit `uri` with no table there, or a table that is not a ledger, raises
    `LedgerInputError` (one line, no row values); a ledger whose files were damaged is a finding.
    """
    explicit = uri is not None
    uri = uri if uri is not None else hurricane_paths().ledger
    registry = registry if registry is not None else KeyRegistry()
    try:
        delta = open_table(uri)
    except TableNotFoundError:
        if explicit:
            raise LedgerInputError(f"no ledger at {uri}: there is no Delta table there") from None
        delta = None
    except (DeltaError, OSError) as exc:
        problem = _missing_commit(uri) or f"ledger table at {uri} cannot be read ({type(exc).__name__}): files deleted or damaged"
        return VerificationResult(False, 0, 0, problem)
    if delta is None:
        table = LEDGER_SCHEMA.empty_table()
    else:
        names = [f.name for f in delta.schema().fields]
        missing = [name for name in LEDGER_SCHEMA.names if name not in names]
        if missing:
            raise LedgerInputError(f"{uri} is not a ledger: its table lacks the ledger columns {', '.join(missing)}")
        try:
            table = delta.to_pyarrow_table(columns=LEDGER_SCHEMA.names)
        except (DeltaError, OSError) as exc:
            problem = _missing_commit(uri) or f"ledger table at {uri} cannot be read ({type(exc).__name__}): data files deleted or damaged"
            return VerificationResult(False, 0, 0, problem)
    result = verify_table(table, registry=registry, checkpoints=checkpoints, witnesses=witnesses,
                          checkpoint_every=checkpoint_every)
    lie = _statistics_problem(delta) if delta is not None else None
    if lie is not None and (result.first_bad_seq is None or lie[0] < result.first_bad_seq):
        return replace(result, ok=False, first_bad_seq=lie[0], problem=lie[1])
    return result


FILTERED_COLUMNS = ("seq", "entry_type")  # what the ledger's own reads filter on (tail, contract history)


def _statistics_problem(delta) -> tuple[int, str] | None:
    """(seq, problem) where a file's statistics do not hold for its entries. Filtered reads skip a
    file by the Delta log's statistics and a row group by its Parquet footer's, and no hash or
    signature covers either: statistics edited to say MESSAGE hid a REVOKED entry from the contract
    history while the chain, read whole, still verified."""
    for fragment in delta.to_pyarrow_dataset().get_fragments():
        rows = fragment.to_table()
        outside = rows.filter(~fragment.partition_expression)
        if outside.num_rows:
            return _statistics_finding(fragment.path, "the Delta log's statistics", outside)
        fragment.ensure_complete_metadata()
        start = 0
        for group in fragment.row_groups:
            part, start = rows.slice(start, group.num_rows), start + group.num_rows
            for column in FILTERED_COLUMNS:
                stated = (group.statistics or {}).get(column) or {}
                if stated.get("min") is None or part.num_rows == 0:
                    continue
                actual = pc.min_max(part.column(column))
                if actual["min"].as_py() < stated["min"] or actual["max"].as_py() > stated["max"]:
                    return _statistics_finding(fragment.path, f"row group statistics of {column}", part)
    return None


def _statistics_finding(path: str, which: str, rows: pa.Table) -> tuple[int, str]:
    seqs = sorted(rows.column("seq").to_pylist())
    return seqs[0], (f"file {path.rsplit('/', 1)[-1]}: {which} do not hold for its entries seq "
                     f"{', '.join(map(str, seqs[:5]))} (edited after the commit: filtered reads skip them)")
