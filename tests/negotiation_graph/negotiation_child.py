"""A negotiation in its own process, for the crash test: `python -m tests.negotiation_graph.negotiation_child
<dir> [--hang-at-round N]`. With --hang-at-round, the process writes `<dir>/hanging` and blocks when it
is about to append the second message of round N (the first one is already in the ledger), so the
parent can SIGKILL it mid-step. Without it, it runs (or resumes) to the end and writes `<dir>/result.json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from negotiation_graph.checkpointing import sqlite_checkpointer
from negotiation_graph.runner import Negotiator
from tests.negotiation_graph.ports_in_memory import MemoryLedger
from tests.negotiation_graph.sample_world import context, fraud_need


def hang_at(round_: int, marker: Path):
    seen = []

    def hang(entry) -> bool:
        if entry["payload"].get("round") == round_ and entry["entry_type"] in ("COUNTER", "ACCEPTED", "MESSAGE"):
            seen.append(entry["entry_id"])
            if len(seen) == 2:
                marker.write_text(entry["entry_id"])
                return True
        return False

    return hang


def main(folder: Path, hang_round: int | None) -> None:
    hang = hang_at(hang_round, folder / "hanging") if hang_round is not None else None
    ledger = MemoryLedger(folder / "ledger.jsonl", hang_when=hang)
    with sqlite_checkpointer(folder / "checkpoints.sqlite") as saver:
        report = Negotiator(context(ledger=ledger), saver).run(fraud_need())
    (folder / "result.json").write_text(
        json.dumps({"agreements": [a.canonical().decode() for a in report.agreements], "status": report.outcome.status})
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]), int(args[2]) if len(args) > 2 and args[1] == "--hang-at-round" else None)
