"""The crash matrix: SIGKILL a negotiation on the real platform at every node boundary, between
parallel producer answers and on both sides of a ledger commit, for the rules and the LLM strategy
(over real HTTP), resume it with a later clock, and require the ledger to hold byte for byte what
the transcript holds, with an intact chain. The driver forks per point (`crash_matrix_child.py`).

What it catches: a step that sends before its content is checkpointed (a re-run with a later clock
or another LLM choice writes other bytes under a known id: `LedgerConflict`, the resume fails), a
ledger that skips a known id without comparing content (bytes differ), a lost or duplicated entry.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.negotiation_graph.strategies.chat_stub import ChatStub, tool_call

ROOT = Path(__file__).resolve().parents[2]


def fickle(request: dict) -> tuple[int, dict]:
    """A model that picks another candidate on every call, so a re-run step would choose differently."""
    prompt = request["messages"][-1]["content"]
    candidates = len(re.findall(r"^\d+: ", prompt, flags=re.M)) or 1
    return 200, tool_call({"index": fickle.calls % candidates, "rationale": f"call {fickle.calls}"})


fickle.calls = 0


def counting(request: dict) -> tuple[int, dict]:
    fickle.calls += 1
    return fickle(request)


# rules: every point, one ledger commit per step (the most commits to crash around); the LLM only
# decides in the bargaining steps (3 on: after open, the producers' answers and the award), with
# the platform's default of one commit per negotiation; a deadline can only bite once bargains are
# open (boundaries from step 2)
CONFIGS = [
    ("rules", 60, "all", -1, "step"),
    ("llm", 60, "all", 3, "negotiation"),
    ("rules", 400, "boundary", 2, "step"),
]


def run_matrices(tmp_path) -> dict:
    """One driver run (one interpreter start) for the three matrices."""
    out = tmp_path / "matrix.json"
    fickle.calls = 0
    with ChatStub(counting) as stub:
        env = {"HURRICANE_LLM_MODEL": "local-stub", "HURRICANE_LLM_BASE_URL": stub.base_url, "HURRICANE_LLM_API_KEY": "x"}
        subprocess.run(
            [sys.executable, "-m", "tests.hurricane_assets.crash_matrix_child", str(out), json.dumps(CONFIGS)],
            cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)} | env, check=True, timeout=900,
        )
        asked = len(stub.requests)
    return json.loads(out.read_text()) | {"llm_requests": asked}


def assert_exactly_once(matrix: dict, kinds: set[str], commits: int = 5) -> None:
    events = [e.split("@")[0] for e in matrix["events"]]
    assert events.count("boundary") >= 7 and "producer" in events and events.count("post-commit") >= commits
    assert not matrix["reference"]["problems"]
    points = matrix["points"]
    assert {p["event"] for p in points} == kinds
    for point in points:
        where = f"crash at event {point['point']} ({point['event']})"
        assert point["killed"] == -signal.SIGKILL, where
        assert point["resumed"] == 0, where
        assert point["problems"] == [], where


@pytest.mark.e2e
def test_crash_matrix(tmp_path):
    """One test, so that pytest-xdist never runs the driver twice."""
    matrices = run_matrices(tmp_path)
    rules_negotiation_killed_anywhere_resumes_with_ledger_equal_to_transcript(matrices)
    llm_negotiation_killed_anywhere_resumes_with_ledger_equal_to_transcript(matrices)
    a_deadline_passing_while_down_ends_open_bargains_with_a_recorded_withdraw(matrices)
    print({name: len(m["points"]) for name, m in matrices.items() if name != "llm_requests"}, "crash points")


def rules_negotiation_killed_anywhere_resumes_with_ledger_equal_to_transcript(matrices):
    matrix = matrices["rules@60"]
    assert_exactly_once(matrix, {"boundary", "producer", "pre-commit", "post-commit"})
    # the rules are deterministic and no deadline passed: every resumed run agrees the same terms
    for point in matrix["points"]:
        assert (point["status"], point["terms"]) == (matrix["reference"]["status"], matrix["reference"]["terms"])


def llm_negotiation_killed_anywhere_resumes_with_ledger_equal_to_transcript(matrices):
    matrix = matrices["llm@60"]
    assert_exactly_once(matrix, {"boundary", "pre-commit", "post-commit"}, commits=1)
    assert matrices["llm_requests"] > 0, "the model was asked, over HTTP"
    assert all(p["status"] in ("agreed", "partial") for p in matrix["points"])


def a_deadline_passing_while_down_ends_open_bargains_with_a_recorded_withdraw(matrices):
    """Resumed 400 s later (deadline 300 s): what was drafted before the crash is delivered
    unchanged; the first step after the resume withdraws every bargain still open (`deadline`),
    so no offer is drafted after the deadline, and the outcome records why."""
    matrix = matrices["rules@400"]
    assert_exactly_once(matrix, {"boundary"})
    reference = matrix["reference"]
    ended_by_deadline = [p for p in matrix["points"] if p["withdrawn_deadline"]]
    assert ended_by_deadline, "some crash points left a bargain open"
    for point in matrix["points"]:
        if point["withdrawn_deadline"]:
            assert "deadline" in point["reasons"] and point["status"] in ("no_deal", "partial")
        else:  # nothing was open any more: the crash cost nothing
            assert (point["status"], point["terms"]) == (reference["status"], reference["terms"])
