"""Kill a negotiation mid-bargaining (SIGKILL), resume it in a new process from the SQLite checkpoint."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel

from negotiation_graph.checkpointing import sqlite_checkpointer, strict_serializer
from tests.negotiation_graph.ports_in_memory import MemoryLedger

ROOT = Path(__file__).resolve().parents[2]


def child(folder: Path, *extra: str) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.negotiation_graph.negotiation_child", str(folder), *extra], cwd=ROOT, env=env
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"child exited with {proc.returncode} before {path.name}"
        assert time.monotonic() < end, f"no {path.name} after {timeout}s"
        time.sleep(0.05)


def test_a_killed_negotiation_resumes_to_the_same_agreement_without_duplicate_entries(tmp_path):
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    reference.mkdir(), crashed.mkdir()
    assert child(reference).wait(timeout=120) == 0

    victim = child(crashed, "--hang-at-round", "2")
    wait_for(crashed / "hanging", victim)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert not (crashed / "result.json").exists()
    half = MemoryLedger(crashed / "ledger.jsonl")
    assert any(e["payload"].get("round") == 2 for e in half.entries), "killed after part of round 2 was sent"
    steps = sqlite3.connect(crashed / "checkpoints.sqlite").execute("select count(*) from checkpoints").fetchone()[0]
    assert steps > 0

    assert child(crashed).wait(timeout=120) == 0
    resumed = json.loads((crashed / "result.json").read_text())
    assert resumed == json.loads((reference / "result.json").read_text())
    assert resumed["status"] == "agreed"

    ledger, clean = MemoryLedger(crashed / "ledger.jsonl"), MemoryLedger(reference / "ledger.jsonl")
    ledger.verify()
    # producers answer the CFP in parallel, so only the set of entries (not their order) is fixed
    assert sorted(e["entry_id"] for e in ledger.entries) == sorted(e["entry_id"] for e in clean.entries)


class Intruder(BaseModel):
    """Not a state type: a tampered checkpoint naming it must not revive it."""

    x: int


def test_checkpoints_revive_only_negotiation_state_types(tmp_path):
    from tests.negotiation_graph.sample_world import fraud_need

    serde = strict_serializer()
    need = fraud_need()
    assert serde.loads_typed(serde.dumps_typed(need)) == need
    revived = serde.loads_typed(serde.dumps_typed(Intruder(x=1)))
    assert not isinstance(revived, Intruder)
    with sqlite_checkpointer(tmp_path / "deep" / "c.sqlite") as saver:
        assert saver.serde is not None and (tmp_path / "deep" / "c.sqlite").exists()
