"""A negotiation on the real platform (Cedar gate, Delta ledger, domain keys, SQLite checkpoints under
HURRICANE_HOME) in its own process, for the crash test:
`python -m tests.hurricane_assets.local_stack.negotiation_crash_child [--hang-after N]`.
The ledger commits per graph step here (not once per negotiation), so a kill mid-negotiation leaves
some entries behind to resume after.

With --hang-after N the ledger blocks (after writing `<home>/hanging`) when it is about to append its
(N+1)-th entry, so the parent can SIGKILL the process mid-negotiation. Without it, the negotiation
runs or resumes to the end and its agreed terms are written to `<home>/result.json`."""

from __future__ import annotations

import json
import sys
import time

from hurricane_assets.ledger import Ledger
from hurricane_assets.negotiation_runtime import negotiator, platform_context
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.terms import NeedSpec

NEED = NeedSpec(
    need_id="need-crash", consumer="risk", model="fraud_model", purpose="fraud_detection", environment="preprod",
    join_entities=("transaction", "customer"), wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3},
)


class HangingLedger(Ledger):
    """The real ledger, which stops forever before its (limit+1)-th entry: a process about to die."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def append_batch(self, entries):
        if len(self) + len(entries) > self.limit:
            (hurricane_paths().home / "hanging").write_text(str(len(self)))
            while True:
                time.sleep(1)
        return super().append_batch(entries)


def main(hang_after: int | None) -> None:
    context = platform_context(ledger_commits="step")
    if hang_after is not None:
        context = context.__class__(**{**context.__dict__, "ledger": HangingLedger(hang_after)})
    with negotiator(context) as n:
        report = n.run(NEED)
    (hurricane_paths().home / "result.json").write_text(json.dumps(
        {"status": report.outcome.status, "terms": sorted(a.terms.canonical().decode() for a in report.agreements)}))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[1]) if args[:1] == ["--hang-after"] else None)
