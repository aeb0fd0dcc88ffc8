"""The tamper-evident ledger: a signed hash chain on Delta, with Merkle checkpoints every domain cosigns."""

from hurricane_assets.ledger.checkpoint import Checkpoint, CheckpointStore
from hurricane_assets.ledger.entry import SYSTEM_ACTOR, EntryType
from hurricane_assets.ledger.ledger import Ledger, LedgerAppend, deterministic_entry_id
from hurricane_assets.ledger.verify import LedgerInputError, VerificationResult, verify_ledger, verify_table
from hurricane_assets.ledger.witness import Witness, WitnessConflict, WitnessRefusal

__all__ = [
    "SYSTEM_ACTOR",
    "Checkpoint",
    "CheckpointStore",
    "EntryType",
    "Ledger",
    "LedgerAppend",
    "LedgerInputError",
    "VerificationResult",
    "Witness",
    "WitnessConflict",
    "WitnessRefusal",
    "deterministic_entry_id",
    "verify_ledger",
    "verify_table",
]
