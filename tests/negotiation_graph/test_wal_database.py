"""Processes that open one new SQLite file at the same moment all get it, in WAL mode."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from negotiation_graph.wal_database import connect_wal

PROCESSES = 6
ROUNDS = 30  # without the retry, about one round in six had a process fail: all 30 pass by chance <1 %


def open_at_once(path: str, barrier, answers) -> None:
    barrier.wait()
    try:
        conn = connect_wal(path, timeout=10)
        conn.execute("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY)")
        answers.put(conn.execute("PRAGMA journal_mode").fetchone()[0])
    except Exception as exc:  # the answer the test reads: which process failed and why
        answers.put(repr(exc))


def test_processes_opening_one_new_file_at_once_all_get_it_in_wal_mode(tmp_path):
    ctx = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"round-{round_}.sqlite")
        barrier, answers = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [ctx.Process(target=open_at_once, args=(path, barrier, answers)) for _ in range(PROCESSES)]
        for proc in procs:
            proc.start()
        results = [answers.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join()
        failures += [(round_, r) for r in results if r != "wal"]
    assert not failures, f"opens that failed: {failures[:3]}"


def test_a_file_that_is_not_a_database_is_an_error_not_a_retry(tmp_path):
    path = tmp_path / "not-sqlite.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        connect_wal(path, timeout=5)
