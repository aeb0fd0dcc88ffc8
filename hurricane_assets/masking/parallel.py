"""Per-column masking work split between this process and one forked helper (the machine's second core).

The operators are pure Python over each column's distinct values, so threads would share one core
(the GIL). A forked child inherits the prepared distinct values and the key in memory, so nothing
but the masked values crosses the pipe back: the key is never pickled or sent anywhere.

Forking is only safe when no other thread can hold a lock the child might need, so the split runs
only from the main thread of a process with no other Python threads, on a platform that forks;
otherwise (and for small work, where the fork costs more than it saves) everything runs here.
The child touches no Arrow memory: it gets Python lists and returns Python lists.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence

MIN_SPLIT_MICROS = 100_000  # estimated work: below ~0.1 s one core finishes before a fork pays off


def split_available() -> bool:
    """Whether this process may fork a helper now (Linux-like fork, >1 core, no other Python threads)."""
    return ("fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
            and threading.current_thread() is threading.main_thread() and threading.active_count() == 1)


def run_split(tasks: Sequence[Callable[[], list]], weights: Sequence[float], *,
              split: bool | None = None) -> list[list]:
    """Each task's result, in order; `weights` are estimated µs per task. `split`: None splits when available and the work is large enough,
    True whenever available (tests), False never."""
    if split is False or len(tasks) < 2 or not split_available() or (split is None and sum(weights) < MIN_SPLIT_MICROS):
        return [task() for task in tasks]
    mine, theirs = _halves(weights)
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)

    def helper() -> None:
        try:
            writer.send(("ok", [tasks[i]() for i in theirs]))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent to be raised there
            try:
                writer.send(("error", exc))
            except Exception:  # an exception that does not pickle still arrives, as its text
                writer.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))

    process = ctx.Process(target=helper, name="hurricane-masking-helper", daemon=True)
    # Without this, the child's first garbage collection walks every inherited object, writing
    # their headers and so copying most of the parent's heap (it tripled the child's first task).
    gc.freeze()
    try:
        process.start()
    finally:
        gc.unfreeze()
    writer.close()
    try:
        results: dict[int, list] = {i: tasks[i]() for i in mine}
        try:
            status, payload = reader.recv()
        except EOFError:
            process.join()  # the pipe closes as the helper dies: wait for its exit code
            raise RuntimeError(f"the masking helper process exited with code {process.exitcode} "
                               "before returning its columns; nothing was written") from None
        if status == "error":
            raise payload
        results.update(zip(theirs, payload))
    finally:
        reader.close()
        if process.is_alive():
            process.kill()
        process.join()
    return [results[i] for i in range(len(tasks))]


def _halves(weights: Sequence[float]) -> tuple[list[int], list[int]]:
    """Task indices for here and for the helper, heaviest first onto the lighter side."""
    sides: tuple[list[int], list[int]] = ([], [])
    loads = [0, 0]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        side = 0 if loads[0] <= loads[1] else 1
        sides[side].append(i)
        loads[side] += weights[i]
    return sides
