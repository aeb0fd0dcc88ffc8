"""The crash matrix's driver: `python -m tests.hurricane_assets.crash_matrix_child OUT.json CONFIGS_JSON`,
CONFIGS_JSON a list of [strategy, resume_after_s, "all"|"boundary", first step, "step"|"negotiation"].

It imports the platform once, then forks one process per crash point (so each point costs a
negotiation, not an interpreter start). A forked victim runs the fraud need on the real platform
(Cedar gate, Delta ledger, domain keys, SQLite checkpoints, in its own HURRICANE_HOME) with the
clock at T0 and SIGKILLs itself at its crash point; a second fork resumes it with the clock at
T0 + resume_after_s and checks that the ledger holds byte for byte what the transcript holds.

Crash points are events of the first, uninterrupted run, numbered in order:
  boundary     after a checkpoint is on disk (a node boundary; the node's drafts are in it)
  producer     after the first producer's answer is saved and before the others' (mid-superstep)
  pre-commit   in a ledger append, the batch chained and signed but not committed
  post-commit  in a ledger append, the batch committed but not acknowledged (no checkpoint says so)
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hurricane_assets.catalog import load_catalog
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.negotiation_runtime import platform_context
from hurricane_assets.policy.gate import CedarPolicyGate
from negotiation_graph.checkpointing import sqlite_checkpointer
from negotiation_graph.context import fixed_clock
from negotiation_graph.decision_cache import DecisionCache
from negotiation_graph.messages import Performative
from negotiation_graph.runner import Negotiator
from negotiation_graph.terms import NeedSpec
from tests.transcripts import logged_bytes
from tests.trust_keys import install_keys

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEED = NeedSpec(
    need_id="need-crash-matrix", consumer="risk", model="fraud_model", purpose="fraud_detection",
    environment="preprod", join_entities=("transaction", "customer"),
    wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3},
)
# What every fork would otherwise load again: the catalog, the Cedar bundle, and the modules
# the first Delta write and the first LLM call import lazily (pandas alone is over a second).
# Nothing here starts a thread, so forking stays safe.
CATALOG = load_catalog()
GATE = DecisionCache(CedarPolicyGate(CATALOG))
importlib.import_module("pandas")
importlib.import_module("pyarrow.dataset")
importlib.import_module("langchain_openai")


class Events:
    """Counts crash-point events, each named `kind@step` (the graph step it falls in); SIGKILLs
    this process at event number `kill_at`."""

    def __init__(self, kill_at: int | None, log: Path | None = None):
        self.kill_at, self.log, self.seen, self.step = kill_at, log, [], -1

    def __call__(self, kind: str, step: int | None = None) -> None:
        if step is not None:
            self.step = step
        self.seen.append(f"{kind}@{self.step if kind == 'boundary' else self.step + 1}")
        if self.log is not None:
            self.log.write_text(json.dumps(self.seen))
        if len(self.seen) == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def hook_commits(ledger: Ledger, events: Events) -> None:
    commit = ledger._commit

    def hooked(table, rows):
        events("pre-commit")
        commit(table, rows)
        events("post-commit")

    ledger._commit = hooked


def negotiate(home: Path, clock_at: datetime, events: Events, strategy: str, commits: str):
    os.environ["HURRICANE_HOME"] = str(home)
    # the embedded default: in-process domain agents sign, the exchange's log writes the ledger
    context = platform_context(strategy=strategy, catalog=CATALOG, clock=fixed_clock(clock_at), gate=GATE,
                               ledger_commits=commits)
    hook_commits(context.ledger.ledger, events)
    with sqlite_checkpointer(home / "checkpoints.sqlite") as saver:
        put, put_writes = saver.put, saver.put_writes
        producers_saved = []

        def hooked_put(config, checkpoint, metadata, new_versions):
            result = put(config, checkpoint, metadata, new_versions)
            events("boundary", metadata.get("step", -1))
            return result

        def hooked_put_writes(config, writes, task_id, task_path=""):
            put_writes(config, writes, task_id, task_path)
            if any(channel == "answers" and value for channel, value in writes):
                producers_saved.append(task_id)
                if len(producers_saved) == 1:
                    events("producer")

        saver.put, saver.put_writes = hooked_put, hooked_put_writes
        return Negotiator(context, saver).run(NEED)


def without_speaker(payload: dict) -> dict:
    """An entry's payload without the `on_behalf_of` the exchange's log adds to name who spoke."""
    return {k: v for k, v in payload.items() if k != "on_behalf_of"}


def check(report, resumed_at: datetime) -> list[str]:
    """What is wrong with the ledger against the transcript (empty when they agree)."""
    problems = []
    rows = Ledger().read(columns=["entry_id", "entry_type", "negotiation_id", "payload_json"]).to_pylist()
    mine = [r for r in rows if r["negotiation_id"] == report.negotiation_id]
    ids = [r["entry_id"] for r in mine]
    if len(ids) != len(set(ids)):
        problems.append("an entry id is in the ledger twice")
    held = {r["entry_id"]: r for r in mine}
    for message in report.transcript:
        row = held.get(message.msg_id)
        if row is None:
            problems.append(f"{message.performative.value} {message.msg_id} is in the transcript, not in the ledger")
        elif row["payload_json"] != logged_bytes(message):
            problems.append(f"{message.performative.value} {message.msg_id}: ledger bytes differ from the transcript's")
    in_transcript = {m.msg_id for m in report.transcript}
    for row in mine:
        if row["entry_id"] not in in_transcript and row["entry_type"] not in ("POLICY_DENIED", "NO_DEAL"):
            problems.append(f"ledger {row['entry_type']} {row['entry_id']} is not in the transcript")
    hashes = {json.loads(r["payload_json"]).get("msg_sha256") for r in mine}
    for message in report.transcript:
        if message.prev_msg_sha256 is not None and message.prev_msg_sha256 not in hashes:
            problems.append(f"{message.msg_id} chains to a message the ledger does not hold")
    no_deal = [r for r in mine if r["entry_type"] == "NO_DEAL"]
    if (report.outcome.status == "no_deal") != bool(no_deal) or (
        no_deal and without_speaker(json.loads(no_deal[0]["payload_json"])) != report.outcome.model_dump(mode="json")
    ):
        problems.append("the NO_DEAL entry does not match the outcome")
    opened = report.transcript[0].sent_at  # the CFP
    late = [
        m for m in report.transcript
        if m.sent_at - opened > timedelta(seconds=300) and m.performative in (Performative.COUNTER, Performative.ACCEPT)
    ]
    if late:
        problems.append(f"{late[0].performative.value} drafted after the deadline had passed")
    verified = verify_ledger()
    if not verified.ok:
        problems.append(f"ledger does not verify: {verified.problem}")
    return problems


def summary(report) -> dict:
    return {
        "status": report.outcome.status,
        "reasons": list(report.outcome.reason_codes),
        "terms": sorted(a.terms_sha256 for a in report.agreements),
        "withdrawn_deadline": sum(
            1 for m in report.transcript if m.performative is Performative.WITHDRAW and "deadline" in m.reason_codes
        ),
    }


def in_fork(work) -> int:
    """Run `work()` in a child process; its exit status (negative: killed by that signal)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def chosen(events: list[str], kinds: str, from_step: int) -> list[int]:
    """Which events to crash at. "all": every boundary, the producer mid-superstep point, every
    post-commit, and the first and last pre-commit (any other pre-commit kill leaves the same state
    as the boundary before it). "boundary": node boundaries only. Only events of steps >= from_step."""
    kind = [e.split("@")[0] for e in events]
    step = [int(e.split("@")[1]) for e in events]
    pre = [n for n, k in enumerate(kind, 1) if k == "pre-commit"]
    wanted = {"boundary"} if kinds == "boundary" else {"boundary", "producer", "post-commit", "pre-commit"}
    return [
        n for n, (k, s) in enumerate(zip(kind, step), 1)
        if k in wanted and s >= from_step and (k != "pre-commit" or n in (pre[0], pre[-1]))
    ]


def matrix(out_dir: Path, strategy: str, resume_after_s: float, kinds: str, from_step: int, commits: str) -> dict:
    work_dir = out_dir / f"matrix-{strategy}-{int(resume_after_s)}"
    reference_home, log = work_dir / "reference", work_dir / "events.json"
    reference_home.mkdir(parents=True)
    install_keys(reference_home)  # as `hurricane keys init`: keys are never created on use

    def reference():
        report = negotiate(reference_home, T0, Events(None, log), strategy, commits)
        (work_dir / "reference.json").write_text(json.dumps(summary(report) | {"problems": check(report, T0)}))

    assert in_fork(reference) == 0, "the uninterrupted run failed"
    events = json.loads(log.read_text())
    results = []
    for point in chosen(events, kinds, from_step):
        home = work_dir / f"point-{point}"
        home.mkdir()
        install_keys(home)
        killed = in_fork(lambda: negotiate(home, T0, Events(point), strategy, commits))
        resumed_at = T0 + timedelta(seconds=resume_after_s)

        def resume():
            report = negotiate(home, resumed_at, Events(None), strategy, commits)
            (home / "result.json").write_text(json.dumps(summary(report) | {"problems": check(report, resumed_at)}))

        exit_code = in_fork(resume)
        result = json.loads((home / "result.json").read_text()) if exit_code == 0 else {"problems": ["resume failed"]}
        kind, step = events[point - 1].split("@")
        results.append({"point": point, "event": kind, "step": int(step), "killed": killed, "resumed": exit_code} | result)
    return {"events": events, "reference": json.loads((work_dir / "reference.json").read_text()), "points": results}


def main(out: Path, configs: list[tuple[str, float, str, int, str]]) -> None:
    """One interpreter for every configuration (strategy, resume delay, which points, first step,
    ledger commits per "step" or per "negotiation")."""
    results = {
        f"{strategy}@{int(after)}": matrix(out.parent, strategy, after, kinds, from_step, commits)
        for strategy, after, kinds, from_step, commits in configs
    }
    out.write_text(json.dumps(results))


if __name__ == "__main__":
    main(Path(sys.argv[1]), json.loads(sys.argv[2]))
