"""Progress for steps that take longer than a second (a negotiation, a delivery): one spinner line
per step with its elapsed time, on stderr so `--json` output stays clean; rich renders the same
lines in a notebook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

Step = Callable[[str], AbstractContextManager]


@contextmanager
def steps(show: bool = True) -> Iterator[Step]:
    """`with steps() as step: with step("negotiating"): ...`; `show=False` prints nothing."""
    if not show:
        yield lambda description: nullcontext()
        return
    with Progress(SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:

        @contextmanager
        def step(description: str) -> Iterator[None]:
            task = progress.add_task(description, total=1)
            try:
                yield
            finally:
                progress.update(task, completed=1)

        yield step
