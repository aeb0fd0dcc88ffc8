"""What every throwaway service of the local stack shares: used as a context manager, it starts on
entry and is stopped on exit, and a start that fails halfway stops what it already started."""

from __future__ import annotations

from typing import Self


class LocalService:
    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
