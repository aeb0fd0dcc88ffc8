"""`python -m tests.hurricane_assets.resume_crash_child ENTRY_TYPE -- ARGS…`: run `hurricane ARGS…`
(a `negotiations resume`) in this process and SIGKILL it right after the first ledger commit that
holds an ENTRY_TYPE entry (HUMAN_APPROVAL, RESUMED), before anything after that commit is saved:
the crash an operator meets when the machine dies mid-resume. HURRICANE_HOME is the caller's."""

from __future__ import annotations

import os
import signal
import sys

from hurricane_assets.cli.main import app
from hurricane_assets.ledger.ledger import Ledger


def kill_after_commit_of(entry_type: str) -> None:
    commit = Ledger._commit

    def hooked(self, table, rows):
        commit(self, table, rows)
        if any(row["entry_type"] == entry_type for row in rows):
            os.kill(os.getpid(), signal.SIGKILL)

    Ledger._commit = hooked


if __name__ == "__main__":
    kill_after_commit_of(sys.argv[1])
    app(sys.argv[sys.argv.index("--") + 1:])
