"""Ctrl-C and the local stack: the terminal's SIGINT goes to every process of its foreground group,
so without care each server the stack started, and each helper Dagster starts for a run (its
compute-log `tail` and `watch_orphans.py`), gets it too and dies in its own way, with its own
traceback, while the parent is still stopping them.

`StackInterrupts` (entered by `hurricane demo --stack services` around the stack) makes Ctrl-C reach
only the parent: SIGINT is blocked in the main thread, and a blocked signal stays blocked in every
process it starts (the mask survives fork and exec), while a watcher thread with SIGINT unblocked
receives it for the process. Python still runs the handler in the main thread (ours, or Dagster's
during a run, which turns it into a failed run); the watcher, woken through `signal.set_wakeup_fd`
whichever handler is installed, silences logging (Dagster's run-failure log and its stack trace) and
tells the user once. The parent then stops the servers in order.

`deferred_interrupts()` keeps a SIGINT out of a section that must not be cut halfway — a `Popen`
interrupted after its fork has started a server nobody holds; a stop cut halfway leaves servers
running — and honours it when the section ends.
"""

from __future__ import annotations

import logging
import select
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_active: StackInterrupts | None = None


def interrupted() -> bool:
    """True once a SIGINT reached the process inside the active `StackInterrupts` block."""
    return _active is not None and _active.interrupted


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """A SIGINT inside the block is handed to the handler that was there when the block ends (the
    default one raises KeyboardInterrupt), never in its middle."""
    if not _on_main_thread():  # handlers can only be changed there, and only the main thread runs them
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signo, frame: received.append(signo))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


class StackInterrupts:
    """`with StackInterrupts(notice) as interrupts: …`: inside the block, processes started from the
    main thread do not get the terminal's SIGINT; the process itself does — as KeyboardInterrupt
    outside a Dagster run, as a failed run inside one. `notice(n)` is called once per SIGINT (n = 1,
    2, …), from the watcher thread or the main thread, whichever sees it first; from the first one
    on, logging is disabled until the block ends. `interrupted` is exact on the main thread: a
    SIGINT whose handler has run is counted."""

    def __init__(self, notice: Callable[[int], None] = lambda count: None):
        self.notice = notice
        self.count = 0
        # reentrant: the main thread's handler drains, and may run while the main thread is draining
        self._lock = threading.RLock()
        self._active = False

    @property
    def interrupted(self) -> bool:
        if self._active:
            self._drain()  # the C-level handler wrote its byte before any Python handler ran
        return self.count > 0

    def __enter__(self) -> StackInterrupts:
        global _active
        if not _on_main_thread():
            return self
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._previous_wakeup = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._previous_handler = signal.signal(signal.SIGINT, self._handler)
        self._logging_disabled = logging.root.manager.disable
        self._watcher = threading.Thread(target=self._watch, name="hurricane-sigint", daemon=True)
        self._watcher.start()
        self._previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self._active = True
        self._outer, _active = _active, self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        if not self._active:
            return
        signal.pthread_sigmask(signal.SIG_SETMASK, self._previous_mask)
        self._drain()
        self._active = False
        _active = self._outer
        signal.signal(signal.SIGINT, self._previous_handler)
        signal.set_wakeup_fd(self._previous_wakeup)
        self._write.close()  # the watcher sees the end of the stream and returns
        self._watcher.join(timeout=5)
        self._read.close()
        logging.disable(self._logging_disabled)

    def _handler(self, signo, frame) -> None:  # noqa: ANN001
        self._drain()
        raise KeyboardInterrupt

    def _watch(self) -> None:
        # the one thread where SIGINT is not blocked: the kernel delivers the process's SIGINT here
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        while True:
            try:
                select.select([self._read], [], [])
            except (OSError, ValueError):  # closed under it: the block is over
                return
            if self._drain():
                return

    def _drain(self) -> bool:
        """Count the signals written to the wakeup socket; True at its end (the block is over)."""
        with self._lock:
            while True:
                try:
                    data = self._read.recv(64)
                except (BlockingIOError, InterruptedError):
                    return False
                except OSError:  # closed
                    return True
                if not data:
                    return True
                for signo in data:
                    if signo == signal.SIGINT:
                        self.count += 1
                        if self.count == 1:
                            logging.disable(logging.CRITICAL)
                        try:
                            self.notice(self.count)
                        except Exception:  # noqa: BLE001  (a closed stream must not stop the counting)
                            pass
