"""SIGKILL a negotiation on the real platform mid-way; a new process resumes it from the SQLite
checkpoint to the same agreement, and the Delta ledger verifies with no entry written twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.verify import verify_ledger

ROOT = Path(__file__).resolve().parents[2]


def child(home: Path, *args: str) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(ROOT), "HURRICANE_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "tests.hurricane_assets.negotiation_crash_child", *args], cwd=ROOT, env=env)


def test_killed_negotiation_resumes_to_the_same_agreement_and_the_ledger_verifies(tmp_path):
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    reference.mkdir(), crashed.mkdir()
    assert child(reference).wait(timeout=180) == 0
    expected = json.loads((reference / "result.json").read_text())
    assert expected["status"] == "agreed"

    victim = child(crashed, "--hang-after", "12")
    deadline = time.monotonic() + 180
    while not (crashed / "hanging").exists():
        assert victim.poll() is None, f"child exited with {victim.returncode} before the crash point"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert not (crashed / "result.json").exists()

    os.environ["HURRICANE_HOME"] = str(crashed)  # the autouse fixture restores it afterwards
    written_before_crash = len(Ledger())
    assert 0 < written_before_crash <= 12

    assert child(crashed).wait(timeout=180) == 0
    assert json.loads((crashed / "result.json").read_text()) == expected
    result = verify_ledger()
    assert result.ok, result.problem
    ids = Counter(e["entry_id"] for e in Ledger().read(columns=["entry_id"]).to_pylist())
    assert not [i for i, n in ids.items() if n > 1]
    assert len(Ledger()) > written_before_crash
    # the same entries as the run that was never interrupted (producers answer in parallel: compare sets)
    assert set(ids) == {e["entry_id"] for e in Ledger(uri=str(reference / "ledger")).read(columns=["entry_id"]).to_pylist()}
