"""The producer's feasible region for one need: what its policy gate allows, found by asking it.

Cedar's implicit denies carry no reasons, so the engine maps the region itself: it evaluates the
wanted columns (plus a join key) under each value-bearing masking with the most conservative
retention, term and refresh, keeps for every column the maskings the gate allows (a column allowed
under none of them is refused, with the gate's reasons), then finds how far retention, term and
refresh can go towards what the consumer asked. The join key is not bargained over: it takes the
weakest join-preserving masking the gate allows (plain for a non-PII id where policy permits,
tokenized for a PII id), because that is how the consumer's own copies hold it. Every offer the engine later makes lies inside
this region and is gated again before it is sent.

Row filters (`rows.py`) are issues too: every probe above is made with the narrowest rows the
producer could offer, then each row issue keeps only the values the policy allows; an issue whose
widest value (all rows) is allowed anyway is not bargained over, unless the consumer asked for less.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from negotiation_graph.messages import PolicySummary, ReasonCode
from negotiation_graph.ports import PolicyDecision, PolicyGate, ProducerListing
from negotiation_graph.rows import RowShape, candidates, row_filter
from negotiation_graph.scoring import JOIN_PRESERVING, VALUE_BEARING, applicable_maskings, serves
from negotiation_graph.terms import MaskingMethod, NeedSpec, RowFilter, ShareTerms


class FeasibleRegion(BaseModel):
    """Per issue, the values the producer's policy allows, ordered from the producer's favourite."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listing_id: str
    join_key: str
    # allowed value-bearing maskings per column, strongest (producer's favourite) first; the join
    # key has exactly one: the weakest the policy allows, fixed for the whole negotiation
    columns: dict[str, tuple[MaskingMethod, ...]]
    retention_days: tuple[int, ...]  # ascending
    term_days: tuple[int, ...]  # ascending
    freshness_hours: tuple[int, ...]  # descending: slower refresh is cheaper for the producer
    # row issues, narrowest (producer's favourite) first: None is all history / no sampling
    windows: tuple[int | None, ...] = (None,)
    consents: tuple[bool, ...] = (False,)
    samples: tuple[float | None, ...] = (None,)
    refused_columns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    policy: PolicySummary


class Infeasible(BaseModel):
    """No offer of this listing can serve the need; the reasons go into a REFUSE."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason_codes: tuple[str, ...]
    column_reasons: dict[str, tuple[str, ...]] = Field(default_factory=dict)


def listing_id(listing: ProducerListing) -> str:
    return f"{listing.producer}.{listing.dataset}"


def join_key(need: NeedSpec, listing: ProducerListing) -> str | None:
    """The column joining this listing to the consumer's data, preferring the listing's own entity."""
    entities = ([listing.entity] if listing.entity in need.join_entities else []) + list(need.join_entities)
    for entity in entities:
        for column, facts in listing.columns.items():
            if facts.refers_to == entity:
                return column
    return None


def wanted_columns(need: NeedSpec, listing: ProducerListing) -> list[str]:
    return [
        column
        for column, facts in listing.columns.items()
        if column not in need.has_columns and any(serves(column, facts, feature) for feature in need.wanted)
    ]


def knob_ladders(need: NeedSpec, listing: ProducerListing) -> tuple[list[int], list[int], list[int]]:
    """Candidate retention, term (ascending) and refresh hours (descending) around the consumer's ask.
    The model's training window is a retention step of its own: the consumer's utility rises up to it
    (`scoring.retention_cover`), so the bargain can stop exactly there."""

    def fractions(asked: int, *also: int | None) -> list[int]:
        return sorted({max(1, asked // 4), max(1, asked // 2), asked, *(a for a in also if a and a <= asked)})

    fastest = max(need.freshness_hours, listing.freshness_hours)
    return (fractions(need.retention_days, need.training_days), fractions(need.term_days),
            [4 * fastest, 2 * fastest, fastest])


def offer(
    need: NeedSpec,
    listing: ProducerListing,
    columns: dict[str, MaskingMethod],
    retention_days: int,
    term_days: int,
    freshness_hours: int,
    rows: RowFilter = RowFilter(),
) -> ShareTerms:
    return ShareTerms(
        producer=listing.producer,
        consumer=need.consumer,
        dataset=listing.dataset,
        columns=columns,
        row_filter=rows,
        purpose=need.purpose,
        environment=need.environment,
        freshness_hours=freshness_hours,
        retention_days=retention_days,
        term_days=term_days,
    )


def explore(gate: PolicyGate, need: NeedSpec, listing: ProducerListing) -> FeasibleRegion | Infeasible:
    """Map the listing's feasible region for `need` with a handful of gate evaluations."""
    key = join_key(need, listing)
    if key is None:
        return Infeasible(reason_codes=(ReasonCode.NO_JOIN_KEY.value,))
    wanted = [c for c in wanted_columns(need, listing) if c != key]
    if not wanted:
        return Infeasible(reason_codes=(ReasonCode.NO_MATCHING_COLUMNS.value,))
    asked = [key, *wanted]
    retention, term, freshness = knob_ladders(need, listing)
    windows, consents, samples = candidates(need, listing)
    # the narrowest rows the producer could offer: a policy that wants a row filter still lets the
    # columns be mapped, and the row issues are narrowed down below
    narrowest = RowShape(windows[0], consents[0], samples[0])
    narrow_rows = row_filter(need, listing, narrowest)

    allowed: dict[str, list[MaskingMethod]] = {c: [] for c in asked}
    reasons: dict[str, set[str]] = {c: set() for c in asked}
    share_reasons: set[str] = set()
    for method in VALUE_BEARING:
        decision = gate.evaluate(
            offer(need, listing, dict.fromkeys(asked, method), retention[0], term[0], freshness[0], narrow_rows)
        )
        share_reasons.update(decision.reasons)
        for column in asked:
            verdict = decision.columns.get(column)
            if verdict is not None and verdict.allowed:
                allowed[column].append(method)
            elif verdict is not None:
                # the reasons that still hold under the strongest masking are the ones that matter
                reasons[column] = set(verdict.reasons or (ReasonCode.POLICY_DENIED.value,))

    ladders: dict[str, tuple[MaskingMethod, ...]] = {}
    refused: dict[str, tuple[str, ...]] = {}
    for column in asked:
        usable = applicable_maskings(listing.columns[column])
        if column == key:
            usable = tuple(m for m in usable if m in JOIN_PRESERVING)
        methods = tuple(sorted((m for m in allowed[column] if m in usable), key=lambda m: -m.strength))
        if methods and column == key:
            # not a bargaining issue: the consumer's own copies hold the key as the default masking
            # plan left it (plain non-PII ids, tokenized PII ids), so only the weakest masking the
            # policy allows still joins; every offer of both sides carries it unchanged
            ladders[column] = methods[-1:]
        elif methods:
            ladders[column] = methods
        else:
            refused[column] = tuple(sorted(reasons[column] or {ReasonCode.POLICY_DENIED.value}))
    if key in refused or len(ladders) == 1:
        codes = sorted(share_reasons | {ReasonCode.POLICY_DENIED.value})
        return Infeasible(reason_codes=tuple(codes), column_reasons=refused)

    def columns_at_weakest() -> dict[str, MaskingMethod]:
        return {c: ladder[-1] for c, ladder in ladders.items()}

    def gate_allows(r: int, t: int, f: int, shape: RowShape = narrowest) -> PolicyDecision:
        return gate.evaluate(offer(need, listing, columns_at_weakest(), r, t, f, row_filter(need, listing, shape)))

    conservative = gate_allows(retention[0], term[0], freshness[0])
    if not conservative.allowed:
        codes = sorted(set(conservative.reasons) | {ReasonCode.POLICY_DENIED.value})
        return Infeasible(reason_codes=tuple(codes), column_reasons=refused)
    windows, consents, samples = _row_ladders(
        need, windows, consents, samples, lambda shape: gate_allows(retention[0], term[0], freshness[0], shape).allowed
    )
    if not gate_allows(retention[-1], term[-1], freshness[-1]).allowed:
        retention = [r for r in retention if gate_allows(r, term[0], freshness[0]).allowed]
        term = [t for t in term if gate_allows(retention[0], t, freshness[0]).allowed]
        freshness = [f for f in freshness if gate_allows(retention[0], term[0], f).allowed]
    return FeasibleRegion(
        listing_id=listing_id(listing),
        join_key=key,
        columns=ladders,
        retention_days=tuple(retention),
        term_days=tuple(term),
        freshness_hours=tuple(freshness),
        windows=windows,
        consents=consents,
        samples=samples,
        refused_columns=refused,
        policy=PolicySummary.of(conservative),
    )


def _row_ladders(need: NeedSpec, windows: tuple, consents: tuple, samples: tuple, allows) -> tuple[tuple, tuple, tuple]:
    """Each row issue's allowed values, the others held at their narrowest (where the conservative
    check passed, so every ladder keeps at least its first value). An issue whose widest value is
    allowed there is not a concession the policy needs: it collapses to that value, except a window
    the consumer asked for, which is bargained like retention."""
    if need.window_days is None and allows(RowShape(windows[-1], consents[-1], samples[-1])):
        return (windows[-1],), (consents[-1],), (samples[-1],)  # all rows: one evaluation, the usual case
    narrow = RowShape(windows[0], consents[0], samples[0])
    ladders = {"window_days": windows, "consented_only": consents, "sample_fraction": samples}
    out = {}
    for field, ladder in ladders.items():
        allowed = tuple(v for v in ladder if v == ladder[0] or allows(_with(narrow, field, v)))
        asked_window = field == "window_days" and need.window_days is not None
        out[field] = allowed if asked_window or allowed[-1] != ladder[-1] else (ladder[-1],)
    return out["window_days"], out["consented_only"], out["sample_fraction"]


def _with(shape: RowShape, field: str, value) -> RowShape:
    return RowShape(**{**shape.__dict__, field: value})


def anchor(need: NeedSpec, listing: ProducerListing, region: FeasibleRegion) -> ShareTerms:
    """The producer's favourite offer in its region: strongest masking, shortest, slowest, fewest rows."""
    return offer(
        need,
        listing,
        {c: ladder[0] for c, ladder in region.columns.items()},
        region.retention_days[0],
        region.term_days[0],
        region.freshness_hours[0],
        row_filter(need, listing, RowShape(region.windows[0], region.consents[0], region.samples[0])),
    )
