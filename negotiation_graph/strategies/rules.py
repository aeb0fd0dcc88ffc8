"""The deterministic default: Faratin time-dependent concession with AC_next acceptance.

At round t of T a party aims for utility `best - (best - floor) * (t/T)^(1/beta)`: the producer is
Boulware (beta 0.3: holds firm, concedes late), the consumer linear (beta 1). It offers the point of
the concession path that meets its aim and is best for the counterpart, never retracting an earlier
concession, and accepts the offer on the table when it is worth at least its own next offer
(AC_next), or, in the last round, at least its reservation.
"""

from __future__ import annotations

from dataclasses import dataclass

from negotiation_graph.strategies.base import Briefing, Move, Turn

EPSILON = 1e-9


@dataclass(frozen=True)
class RuleStrategy:
    producer_beta: float = 0.3
    consumer_beta: float = 1.0

    def target(self, turn: Turn) -> float:
        best = max(turn.utilities)
        floor = max(turn.reservation, min(turn.utilities))
        beta = self.producer_beta if turn.role == "producer" else self.consumer_beta
        t = min(1.0, turn.round / turn.max_rounds)
        return best - (best - floor) * t ** (1 / beta)

    def candidates(self, turn: Turn, k: int = 1) -> list[int]:
        """The rule's next offer first, then up to k-1 firmer ones that still respect past concessions.

        The producer concedes by moving up the path, the consumer by moving down."""
        aim = self.target(turn)
        meeting = [i for i, u in enumerate(turn.utilities) if u >= aim - EPSILON]
        if turn.role == "producer":
            pick = max(meeting) if turn.previous is None else max(max(meeting), turn.previous)
            firmest = 0 if turn.previous is None else turn.previous
            return list(range(pick, firmest - 1, -1))[:k]
        pick = min(meeting) if turn.previous is None else min(min(meeting), turn.previous)
        firmest = len(turn.utilities) - 1 if turn.previous is None else turn.previous
        return list(range(pick, firmest + 1))[:k]

    def decide(self, turn: Turn, briefing: Briefing) -> Move:
        following = self.candidates(turn)[0]
        if turn.incoming is None:
            return Move("counter", following, "opening offer")
        on_table = turn.utilities[turn.incoming]
        if on_table >= turn.utilities[following] - EPSILON:
            return Move("accept", turn.incoming, "AC_next: the offer on the table is worth at least my next offer")
        if turn.round >= turn.max_rounds - 1 and on_table >= turn.reservation - EPSILON:
            return Move("accept", turn.incoming, "deadline: the offer on the table meets my reservation")
        return Move("counter", following, f"time-dependent concession, round {turn.round} of {turn.max_rounds}")
