"""The CLI's error boundary names what failed: a library's exception by its type and the module that
raised it (its message may quote data), never a guess at the cause."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from hurricane_assets.cli.errors import describe

ROOT = Path(__file__).resolve().parents[3]


def test_a_library_error_is_named_by_type_and_module_not_blamed_on_the_state():
    try:
        urlsplit("http://[secret-value")  # raised inside urllib.parse, with the value in its message
    except ValueError as exc:
        message = describe(exc, "hurricane contracts revoke")
    assert message.startswith("hurricane contracts revoke failed: ValueError in urllib.parse")
    assert "secret-value" not in message and "state it read" not in message


# A process that runs one command, with an object only the interpreter's module teardown deletes:
# its `__del__` says when finalization ran; an atexit handler says the usual exit work still ran.
ENTRY_POINT = """
import atexit, os, sys
from hurricane_assets.cli.main import app

class TornDown:
    def __del__(self):
        os.write(2, b"module teardown ran\\n")

torn_down = TornDown()
atexit.register(lambda: os.write(2, b"atexit ran\\n"))
sys.argv = ["hurricane", *sys.argv[1:]]
app()
"""


def run_entry_point(tmp_path, *argv: str, before: str = "") -> subprocess.CompletedProcess:
    """The entry point in its own process, `before` (Python) run first in it."""
    env = {**os.environ, "HURRICANE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("HURRICANE_DEBUG", None)
    return subprocess.run([sys.executable, "-c", before + ENTRY_POINT, *argv], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_process_ends_without_the_interpreter_teardown_where_arrow_threads_abort(tmp_path):
    # `hurricane approvers list` exited 134 ("terminate called without an active exception") in about
    # one run in five: an Arrow I/O thread of the ledger read took the GIL during module teardown
    done = run_entry_point(tmp_path, "approvers", "list")
    assert done.returncode == 0, done.stderr
    assert "no approvers registered" in done.stdout
    assert "atexit ran" in done.stderr
    assert "module teardown ran" not in done.stderr


def test_the_process_ends_with_a_thread_pool_left_open(tmp_path):
    # a library's module-level executor (langchain's tracer, its callbacks' pool) keeps idle non-daemon
    # workers; joining them without the interpreter's exit hook that wakes them hung the process for ever
    pool = "import concurrent.futures\nPOOL = concurrent.futures.ThreadPoolExecutor(2)\nPOOL.submit(int).result()\n"
    done = run_entry_point(tmp_path, "approvers", "list", before=pool)
    assert done.returncode == 0, done.stderr
    assert "no approvers registered" in done.stdout and "atexit ran" in done.stderr


def test_the_entry_point_keeps_the_exit_code_of_a_failure(tmp_path):
    done = run_entry_point(tmp_path, "ledger", "show", "--tail", "0")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "error: --tail must be at least 1, got 0"
    assert "atexit ran" in done.stderr and "module teardown ran" not in done.stderr


def test_the_help_lists_every_exit_code_the_commands_use():
    # errors.py said the exit codes are in `hurricane --help`; they were in a docstring the help never showed
    from typer.testing import CliRunner

    from hurricane_assets.cli.errors import BAD_INPUT, CHECK_FAILED, DENIED, INTERRUPTED, OK
    from hurricane_assets.cli.main import app

    shown = " ".join(CliRunner().invoke(app, ["--help"], terminal_width=400).output.split())
    for code, meaning in ((OK, "ok"), (DENIED, "a request denied"), (BAD_INPUT, "bad input"),
                          (CHECK_FAILED, "a request's copy delivered but failing its blocking join check"),
                          (INTERRUPTED, "interrupted")):
        assert f"{code} {meaning}" in shown
