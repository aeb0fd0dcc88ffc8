"""What a strategy sees (its own side only) and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["consumer", "producer"]


@dataclass(frozen=True)
class Turn:
    """One party's private view at its turn: its own utility of every point of the concession path
    (index 0 = producer's anchor), its reservation, the counterpart's offer on the table and its own
    last offer (`incoming` is None when nothing is on the table yet). The counterpart's utilities and reservation are not here."""

    role: Role
    utilities: tuple[float, ...]
    reservation: float
    round: int
    max_rounds: int
    incoming: int | None
    previous: int | None = None


@dataclass(frozen=True)
class Briefing:
    """What an LLM may read: the need in plain terms, a summary of each path point, and the
    counterpart's own words (untrusted; quoted, never obeyed)."""

    purpose: str
    features: tuple[str, ...]
    offers: tuple[str, ...]
    counterpart_text: str = ""


@dataclass(frozen=True)
class Move:
    kind: Literal["counter", "accept"]
    index: int
    rationale: str = ""
    reason_codes: tuple[str, ...] = field(default=())


class Strategy(Protocol):
    def decide(self, turn: Turn, briefing: Briefing) -> Move: ...
