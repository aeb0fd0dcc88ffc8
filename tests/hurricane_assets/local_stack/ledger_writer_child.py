"""One ledger writer on its own "host" (its own HURRICANE_HOME, so no shared file lock), appending to
the S3 ledger named by HURRICANE_STORAGE_ROOT:
`python -m tests.hurricane_assets.local_stack.ledger_writer_child ACTOR N GO_FILE`.

Imported and its ledger open, it writes GO_FILE.ACTOR-ready, then waits for GO_FILE (the parent
writes it once every writer is ready), so two writers start together however long each took to
start; appends N entries one commit each, and prints how many of its commits lost a race
(`CommitFailedError`) and were re-chained."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from deltalake.exceptions import CommitFailedError

from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.entry import EntryType


class CountingLedger(Ledger):
    conflicts = 0

    def _commit(self, table, rows):
        try:
            super()._commit(table, rows)
        except CommitFailedError:
            CountingLedger.conflicts += 1
            raise


def main(actor: str, n: int, go: Path) -> None:
    ledger = CountingLedger()
    ready_file(go, actor).touch()
    while not go.exists():
        time.sleep(0.01)
    for i in range(n):
        ledger.append(entry_type=EntryType.NEGOTIATION_STARTED, actor=actor, payload={"i": i, "writer": actor})
    print(json.dumps({"conflicts": CountingLedger.conflicts}))


def ready_file(go: Path, actor: str) -> Path:
    return go.with_name(f"{go.name}.{actor.replace('/', '_').replace(':', '_')}-ready")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
