"""In-memory implementations of the ports the graph receives by interface (test doubles only):
a hash-chained ledger (optionally persisted to a JSONL file so a killed process can be resumed),
a table-driven policy gate, a real Ed25519 signer with seeded keys, and a static directory."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from negotiation_graph.ports import (
    ColumnDecision,
    LedgerConflict,
    LedgerReceipt,
    PolicyDecision,
    ProducerListing,
    SignatureBlock,
)
from negotiation_graph.terms import MaskingMethod, NeedSpec, ShareTerms

GENESIS = "0" * 64


class MemoryLedger:
    """Hash chain of entries, idempotent on entry_id; with `path`, every entry is also a JSONL line."""

    def __init__(self, path: Path | None = None, hang_when: Any = None):
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.hang_when = hang_when  # callable(entry) -> bool: simulate a process stuck mid-negotiation
        self._lock = threading.Lock()  # producer subgraphs append from parallel threads
        if path is not None and path.exists():
            self.entries = [json.loads(line) for line in path.read_text().splitlines() if line]

    def append(self, *, entry_type, actor, payload, negotiation_id=None, contract_id=None, entry_id=None):
        with self._lock:
            return self._append(entry_type, actor, payload, negotiation_id, entry_id)

    def append_batch(self, entries):
        """One entry at a time (a JSONL line each), so a crash can leave a batch half-written."""
        with self._lock:
            return [self._append(e.entry_type, e.actor, e.payload, e.negotiation_id, e.entry_id) for e in entries]

    def _append(self, entry_type, actor, payload, negotiation_id, entry_id):
        for entry in self.entries:
            if entry_id is not None and entry["entry_id"] == entry_id:
                same = (entry["entry_type"], entry["actor"], entry["negotiation_id"], entry["payload"])
                if same != (entry_type, actor, negotiation_id, json.loads(json.dumps(payload))):
                    raise LedgerConflict(f"ledger entry {entry_id} already holds other content")
                return LedgerReceipt(seq=entry["seq"], entry_hash=entry["entry_hash"])
        entry = {
            "seq": len(self.entries),
            "entry_id": entry_id,
            "entry_type": entry_type,
            "actor": actor,
            "negotiation_id": negotiation_id,
            "payload_hash": hashlib.sha256(rfc8785.dumps(payload)).hexdigest(),
            "payload": payload,
            "prev_hash": self.entries[-1]["entry_hash"] if self.entries else GENESIS,
        }
        if self.hang_when is not None and self.hang_when(entry):
            time.sleep(3600)
        entry["entry_hash"] = _entry_hash(entry)
        self.entries.append(entry)
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(entry) + "\n")
        return LedgerReceipt(seq=entry["seq"], entry_hash=entry["entry_hash"])

    def verify(self) -> None:
        ids = [e["entry_id"] for e in self.entries]
        assert len(ids) == len(set(ids)), "duplicate entry ids"
        prev = GENESIS
        for seq, entry in enumerate(self.entries):
            assert entry["seq"] == seq, f"seq {entry['seq']} at position {seq}"
            assert entry["prev_hash"] == prev, f"broken link at {seq}"
            assert entry["payload_hash"] == hashlib.sha256(rfc8785.dumps(entry["payload"])).hexdigest()
            assert entry["entry_hash"] == _entry_hash(entry), f"entry hash at {seq}"
            prev = entry["entry_hash"]

    def of_type(self, entry_type: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["entry_type"] == entry_type]


def _entry_hash(entry: dict[str, Any]) -> str:
    header = {k: entry[k] for k in ("seq", "entry_id", "entry_type", "actor", "negotiation_id", "payload_hash", "prev_hash")}
    return hashlib.sha256(rfc8785.dumps(header)).hexdigest()


@dataclass
class ShareRule:
    """One dataset's policy in table form: allowed purposes and environments, per-column weakest
    allowed masking (absent = never shared), limits on retention, term and refresh."""

    purposes: tuple[str, ...]
    environments: tuple[str, ...]
    min_masking: dict[str, MaskingMethod]
    max_retention_days: int = 365
    max_term_days: int = 365
    min_freshness_hours: int = 1
    human_for: tuple[str, ...] = ()  # columns whose sharing needs a human
    # row rules: at most this many days of history, only consented rows, at most this sample
    max_window_days: int | None = None
    consented_only: str | None = None  # the consent column a row filter must require
    max_sample_fraction: float | None = None


@dataclass
class TableGate:
    rules: dict[str, ShareRule]  # "producer.dataset" -> rule
    evaluations: int = 0
    bundle_sha256: str = field(default="table-bundle-" + "0" * 51)

    def evaluate(self, terms: ShareTerms) -> PolicyDecision:
        self.evaluations += 1
        rule = self.rules.get(f"{terms.producer}.{terms.dataset}")
        share: list[str] = []
        if rule is None:
            share.append("no_policy")
        else:
            if terms.purpose not in rule.purposes:
                share.append("purpose_not_allowed")
            if terms.environment.value not in rule.environments:
                share.append("environment_not_allowed")
            if terms.retention_days > rule.max_retention_days:
                share.append("retention_too_long")
            if terms.term_days > rule.max_term_days:
                share.append("term_too_long")
            if terms.freshness_hours < rule.min_freshness_hours:
                share.append("freshness_too_high")
            rows = terms.row_filter
            if rule.max_window_days is not None and (rows.since_days or 10**6) > rule.max_window_days:
                share.append("window_too_long")
            consented = any(p.column == rule.consented_only and p.values == (True,) for p in rows.all_of)
            if rule.consented_only is not None and not consented:
                share.append("consent_required")
            if rule.max_sample_fraction is not None and (rows.sample_fraction or 1.0) > rule.max_sample_fraction:
                share.append("sample_too_large")
        columns = {}
        for column, method in terms.columns.items():
            floor = rule.min_masking.get(column) if rule else None
            reasons = list(share)
            if floor is None:
                reasons.append("column_never_shared")
            elif method.strength < floor.strength:
                reasons.append("masking_too_weak")
            columns[column] = ColumnDecision(allowed=not reasons, reasons=tuple(reasons))
        allowed = not share and all(c.allowed for c in columns.values())
        human = rule is not None and any(c in rule.human_for and m is not MaskingMethod.drop for c, m in terms.columns.items())
        return PolicyDecision(
            allowed=allowed,
            columns=columns,
            reasons=tuple(share),
            requires_human=human,
            decision_id=hashlib.sha256(terms.canonical()).hexdigest()[:32],
            bundle_sha256=self.bundle_sha256,
            engine="table",
        )


class SeededSigner:
    """Real Ed25519 signatures; each domain's key derived from its name so runs are reproducible."""

    def __init__(self):
        self._keys: dict[str, Ed25519PrivateKey] = {}

    def _key(self, domain: str) -> Ed25519PrivateKey:
        if domain not in self._keys:
            self._keys[domain] = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(domain.encode()).digest())
        return self._keys[domain]

    def key_id(self, domain: str) -> str:
        raw = self._key(domain).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, domain: str, message: bytes) -> SignatureBlock:
        signature = base64.b64encode(self._key(domain).sign(message)).decode()
        return SignatureBlock(signer=domain, key_id=self.key_id(domain), signature=signature)

    def verify(self, message: bytes, signature: SignatureBlock) -> None:
        if signature.key_id != self.key_id(signature.signer):
            raise ValueError(f"key {signature.key_id} is not {signature.signer}'s")
        try:
            self._key(signature.signer).public_key().verify(base64.b64decode(signature.signature), message)
        except Exception as exc:
            raise ValueError(f"bad signature by {signature.signer}") from exc


@dataclass
class StaticDirectory:
    all_listings: list[ProducerListing]

    def listings(self, need: NeedSpec) -> list[ProducerListing]:
        return [
            listing
            for listing in self.all_listings
            if listing.producer != need.consumer and set(listing.join_entities) & set(need.join_entities)
        ]
