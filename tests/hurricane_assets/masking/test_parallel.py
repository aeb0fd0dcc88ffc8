from __future__ import annotations

import os
import threading

import pytest

from hurricane_assets.masking.parallel import run_split, split_available

PARENT = os.getpid()


def test_split_runs_tasks_in_a_helper_and_keeps_their_order():
    assert split_available()  # pytest (also under xdist) runs tests in the main thread with no others
    tasks = [lambda i=i: [i, os.getpid()] for i in range(6)]
    results = run_split(tasks, [5, 1, 4, 2, 3, 3], split=True)
    assert [r[0] for r in results] == list(range(6))
    assert {r[1] for r in results} == {PARENT, next(r[1] for r in results if r[1] != PARENT)}


def test_without_split_everything_runs_here():
    results = run_split([lambda: [os.getpid()]] * 3, [1e9] * 3, split=False)
    assert results == [[PARENT]] * 3


def test_small_work_is_not_worth_a_fork():
    assert run_split([lambda: [os.getpid()]] * 2, [10, 10]) == [[PARENT]] * 2


def test_another_thread_alive_keeps_the_work_here():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not split_available()
        assert run_split([lambda: [os.getpid()]] * 2, [1e9, 1e9], split=True) == [[PARENT]] * 2
    finally:
        stop.set()
        thread.join()


def _fail_in_helper(exc: BaseException):
    def task():
        if os.getpid() != PARENT:
            raise exc
        return ["parent"]
    return task


def test_an_error_in_the_helper_is_raised_here():
    with pytest.raises(ValueError, match="bad value in column"):
        run_split([lambda: ["parent"], _fail_in_helper(ValueError("bad value in column"))], [10, 1], split=True)


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("no pickling")


def test_an_unpicklable_error_arrives_as_its_text():
    with pytest.raises(RuntimeError, match="Unpicklable: kept as text"):
        run_split([lambda: ["parent"], _fail_in_helper(Unpicklable("kept as text"))], [10, 1], split=True)


def test_a_helper_that_dies_fails_the_masking():
    def die():
        if os.getpid() != PARENT:
            os._exit(3)
        return ["parent"]

    with pytest.raises(RuntimeError, match="exited with code 3 before returning its columns"):
        run_split([lambda: ["parent"], die], [10, 1], split=True)


def test_alongside_work_runs_in_a_thread_the_helper_does_not_inherit():
    parent_done = threading.Event()

    def alongside():
        parent_done.wait(5)  # alive while the tasks run

    def task():  # threads started from Python (native pools' dummy entries left by other tests aside)
        seen = [os.getpid(), sum(not isinstance(t, threading._DummyThread) for t in threading.enumerate())]
        if os.getpid() == PARENT:
            parent_done.set()
        return seen

    results = run_split([task, task], [10, 9], split=True, alongside=alongside)
    here, helper = sorted(results, key=lambda r: r[0] != PARENT)
    assert here == [PARENT, 2] and helper[0] != PARENT and helper[1] == 1


def test_an_error_alongside_is_raised_after_the_tasks():
    def alongside():
        raise OSError("statistics failed")

    with pytest.raises(OSError, match="statistics failed"):
        run_split([lambda: [1]], [1], alongside=alongside)


def _split_from_a_daemonic_worker(queue) -> None:
    queue.put((split_available(), run_split([lambda: [os.getpid()]] * 2, [1e9, 1e9], split=True)))


def test_a_daemonic_worker_masks_in_its_own_process():
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    worker = ctx.Process(target=_split_from_a_daemonic_worker, args=(queue,), daemon=True)
    worker.start()
    available, results = queue.get(timeout=30)
    worker.join()
    assert not available and results[0] == results[1] == [worker.pid]


def test_a_streamed_copy_leaves_the_split_available(prod_world, catalog, monkeypatch):
    """A streamed copy's batches are pulled by Arrow's and delta-rs' native threads, which stay
    registered as (dummy) Python threads afterwards: counting them turned the split off for every later
    masking of the process."""
    from hurricane_assets.masking.copy import copy_masked

    assert split_available()
    monkeypatch.setenv("HURRICANE_STREAM_ROWS", "0")
    monkeypatch.setenv("HURRICANE_STREAM_BATCH_ROWS", "250")
    copy_masked(catalog, "payments", "transactions", "preprod")
    assert any(isinstance(t, threading._DummyThread) for t in threading.enumerate())  # what the copy leaves
    assert split_available()
    release = threading.Event()
    started = threading.Thread(target=release.wait, args=(5,), daemon=True)
    started.start()  # a thread started from Python still keeps the work here
    try:
        assert not split_available()
    finally:
        release.set()
        started.join()


def _arrow_results():
    import pyarrow as pa

    strings = pa.array([f"value-{i}" * (i % 3) for i in range(10_001)])  # odd sizes: padding between buffers
    return [
        (strings, 7),
        strings.slice(3, 5_000),  # a slice keeps its offset into the shared buffers
        pa.array([None, 1.5, 2.5] * 999),
        pa.table({"day": pa.array(range(1_000), pa.int32()).cast(pa.date32()), "empty": pa.array([""] * 1_000)}),
        ["a", "python", "list"],
        pa.array([], pa.string()),
    ]


def test_arrow_results_come_back_through_the_spill_file_equal():
    import tempfile

    import pyarrow as pa

    from hurricane_assets.masking.parallel import spilled, unspilled

    results = _arrow_results()
    with tempfile.TemporaryFile() as spill:
        payload, sizes = spilled(results, spill)
        back = unspilled(payload, sizes, spill)
    assert len(payload) < 4_096 and sum(sizes) > 100_000  # the buffers went to the file, not the pipe
    for got, want in zip(back, results):
        if isinstance(want, tuple):
            assert got[0].equals(want[0]) and got[1] == want[1]
        elif isinstance(want, (pa.Array, pa.Table)):
            assert got.equals(want)
        else:
            assert got == want
    assert back[1].to_pylist() == results[1].to_pylist()


def test_a_helper_s_arrow_results_arrive_whole():
    import pyarrow as pa

    def task(i):
        return lambda: _arrow_results()[i]

    count = len(_arrow_results())
    results = run_split([task(i) for i in range(count)], [1] * count, split=True)
    for got, want in zip(results, _arrow_results()):
        same = got.equals(want) if isinstance(want, (pa.Array, pa.Table)) else (
            got[0].equals(want[0]) and got[1] == want[1] if isinstance(want, tuple) else got == want)
        assert same


@pytest.mark.parametrize("waiting", ["here", "helper"])
def test_a_side_done_first_takes_over_the_other_s_tasks_not_started(waiting, monkeypatch):
    """The side given the heavy task ("here" or the helper) is held inside it until the other side has
    run the *last* of its tasks: that task must have been taken over from the held side's list (it is
    never reached otherwise), and the held side's own first task stays its own."""
    import multiprocessing

    released = multiprocessing.get_context("fork").Event()
    held_side, other_side = [0, 1, 2], [3]
    halves = (held_side, other_side) if waiting == "here" else (other_side, held_side)
    monkeypatch.setattr("hurricane_assets.masking.parallel._halves", lambda weights: halves)

    def held():
        return [os.getpid(), released.wait(20)]

    def release():
        released.set()
        return [os.getpid(), True]

    tasks = [held if i == held_side[0] else release if i == held_side[-1] else (lambda: [os.getpid(), True])
             for i in range(4)]
    results = run_split(tasks, [1, 1, 1, 1], split=True)
    held_pid = results[held_side[0]][0]
    assert results[held_side[0]][1], "the held task was never released: nothing was taken over"
    assert (held_pid == PARENT) == (waiting == "here")
    assert results[held_side[-1]][0] != held_pid  # taken over by the side that was free
    assert results[other_side[0]][0] != held_pid


def test_without_stealing_each_side_runs_its_own(monkeypatch):
    monkeypatch.setattr("hurricane_assets.masking.parallel.STEALING", False)
    monkeypatch.setattr("hurricane_assets.masking.parallel._halves", lambda weights: ([0], [1, 2, 3]))
    results = run_split([lambda: [os.getpid()]] * 4, [1] * 4, split=True)
    assert results[0] == [PARENT] and all(r[0] != PARENT for r in results[1:])
    assert len({r[0] for r in results[1:]}) == 1


def test_without_semaphores_everything_runs_here(monkeypatch):
    """The claims need a POSIX semaphore; where none can be made (no /dev/shm) the work runs in this
    process rather than failing."""
    import multiprocessing

    def no_semaphores(self, *args, **kwargs):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(type(multiprocessing.get_context("fork")), "Lock", no_semaphores)
    assert run_split([lambda: [os.getpid()]] * 3, [1e9] * 3, split=True) == [[PARENT]] * 3
