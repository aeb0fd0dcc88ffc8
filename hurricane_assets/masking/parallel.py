"""Per-column masking work split between this process and one forked helper (the machine's second core).

The operators are pure Python over each column's distinct values, so threads would share one core
(the GIL). A forked child inherits the prepared distinct values and the key in memory, so nothing
but the masked values crosses the pipe back: the key is never pickled or sent anywhere.

Forking is only safe when no other thread can hold a lock the child might need, so the split runs
only from the main thread of a process with no other Python threads, on a platform that forks;
otherwise (and for small work, where the fork costs more than it saves) everything runs here.
The child reads the inherited Arrow buffers (a column's distinct values become Python objects
there, not in this process before the fork) and sends each column's result back as an Arrow array
it built (its buffers pickle as bytes, far cheaper than a list of strings). Arrow resets its
thread pools and its allocator's locks at fork (`pthread_atfork`), and no other Python thread
runs at the fork, so nothing the child needs can be held.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import BinaryIO

MIN_SPLIT_MICROS = 100_000  # estimated work: below ~0.1 s one core finishes before a fork pays off


def split_available() -> bool:
    """Whether this process may fork a helper now (Linux-like fork, >1 core, no other Python threads,
    not itself a daemonic worker, which multiprocessing forbids to have children)."""
    return ("fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1
            and not multiprocessing.current_process().daemon
            and threading.current_thread() is threading.main_thread() and not _other_python_threads())


def _other_python_threads() -> bool:
    """Threads started from Python, other than this one. Native pool threads that once ran a Python
    callback (Arrow's and delta-rs' readers and writers consuming a streamed copy's batches) stay
    registered as dummy threads for the life of the process; they run Python only inside such a
    callback, which never forks (it is not the main thread), so they do not count: counting them
    disabled the split for good after the first streamed copy of a process."""
    return any(t is not threading.current_thread() and not isinstance(t, threading._DummyThread)  # noqa: SLF001
               for t in threading.enumerate())


def run_split(tasks: Sequence[Callable[[], list]], weights: Sequence[float], *,
              split: bool | None = None, alongside: Callable[[], None] | None = None) -> list[list]:
    """Each task's result, in order; `weights` are estimated µs per task. `split`: None splits when
    available and the work is large enough, True whenever available (tests), False never.

    `alongside` runs in a thread of this process meanwhile, started after the fork (so the child
    inherits no thread): work in Arrow kernels, which release the GIL, then costs no wall time."""
    splitting = not (split is False or len(tasks) < 2 or not split_available()
                     or (split is None and sum(weights) < MIN_SPLIT_MICROS))
    mine, theirs = _halves(weights) if splitting else (list(range(len(tasks))), [])
    try:
        helper = _Helper(tasks, theirs, mine) if theirs else None
    except OSError:  # no POSIX semaphore for the claims (a container without /dev/shm): all of it here
        helper, mine = None, list(range(len(tasks)))
    background = _Background(alongside)
    try:
        if helper is None:
            results: dict[int, list] = {i: tasks[i]() for i in mine}
        else:
            results = _run_claimed(tasks, mine, theirs, helper.claims)
            results.update(helper.results())
    finally:
        if helper is not None:
            helper.close()
        background.join()
    background.raise_error()
    return [results[i] for i in range(len(tasks))]


STEALING = True  # a side done with its own tasks takes the other's not yet started (tests turn it off)


class _Claims:
    """Which tasks a process has taken, shared by this process and the helper (made before the fork):
    the weights are estimates, and beside other work a task can take half again as long as estimated
    (the k gate's sorts share the memory bus), so a side that finishes first takes over the other's
    tasks not yet started instead of waiting."""

    def __init__(self, ctx, count: int):
        self._taken = ctx.RawArray("b", count)
        self._lock = ctx.Lock()

    def take(self, index: int) -> bool:
        with self._lock:
            if self._taken[index]:
                return False
            self._taken[index] = 1
            return True


def _run_claimed(tasks: Sequence[Callable[[], list]], own: list[int], other: list[int], claims: _Claims
                 ) -> dict[int, list]:
    """The results of the tasks this side took: its own in order (heaviest first), then, with
    `STEALING`, the other side's not yet started, lightest first; never the other's first task."""
    done = {i: tasks[i]() for i in own if claims.take(i)}
    if STEALING:
        done.update((i, tasks[i]()) for i in reversed(other[1:]) if claims.take(i))
    return done


class _Helper:
    """One forked child computing `tasks[i]` for the given indices (and what it takes over from
    `others`, this process's) and piping the results back."""

    def __init__(self, tasks: Sequence[Callable[[], list]], indices: list[int], others: list[int]):
        ctx = multiprocessing.get_context("fork")
        self.claims = _Claims(ctx, len(tasks))  # first: nothing else is open if it cannot be made
        self._reader, writer = ctx.Pipe(duplex=False)

        # The results' Arrow buffers go through this file (created here, unlinked already, inherited by
        # the child) and are mapped back, not copied through the pipe: 68 MB took 0.37 s through the
        # pipe, 0.03 s this way (`spilled`, `unspilled`).
        self._spill = tempfile.TemporaryFile(prefix="hurricane-masking-")

        def helper() -> None:
            try:
                writer.send(("ok", *spilled(_run_claimed(tasks, indices, others, self.claims), self._spill)))
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent to be raised there
                try:
                    writer.send(("error", exc, None))
                except Exception:  # an exception that does not pickle still arrives, as its text
                    writer.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), None))

        self._process = ctx.Process(target=helper, name="hurricane-masking-helper", daemon=True)
        # Without this, the child's first garbage collection walks every inherited object, writing
        # their headers and so copying most of the parent's heap.
        gc.freeze()
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        writer.close()

    def results(self) -> dict[int, list]:
        try:
            status, payload, sizes = self._reader.recv()
        except EOFError:
            self._process.join()  # the pipe closes as the helper dies: wait for its exit code
            raise RuntimeError(f"the masking helper process exited with code {self._process.exitcode} "
                               "before returning its columns; nothing was written") from None
        if status == "error":
            raise payload
        return unspilled(payload, sizes, self._spill)

    def close(self) -> None:
        self._reader.close()
        self._spill.close()  # what was mapped from it stays readable
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


SPILL_ALIGNMENT = 64  # Arrow's buffer alignment


def spilled(results: object, spill: BinaryIO) -> tuple[bytes, list[int]]:
    """(`results` pickled without their buffers, the sizes of the buffers written to `spill` in order,
    each padded to `SPILL_ALIGNMENT`): Arrow arrays hand their buffers out of band (pickle protocol 5)."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(results, protocol=5, buffer_callback=buffers.append)
    sizes = []
    for buffer in buffers:
        raw = buffer.raw()
        spill.write(raw)
        spill.write(bytes(-raw.nbytes % SPILL_ALIGNMENT))
        sizes.append(raw.nbytes)
    spill.flush()
    return payload, sizes


def unspilled(payload: bytes, sizes: list[int], spill: BinaryIO) -> object:
    """`spilled`'s results, their buffers mapped from `spill` (no copy; the mapping lives as long as they do)."""
    total = sum(size + -size % SPILL_ALIGNMENT for size in sizes)
    if not total:
        return pickle.loads(payload, buffers=[b""] * len(sizes))
    view = memoryview(mmap.mmap(spill.fileno(), total, access=mmap.ACCESS_READ))
    buffers, start = [], 0
    for size in sizes:
        buffers.append(view[start:start + size])
        start += size + -size % SPILL_ALIGNMENT
    return pickle.loads(payload, buffers=buffers)


class _Background:
    """`work` in a thread from now until `join`; its error is kept for `raise_error`."""

    def __init__(self, work: Callable[[], None] | None):
        self._error: BaseException | None = None
        self._thread = None
        if work is not None:
            self._thread = threading.Thread(target=self._run, args=(work,), name="hurricane-masking-statistics")
            self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            self._error = exc

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error


def _halves(weights: Sequence[float]) -> tuple[list[int], list[int]]:
    """Task indices for here and for the helper, heaviest first onto the lighter side."""
    sides: tuple[list[int], list[int]] = ([], [])
    loads = [0.0, 0.0]
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        side = 0 if loads[0] <= loads[1] else 1
        sides[side].append(i)
        loads[side] += weights[i]
    return sides
