"""The ledger: an append-only Delta table holding one hash chain of signed entries.

One chain, even with several writers: local writers serialise on a file lock, and every commit is
a compare-and-swap (`max_commit_retries=0`), so a writer holding a stale tip fails with
`CommitFailedError` instead of forking the chain; it then re-reads the tip, re-chains and retries.

Signatures: each entry is signed by its actor's key. Within one commit, the entries of one key are
covered by one signature on that key's last entry, over SHA-256(0x02 ‖ h1 ‖ … ‖ hn) of their entry
hashes (a lone entry's signature is over its 32-byte entry hash). A verifier thus checks one
signature per key per commit, which keeps verifying 100k batched entries under two seconds.

Cost per append, kept flat in the ledger's size: a writer that knows it holds the table's last
version (on a local table: the next commit's file is absent, one stat) neither replays the log nor
asks it for the tip, which it noted at its own commit; and every `COMPACT_EVERY` commits the small
files that one commit per negotiation leaves are compacted (Delta's own OPTIMIZE, no data change),
because every Delta write costs time in proportion to the table's live files. Neither loosens the
chain: a commit is compare-and-swap on the version the tip was read at, and a table that moved
between reading the tip and committing is re-chained (see `append_batch`).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import random
import time
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any, Iterator

import pyarrow as pa
import rfc8785
import uuid6
from deltalake import CommitProperties, DeltaTable, QueryBuilder, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from pydantic import BaseModel, ConfigDict, Field

from hurricane_assets.clock import utc_now
from hurricane_assets.identity import SYSTEM_IDENTITY, KeyRing
from hurricane_assets.ledger.checkpoint import (
    CHECKPOINT_EVERY,
    Checkpoint,
    CheckpointStore,
    log_id_of,
    origin_of,
    sign_checkpoint,
)
from hurricane_assets.ledger.entry import (
    COSIGNED_TYPES,
    GENESIS_HASH,
    ID_PATTERN,
    LEDGER_SCHEMA,
    SYSTEM_ACTOR,
    EntryType,
    check_format,
    header_bytes,
    identity_of,
)
from hurricane_assets.ledger.id_index import IdIndex
from hurricane_assets.ledger.merkle import MerkleLevels
from hurricane_assets.ledger.witness import Witness, WitnessConflict, WitnessRefusal
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import is_s3, open_table, storage_options
from negotiation_graph.canonical import canonical_json as fast_canonical_json
from negotiation_graph.ports import LedgerConflict, LedgerReceipt

APP_ID = "dh-ledger"
CONTENT_COLUMNS = ("entry_type", "actor", "negotiation_id", "contract_id", "payload_hash")
MAX_COMMIT_ATTEMPTS = 16
GROUP_PREFIX = b"\x02"
COMPACT_EVERY = 50  # commits between compactions: each Delta write costs ~0.1 ms per live file
COMPACT_TARGET_BYTES = 4 * 1024 * 1024  # files below this are merged; bigger ones are left alone for good
log = logging.getLogger(__name__)


def group_message(entry_hashes: list[bytes]) -> bytes:
    """What one key signs for its entries in one commit."""
    if len(entry_hashes) == 1:
        return entry_hashes[0]
    return hashlib.sha256(GROUP_PREFIX + b"".join(entry_hashes)).digest()


class LedgerAppend(BaseModel):
    """One entry to append (the fields a caller chooses; the ledger fills in the rest)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_type: EntryType
    actor: str
    payload: dict[str, Any] = Field(default_factory=dict)
    negotiation_id: str | None = None
    contract_id: str | None = None
    entry_id: str | None = None


class Ledger:
    """Implements `negotiation_graph.ports.LedgerPort` on a Delta table at `hurricane_paths().ledger`."""

    def __init__(
        self,
        uri: str | None = None,
        *,
        keyring: KeyRing | None = None,
        checkpoints: CheckpointStore | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
        witnesses: list[Witness] | None = None,
    ):
        self._uri = uri
        self.keyring = keyring if keyring is not None else KeyRing()
        self.checkpoints = checkpoints if checkpoints is not None else CheckpointStore()
        self.checkpoint_every = checkpoint_every
        self._witnesses = witnesses
        self._index: dict[str, LedgerReceipt] = {}
        self._content: dict[str, tuple] = {}  # entry id -> CONTENT_COLUMNS, to refuse a rewrite
        self._indexed_through = -1
        self._delta: DeltaTable | None = None
        self._delta_uri: str | None = None
        self._id_index: IdIndex | None = None
        self._id_index_uri: str | None = None
        # (table object, its version, last seq, last entry hash), noted at our own commit: the tip of
        # exactly that snapshot, so reading it again from the log is not needed
        self._tip_at: tuple[DeltaTable, int, int, str] | None = None
        self._tree: MerkleLevels | None = None  # the log's Merkle tree, grown after each commit
        self._log_id: str | None = None
        self.last_refusals: list[WitnessRefusal] = []

    @property
    def witnesses(self) -> list[Witness]:
        """Every domain pinned in the trust root witnesses the ledger (in process, each with its own store)."""
        if self._witnesses is None:
            self._witnesses = [Witness(d) for d in self.keyring.registry.trust_root().witnesses]
        return self._witnesses

    @property
    def uri(self) -> str:
        return self._uri if self._uri is not None else hurricane_paths().ledger

    # -- reading -------------------------------------------------------------------------------

    def _table(self) -> DeltaTable | None:
        # Kept open and brought up to date incrementally, also after another writer's commits:
        # re-opening replays the Delta log (25-45 ms at a few dozen commits, at nearly every append
        # when two exchanges share the ledger). The updated snapshot's app transaction is the other
        # writer's tip; were it stale, a second entry would chain under an existing seq, which the
        # interleaved-writers tests (test_ledger_flat_cost.py) and the race tests catch.
        if self._delta is not None and self._delta_uri == self.uri:
            if self._log_moved(self._delta):
                self._delta.update_incremental()
            return self._delta
        try:
            self._delta, self._delta_uri = open_table(self.uri), self.uri
        except TableNotFoundError:
            return None
        return self._delta

    def _log_moved(self, table: DeltaTable) -> bool:
        """Whether the table may hold commits past the version `table` has. On a local table the next
        commit's file tells (one stat, where `update_incremental` lists and replays the log); on an
        object store, always assume so. A wrong "no" cannot fork the chain: the commit is put-if-absent
        on exactly that next file, so a stale writer's commit fails and it re-reads."""
        if is_s3(self.uri) or "://" in self.uri:
            return True
        return os.path.exists(os.path.join(self.uri, "_delta_log", f"{table.version() + 1:020d}.json"))

    def _tip(self, table: DeltaTable | None) -> tuple[int, str]:
        """(last seq, last entry hash) of the snapshot `table` holds, or (-1, genesis) when empty.

        Noted at our own commit when `table` is still that very snapshot. Otherwise the seq comes
        from the snapshot's own state (the app transaction every commit carries), never from
        `history()`, which on a table object kept open may lag its snapshot: a tip older than the
        snapshot would chain a second entry under an existing seq and still commit.
        """
        if table is None:
            return -1, GENESIS_HASH
        noted = self._tip_at
        if noted is not None and noted[0] is table and noted[1] == table.version():
            return noted[2], noted[3]
        seq = table.transaction_version(APP_ID)  # survives compaction, which carries no metadata
        if seq is None:
            return -1, GENESIS_HASH
        last = table.history(1)[0]
        if last.get("dh.seq") == str(seq) and "dh.entry_hash" in last:
            return seq, last["dh.entry_hash"]
        row = self._select(table, ["entry_hash"], f"seq = {int(seq)}")
        return seq, row.column("entry_hash")[0].as_py()

    def read(self, columns: list[str] | None = None, since_seq: int | None = None) -> pa.Table:
        """Entries in seq order (all columns by default), optionally only those after `since_seq`."""
        table = self._table()
        if table is None:
            return LEDGER_SCHEMA.empty_table() if columns is None else LEDGER_SCHEMA.empty_table().select(columns)
        wanted = LEDGER_SCHEMA.names if columns is None else list(dict.fromkeys(["seq", *columns]))
        rows = self._select(table, wanted, f"seq > {int(since_seq)}" if since_seq is not None else None)
        return rows if columns is None else rows.select(columns)

    def _select(self, table: DeltaTable, columns: list[str], where: str | None) -> pa.Table:
        """`columns` of the rows matching `where`, in seq order, typed as `LEDGER_SCHEMA`.

        Through DataFusion, which skips files by their seq statistics: a pyarrow dataset of the table
        builds a fragment for every file first, 3-4x slower on a ledger of many small commits, and an
        append reads the entries other writers added whenever they did."""
        unknown = [name for name in columns if name not in LEDGER_SCHEMA.names]
        if unknown:
            raise ValueError(f"ledger {self.uri} has no column {unknown[0]!r} (columns: {', '.join(LEDGER_SCHEMA.names)})")
        selected = ", ".join(f'"{name}"' for name in columns)
        query = f"SELECT {selected} FROM ledger{f' WHERE {where}' if where else ''} ORDER BY seq"
        rows = pa.table(QueryBuilder().register("ledger", table).execute(query).read_all())
        return rows.cast(pa.schema([LEDGER_SCHEMA.field(name) for name in columns]))  # DataFusion reads strings as views

    def tail(self, n: int) -> list[dict[str, Any]]:
        seq, _ = self._tip(self._table())
        return self.read(since_seq=max(seq - n, -1)).to_pylist()

    def __len__(self) -> int:
        return self._tip(self._table())[0] + 1

    def _ids(self) -> IdIndex:
        if self._id_index is None or self._id_index_uri != self.uri:
            self._id_index, self._id_index_uri = IdIndex(hurricane_paths().home / "ledger-index", self.uri), self.uri
        return self._id_index

    def _refresh_index(self, through: int) -> None:
        """Bring the id index up to `through` by reading only the entries it has not seen."""
        if through <= self._indexed_through:
            return
        ids = self._ids()
        if ids.through > through:  # the table was replaced under the index: rebuild it
            ids.reset()
        if ids.through < through:
            rows = self.read(["entry_id", "seq", "entry_hash", *CONTENT_COLUMNS], since_seq=ids.through)
            content = zip(*(rows.column(c).to_pylist() for c in CONTENT_COLUMNS))
            ids.add(zip(*(rows.column(c).to_pylist() for c in ("entry_id", "seq", "entry_hash")), content), through)
        self._indexed_through = through

    def _known(self, entry_ids: list[str]) -> dict[str, tuple[LedgerReceipt, tuple]]:
        """Receipt and content fields of the ids the ledger holds (this process's appends, then the index)."""
        found = {i: (self._index[i], self._content[i]) for i in entry_ids if i in self._index}
        missing = [i for i in entry_ids if i not in found]
        return found | (self._ids().lookup(missing) if missing else {})

    def receipt(self, entry_id: str) -> LedgerReceipt | None:
        self._refresh_index(self._tip(self._table())[0])
        known = self._known([entry_id]).get(entry_id)
        return known[0] if known is not None else None

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        home = hurricane_paths().home
        home.mkdir(parents=True, exist_ok=True)
        with open(home / "ledger.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(
        self,
        *,
        entry_type: EntryType | str,
        actor: str,
        payload: dict[str, Any],
        negotiation_id: str | None = None,
        contract_id: str | None = None,
        entry_id: str | None = None,
    ) -> LedgerReceipt:
        entry = LedgerAppend(
            entry_type=EntryType.parse(entry_type),
            actor=actor,
            payload=payload,
            negotiation_id=negotiation_id,
            contract_id=contract_id,
            entry_id=entry_id,
        )
        return self.append_batch([entry])[0]

    def append_batch(self, entries: Sequence[LedgerAppend]) -> list[LedgerReceipt]:
        """Append many entries in one Delta commit; entries whose id is already present with the
        same content are not appended again and get their existing receipt; an id present with
        other content raises `LedgerConflict` and nothing of the batch is written. Any object with
        the `LedgerAppend` fields as attributes is accepted (e.g. the negotiation's outbox)."""
        entries = [e if isinstance(e, LedgerAppend) else LedgerAppend.model_validate(e, from_attributes=True) for e in entries]
        keys: dict[str, Any] = {}  # one key lookup per identity per batch, not per entry
        prepared = [self._prepare(e, keys) for e in entries]
        with self._writer_lock():
            for attempt in range(MAX_COMMIT_ATTEMPTS):
                table = self._table()
                tip_seq, tip_hash = self._tip(table)
                base = table.version() if table is not None else None
                self._refresh_index(tip_seq)
                known = self._known([item["entry_id"] for item in prepared])
                receipts, rows = self._chain(prepared, tip_seq, tip_hash, known)
                if not rows:
                    return receipts
                if table is not None and (table.version() != base or table is not self._delta):
                    # The index refresh reads through the same table object, which updates in place:
                    # had another host committed meanwhile, our chain (on the old tip) would commit on
                    # top of its entries under an existing seq without any conflict. Re-chain instead.
                    continue
                try:
                    self._commit(table, rows)
                except CommitFailedError:
                    # another writer outside our lock (another host) moved the tip: re-chain after a
                    # jittered, growing pause, or on S3 the faster host wins every race and we starve.
                    # The table object that lost is dropped: the retry re-reads the log from storage.
                    self._delta = self._tip_at = None
                    time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
                    continue
                last_seq = rows[-1]["seq"]
                for row in rows:
                    self._index[row["entry_id"]] = LedgerReceipt(seq=row["seq"], entry_hash=row["entry_hash"])
                    self._content[row["entry_id"]] = tuple(row[c] for c in CONTENT_COLUMNS)
                self._ids().add(
                    ((r["entry_id"], r["seq"], r["entry_hash"], tuple(r[c] for c in CONTENT_COLUMNS)) for r in rows),
                    last_seq,
                )
                self._indexed_through = last_seq
                self._grow_tree_with(rows, tip_seq)
                # after the bookkeeping: a compaction that fails for any reason leaves it complete
                self._note_tip(table, base, last_seq, rows[-1]["entry_hash"])
                crossed = (last_seq + 1) // self.checkpoint_every > (tip_seq + 1) // self.checkpoint_every
                if crossed or any(row["entry_type"] in COSIGNED_TYPES for row in rows):
                    self._checkpoint_locked(last_seq + 1)
                return receipts
        raise RuntimeError(f"ledger {self.uri}: gave up after {MAX_COMMIT_ATTEMPTS} conflicting commits")

    def _note_tip(self, table: DeltaTable | None, base: int | None, seq: int, entry_hash: str) -> None:
        """After our commit on version `base`: remember the tip of the version it made (the table
        object is brought there by the write), and compact now and then."""
        if table is None or table is not self._delta or table.version() != base + 1:
            self._tip_at = None  # (e.g. the first commit made the table: the next append opens it)
            return
        self._tip_at = (table, base + 1, seq, entry_hash)
        if (base + 1) % COMPACT_EVERY == 0:
            self._compact_locked(table)

    def _compact_locked(self, table: DeltaTable) -> None:
        """Merge the small files of many one-negotiation commits (rows unchanged, no data change);
        a concurrent commit elsewhere just defers it to the next time."""
        try:
            table.optimize.compact(
                target_size=COMPACT_TARGET_BYTES,
                max_concurrent_tasks=1,
                commit_properties=CommitProperties(max_commit_retries=0),
            )
        except CommitFailedError:
            log.info("ledger %s: compaction deferred (a concurrent commit)", self.uri)
            self._delta = self._tip_at = None
            return
        noted = self._tip_at
        if noted is not None and noted[0] is table and table.version() == noted[1] + 1:
            self._tip_at = (table, noted[1] + 1, noted[2], noted[3])  # it carries no entries: same tip

    def _prepare(self, entry: LedgerAppend, keys: dict[str, Any] | None = None) -> dict[str, Any]:
        entry_id = entry.entry_id if entry.entry_id is not None else str(uuid6.uuid7())
        check_format("entry_id", entry_id, ID_PATTERN)
        check_format("negotiation_id", entry.negotiation_id, ID_PATTERN, nullable=True)
        check_format("contract_id", entry.contract_id, ID_PATTERN, nullable=True)
        identity = identity_of(entry.actor)
        try:  # the standard library's C encoder where it writes JCS exactly (pinned by a property test)
            payload_json = fast_canonical_json(entry.payload)
        except rfc8785.CanonicalizationError as exc:
            raise TypeError(f"ledger payload cannot be canonicalised as JSON: {exc}") from None
        return {
            "entry_id": entry_id,
            "entry_type": entry.entry_type.value,
            "actor": entry.actor,
            "negotiation_id": entry.negotiation_id,
            "contract_id": entry.contract_id,
            "payload_json": payload_json.decode(),
            "payload_hash": hashlib.sha256(payload_json).hexdigest(),
            "key": keys[identity] if keys and identity in keys else self._key_for(identity, keys),
        }

    def _key_for(self, identity: str, keys: dict[str, Any] | None) -> Any:
        key = self.keyring.key(identity)
        if keys is not None:
            keys[identity] = key
        return key

    def _chain(
        self, prepared: list[dict[str, Any]], tip_seq: int, tip_hash: str, known_ids: dict[str, tuple] | None = None
    ) -> tuple[list[LedgerReceipt], list[dict[str, Any]]]:
        if known_ids is None:
            known_ids = self._known([item["entry_id"] for item in prepared])
        receipts: list[LedgerReceipt] = []
        rows: list[dict[str, Any]] = []
        fresh: dict[str, LedgerReceipt] = {}
        seq, prev = tip_seq, tip_hash
        # The one clock: an entry's ts must fall in its key's validity, which the same clock stamped.
        now = utc_now()
        now_us = int(now.timestamp()) * 1_000_000 + now.microsecond
        fresh_content: dict[str, tuple] = {}
        for item in prepared:
            stored = known_ids.get(item["entry_id"])
            known = stored[0] if stored is not None else fresh.get(item["entry_id"])
            if known is not None:
                held = stored[1] if stored is not None else fresh_content.get(item["entry_id"])
                if held != tuple(item[c] for c in CONTENT_COLUMNS):
                    raise LedgerConflict(
                        f"ledger {self.uri}: entry {item['entry_id']} (seq {known.seq}) already holds other "
                        f"content than this {item['entry_type']} by {item['actor']}"
                    )
                receipts.append(known)
                continue
            seq += 1
            key = item["key"]
            header = header_bytes(
                seq, item["entry_id"], now_us, item["entry_type"], item["actor"], item["negotiation_id"],
                item["contract_id"], item["payload_hash"], prev, key.key_id,
            )
            entry_hash = hashlib.sha256(header).hexdigest()
            row = {k: v for k, v in item.items() if k != "key"}
            row.update(seq=seq, ts=now_us, prev_hash=prev, entry_hash=entry_hash, key_id=key.key_id, signature=None)
            rows.append(row)
            receipt = LedgerReceipt(seq=seq, entry_hash=entry_hash)
            fresh[item["entry_id"]] = receipt
            fresh_content[item["entry_id"]] = tuple(item[c] for c in CONTENT_COLUMNS)
            receipts.append(receipt)
            prev = entry_hash
        self._sign(rows, {item["key"].key_id: item["key"] for item in prepared})
        return receipts, rows

    @staticmethod
    def _sign(rows: list[dict[str, Any]], keys: dict[str, Any]) -> None:
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(row["key_id"], []).append(row)
        for key_id, group in groups.items():
            message = group_message([bytes.fromhex(r["entry_hash"]) for r in group])
            group[-1]["signature"] = base64.b64encode(keys[key_id].sign(message)).decode()

    def _commit(self, table: DeltaTable | None, rows: list[dict[str, Any]]) -> None:
        data = pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA)
        last = rows[-1]
        properties = CommitProperties(
            max_commit_retries=0,
            custom_metadata={"dh.seq": str(last["seq"]), "dh.entry_hash": last["entry_hash"]},
            app_transactions=[Transaction(app_id=APP_ID, version=last["seq"])],
        )
        if table is None:
            # Create, never append: a writer that found no table chained its entries from the genesis
            # hash, so if another host created the table meanwhile, appending would put a second
            # entry at seq 0 without any conflict. Losing the creation race is a lost commit like any other.
            try:
                write_deltalake(
                    self.uri,
                    data,
                    mode="error",
                    configuration={"delta.appendOnly": "true"},
                    commit_properties=properties,
                    storage_options=storage_options(self.uri) or None,
                )
            except DeltaError as exc:
                if "already exists" not in str(exc):
                    raise
                raise CommitFailedError(f"ledger {self.uri} was created by another writer first") from exc
        else:
            write_deltalake(table, data, mode="append", commit_properties=properties)

    def rotate_key(self, identity: str, *, actor: str | None = None) -> LedgerReceipt:
        """Rotate an identity's key: a KEY_ROTATED entry signed by the old key carries the rotation
        certificate (signed by the old key and, as proof of possession, by the new one). From the
        next entry on, only the new key is valid for the identity; the old private key is destroyed."""
        actor = actor if actor is not None else (SYSTEM_ACTOR if identity == SYSTEM_IDENTITY else f"agent:{identity}/keys")
        if identity_of(actor) != identity:
            raise ValueError(f"actor {actor!r} does not sign for {identity!r}")
        _, new, certificate = self.keyring.rotate(identity)
        receipt = self.append(entry_type=EntryType.KEY_ROTATED, actor=actor, payload=certificate.model_dump(mode="json"))
        self.keyring.activate(new, certificate)
        return receipt

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        """Sign and store a checkpoint of the whole ledger now (None for an empty ledger)."""
        if self._table() is None:  # no ledger: nothing to sign, and nothing written (not even the home's lock)
            return None
        with self._writer_lock():
            return self._checkpoint_locked()

    def log_id(self) -> str | None:
        """The ledger's name for witnesses: from its first entry, so independent of where it lives."""
        if self._tree is not None and self._tree.size:
            return self._log_id  # noted when the tree read the first entry
        table = self._table()
        if table is None:
            return None
        first = self._select(table, ["entry_hash"], "seq = 0")
        return log_id_of(first.column("entry_hash")[0].as_py()) if first.num_rows else None

    def _grown_tree(self, size: int) -> MerkleLevels:
        """The Merkle tree of the first `size` entries, reading only entries the tree lacks."""
        tree = self._tree
        if tree is None or tree.size > size:
            tree = MerkleLevels()
        if tree.size < size:
            hashes = self.read(["seq", "entry_hash"], since_seq=tree.size - 1).column("entry_hash").to_pylist()
            if tree.size == 0:
                self._log_id = log_id_of(hashes[0])
            tree.extend([bytes.fromhex(h) for h in hashes[: size - tree.size]])
        self._tree = tree
        return tree

    def _grow_tree_with(self, rows: list[dict[str, Any]], tip_seq: int) -> None:
        """Add a commit's entries to the log's tree without reading them back (when it is in step)."""
        if tip_seq == -1 and self._tree is None:
            self._tree, self._log_id = MerkleLevels(), log_id_of(rows[0]["entry_hash"])
        if self._tree is not None and self._tree.size == tip_seq + 1:
            self._tree.extend([bytes.fromhex(row["entry_hash"]) for row in rows])

    def _checkpoint_locked(self, size: int | None = None) -> Checkpoint | None:
        """Sign a checkpoint of the first `size` entries (default: all) and have every witness cosign it.

        A witness that refuses (it holds a checkpoint this one does not extend) leaves its
        cosignature out; `ledger verify` then names it. Refusals are kept in `last_refusals`.
        """
        size = size if size is not None else self._tip(self._table())[0] + 1
        if size == 0:
            return None
        tree = self._grown_tree(size)
        log_id = self.log_id()
        if self.checkpoints.log_id != log_id:
            self.checkpoints = self.checkpoints.bind(log_id)
        witnesses = self.witnesses
        latest = self.checkpoints.latest()
        if latest is not None and latest.tree_size == size and set(latest.cosignatures) >= {w.identity for w in witnesses}:
            return latest
        checkpoint = sign_checkpoint(origin_of(log_id), size, tree.root(size), self.keyring)
        # what each witness holds, as this log remembers it; a witness that holds something else says
        # so (WitnessConflict) and the log retries from its size
        held = {identity: latest.tree_size for identity in latest.cosignatures} if latest is not None else {}
        cosignatures: dict[str, str] = {}
        self.last_refusals = []
        for witness in witnesses:
            old = min(held.get(witness.identity, 0), size)
            try:
                try:
                    cosignatures[witness.identity] = witness.add_checkpoint(checkpoint.note, old, tree.consistency_proof(old, size))
                except WitnessConflict as conflict:
                    if conflict.size > size:
                        raise WitnessRefusal(witness.identity, f"it holds {conflict.size} entries, the ledger {size}") from None
                    proof = tree.consistency_proof(conflict.size, size)
                    cosignatures[witness.identity] = witness.add_checkpoint(checkpoint.note, conflict.size, proof)
            except WitnessRefusal as refusal:
                log.warning("ledger %s: %s", self.uri, refusal)
                self.last_refusals.append(refusal)
        checkpoint = checkpoint.model_copy(update={"cosignatures": cosignatures})
        self.checkpoints.save(checkpoint)
        return checkpoint

    def __repr__(self) -> str:
        return f"Ledger(uri={self.uri!r})"


def deterministic_entry_id(namespace: str, step: str) -> str:
    """`uuid5(namespace, step)`: the same node re-run after a resume appends nothing new."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{step}"))
