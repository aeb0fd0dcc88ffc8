"""The share terms as a NegMAS negotiation domain, and our strategies as NegMAS negotiators.

Only the quality benchmark (`bench/negotiation_quality.py`) and its test import this module;
NegMAS is a dev dependency and nothing on the platform's path reaches it.

A `Scenario` is one bilateral bargain as the platform would open it: a need, one producer listing,
the producer's feasible region (found through its policy gate, `feasibility.explore`) and the
features that listing serves. Its NegMAS issues are the region's own ladders: one masking issue per
wanted column (the values the gate allows), retention, term and refresh hours. The join key is no
issue (it is fixed, as in every offer of the platform). Each outcome of that space is a
`ShareTerms` inside the region, and both sides value it with the utilities the strategies use
(`scoring.py`: the consumer's weighted surviving value, the producer's minus risk from the
manifest's classifications, the environment and the knobs), min-max normalised over the outcome
space so frontier distances and welfare are comparable across scenarios.

`StrategyNegotiator` plays our `Strategy` (rules, or the LLM selector) in NegMAS's SAOMechanism.
Our strategies move only along the concession path (a chain of the region's outcomes), exactly as
on the platform, while NegMAS's agents may offer any outcome of the space; an offer off the path is
judged by the strategy's own acceptance rule on its utility.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from negmas import ResponseType, SAOMechanism, make_issue, make_os
from negmas.preferences import MappingUtilityFunction, nash_points, pareto_frontier
from negmas.sao import SAONegotiator

from negotiation_graph.concession import columns_for, concession_path
from negotiation_graph.feasibility import FeasibleRegion, Infeasible, explore, offer
from negotiation_graph.ports import PolicyGate, ProducerListing
from negotiation_graph.scoring import consumer_utility, producer_utility
from negotiation_graph.strategies.base import Briefing, Role, Strategy, Turn
from negotiation_graph.terms import MaskingMethod, NeedSpec, ShareTerms

Outcome = tuple


@dataclass(frozen=True)
class Scenario:
    """One bargain: the issue space of a listing's feasible region and both sides' raw utilities."""

    name: str
    need: NeedSpec
    listing: ProducerListing
    region: FeasibleRegion
    features: tuple[str, ...]
    consumer_reservation: float  # raw utility below which the consumer walks away
    producer_reservation: float  # raw (negative risk)
    wanted_columns: tuple[str, ...] = field(default=())

    @cached_property
    def issue_values(self) -> tuple[tuple[str, tuple], ...]:
        masks = tuple((f"mask:{c}", tuple(m.value for m in self.region.columns[c])) for c in self.wanted_columns)
        return masks + (
            ("retention_days", self.region.retention_days),
            ("term_days", self.region.term_days),
            ("freshness_hours", self.region.freshness_hours),
        )

    def issues(self) -> list:
        return [make_issue(list(values), name=name) for name, values in self.issue_values]

    @cached_property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(itertools.product(*(values for _, values in self.issue_values)))

    def terms(self, outcome: Outcome) -> ShareTerms:
        """The `ShareTerms` an outcome stands for (the join key at its fixed masking)."""
        n = len(self.wanted_columns)
        columns = {self.region.join_key: self.region.columns[self.region.join_key][0]}
        columns |= {c: MaskingMethod(v) for c, v in zip(self.wanted_columns, outcome[:n], strict=True)}
        retention, term, freshness = outcome[n:]
        return offer(self.need, self.listing, columns, retention, term, freshness)

    def outcome(self, terms: ShareTerms) -> Outcome:
        return tuple(terms.columns[c].value for c in self.wanted_columns) + (
            terms.retention_days,
            terms.term_days,
            terms.freshness_hours,
        )

    def consumer_raw(self, outcome: Outcome) -> float:
        return consumer_utility(self.need, self.listing, self.terms(outcome), self.features)

    def producer_raw(self, outcome: Outcome) -> float:
        return producer_utility(self.listing, self.terms(outcome))

    @cached_property
    def raw(self) -> dict[Role, dict[Outcome, float]]:
        return {
            "consumer": {o: self.consumer_raw(o) for o in self.outcomes},
            "producer": {o: self.producer_raw(o) for o in self.outcomes},
        }

    def reservation_raw(self, role: Role) -> float:
        return self.consumer_reservation if role == "consumer" else self.producer_reservation

    def normalise(self, role: Role, value: float) -> float:
        values = self.raw[role].values()
        low, high = min(values), max(values)
        return 0.0 if high - low < 1e-12 else (value - low) / (high - low)

    @cached_property
    def normalised(self) -> dict[Role, dict[Outcome, float]]:
        return {role: {o: self.normalise(role, u) for o, u in by.items()} for role, by in self.raw.items()}

    def ufun(self, role: Role) -> MappingUtilityFunction:
        """The role's utility over the space, normalised to [0, 1], with its reservation value."""
        reserved = min(1.0, max(0.0, self.normalise(role, self.reservation_raw(role))))
        return MappingUtilityFunction(
            dict(self.normalised[role]), outcome_space=make_os(self.issues()), reserved_value=reserved
        )

    @cached_property
    def path(self) -> tuple[Outcome, ...]:
        """The concession path the platform would bargain on, as outcomes of this space."""
        return tuple(self.outcome(t) for t in concession_path(self.need, self.listing, self.region, self.features))

    def acceptable(self, outcome: Outcome) -> bool:
        """Both sides' reservations hold (the zone of agreement)."""
        eps = 1e-9
        return (
            self.raw["consumer"][outcome] >= self.consumer_reservation - eps
            and self.raw["producer"][outcome] >= self.producer_reservation - eps
        )

    @cached_property
    def has_zone_of_agreement(self) -> bool:
        return any(self.acceptable(o) for o in self.outcomes)

    def summary(self, outcome: Outcome) -> str:
        """An offer in the words an LLM strategy reads."""
        columns = ", ".join(f"{c}: {m.value}" for c, m in self.terms(outcome).columns.items())
        return f"{columns}; {outcome[-3]} days kept, {outcome[-2]} days of access, refreshed every {outcome[-1]} h"

    def briefing(self, *extra: Outcome) -> Briefing:
        offers = tuple(self.summary(o) for o in (*self.path, *extra))
        return Briefing(purpose=self.need.purpose, features=self.features, offers=offers)

    @cached_property
    def degenerate(self) -> bool:
        """One side values every outcome alike: nothing to bargain over."""
        return any(max(by.values()) - min(by.values()) < 1e-12 for by in self.raw.values())


def build_scenario(
    gate: PolicyGate,
    need: NeedSpec,
    listing: ProducerListing,
    *,
    name: str,
    features: tuple[str, ...] | None = None,
    consumer_share: float = 0.5,
    producer_reservation: float | None = None,
) -> Scenario | None:
    """The bargain over `listing`, or None when its policy leaves nothing to bargain over (or one
    side values every outcome alike).

    `consumer_share` is the platform's `NegotiationLimits.consumer_reservation` (share of the
    unmasked value of the features); without `producer_reservation` the producer accepts anything
    on its concession path, as the platform's producer does without `producer_max_risk`."""
    region = explore(gate, need, listing)
    if isinstance(region, Infeasible):
        return None
    chosen = columns_for(listing, region, tuple(sorted(features or need.wanted)))
    if not chosen:
        return None
    features = tuple(sorted(chosen))
    wanted = tuple(sorted(set(chosen.values())))
    scenario = Scenario(
        name=name,
        need=need,
        listing=listing,
        region=region,
        features=features,
        consumer_reservation=consumer_share * sum(need.wanted[f] for f in features),
        producer_reservation=0.0,
        wanted_columns=wanted,
    )
    if scenario.degenerate:
        return None
    floor = producer_reservation
    if floor is None:
        floor = min(scenario.raw["producer"][o] for o in scenario.path)
    return replace(scenario, producer_reservation=floor)


class StrategyNegotiator(SAONegotiator):
    """One of our strategies as a NegMAS SAO negotiator for one role of a scenario.

    It offers only points of the concession path and decides with `strategy.decide` on its own
    raw utilities, like the platform's bargaining node: the round is the mechanism's step, the
    deadline its step limit, `previous` its own last offer (it never retracts a concession)."""

    def __init__(self, strategy: Strategy, role: Role, scenario: Scenario, **kwargs):
        super().__init__(ufun=scenario.ufun(role), **kwargs)
        self.strategy, self.role, self.scenario = strategy, role, scenario
        self.path_utilities = tuple(scenario.raw[role][o] for o in scenario.path)
        self.path_index = {o: i for i, o in enumerate(scenario.path)}
        self.briefing = scenario.briefing()
        self.previous: int | None = None
        self.decided: tuple[int, int] | None = None  # (step, index) of a counter chosen while responding
        # a reservation above every point of the path leaves the strategy no offer to make: walk
        # away, as the platform never opens such a bargain (no_zopa)
        self.walks_away = scenario.reservation_raw(role) > max(self.path_utilities) + 1e-9

    def _turn(self, state, utilities: tuple[float, ...], incoming: int | None) -> Turn:
        return Turn(
            role=self.role,
            utilities=utilities,
            reservation=self.scenario.reservation_raw(self.role),
            round=state.step,
            max_rounds=self.nmi.n_steps,
            incoming=incoming,
            previous=self.previous,
        )

    def respond(self, state, source: str | None = None) -> ResponseType:
        if self.walks_away:
            return ResponseType.END_NEGOTIATION
        offered = tuple(state.current_offer)
        index = self.path_index.get(offered)
        if index is not None:
            move = self.strategy.decide(self._turn(state, self.path_utilities, index), self.briefing)
        else:
            # off the path: the strategy judges it as one more point worth its own utility
            extended = self.path_utilities + (self.scenario.raw[self.role][offered],)
            briefing = self.scenario.briefing(offered)
            move = self.strategy.decide(self._turn(state, extended, len(self.path_utilities)), briefing)
        if move.kind == "accept":
            return ResponseType.ACCEPT_OFFER
        if move.index < len(self.path_utilities):  # never counter with the other side's off-path offer
            self.decided = (state.step, move.index)
        return ResponseType.REJECT_OFFER

    def propose(self, state, dest: str | None = None) -> Outcome | None:
        if self.walks_away:
            return None
        if self.decided is not None and self.decided[0] == state.step:
            index = self.decided[1]
        else:
            index = self.strategy.decide(self._turn(state, self.path_utilities, None), self.briefing).index
        self.decided = None
        self.previous = index
        return self.scenario.path[index]


@dataclass(frozen=True)
class Result:
    """One negotiation's outcome in normalised utility space."""

    agreement: Outcome | None
    consumer: float
    producer: float
    steps: int
    offers: tuple[tuple[Role, Outcome], ...] = ()  # every offer made, in order, by role

    @property
    def welfare(self) -> float:
        return self.consumer + self.producer


def play(scenario: Scenario, producer: SAONegotiator, consumer: SAONegotiator, n_steps: int) -> Result:
    """One SAO negotiation; the producer opens, as on the platform. A failed negotiation leaves
    each side its reservation value (NegMAS's convention for welfare)."""
    mechanism = SAOMechanism(outcome_space=make_os(scenario.issues()), n_steps=n_steps)
    mechanism.add(producer, ufun=producer.ufun)
    mechanism.add(consumer, ufun=consumer.ufun)
    state = mechanism.run()
    roles = {producer.id: "producer", consumer.id: "consumer"}
    offers = tuple((roles[n], tuple(o)) for n, o in mechanism.trace if o is not None)
    agreement = tuple(state.agreement) if state.agreement is not None else None
    if agreement is None:
        return Result(None, consumer.ufun.reserved_value, producer.ufun.reserved_value, state.step, offers)
    return Result(agreement, float(consumer.ufun(agreement)), float(producer.ufun(agreement)), state.step, offers)


@dataclass(frozen=True)
class Frontier:
    """The Pareto frontier of a scenario's rational outcomes (NegMAS's `pareto_frontier` keeps only
    outcomes at or above both reservation values, and a rational outcome is Pareto-optimal among
    those exactly when it is among all) in normalised utilities (consumer, producer), and its Nash
    point. Both are empty without a zone of agreement."""

    points: tuple[tuple[float, float], ...]
    nash: tuple[float, float] | None

    def distance(self, point: tuple[float, float]) -> float | None:
        return pareto_distance(point, self.points) if self.points else None

    def nash_distance(self, point: tuple[float, float]) -> float | None:
        return None if self.nash is None else math.dist(point, self.nash)


def frontier(ufuns: Sequence[MappingUtilityFunction], outcomes: Sequence[Outcome]) -> Frontier:
    """NegMAS's Pareto frontier and Nash bargaining point of `ufuns` over `outcomes`."""
    points, _ = pareto_frontier(list(ufuns), outcomes=list(outcomes))
    nash = nash_points(list(ufuns), points, outcomes=list(outcomes))
    return Frontier(
        points=tuple((float(a), float(b)) for a, b in points),
        nash=(float(nash[0][0][0]), float(nash[0][0][1])) if nash else None,
    )


def scenario_frontier(scenario: Scenario) -> Frontier:
    return frontier([scenario.ufun("consumer"), scenario.ufun("producer")], scenario.outcomes)


def pareto_distance(point: tuple[float, float], points: Sequence[tuple[float, float]]) -> float:
    """Euclidean distance from a utility point to the nearest Pareto-optimal outcome (0 on the frontier)."""
    return min(math.dist(point, p) for p in points)
