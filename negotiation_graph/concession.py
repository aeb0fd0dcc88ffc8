"""The concession path: a finite chain of feasible offers from the producer's anchor to the
consumer's ideal, both sides' utilities monotone along it.

Each step relaxes one issue by one level (one column's masking one step weaker, or retention, term,
refresh or a row filter one step closer to the ask), choosing the step that buys the consumer the most value per
unit of producer risk. Strategies then only choose a position on this path, so every offer either
side can make is inside the feasible region by construction.
"""

from __future__ import annotations

from negotiation_graph.feasibility import FeasibleRegion, offer
from negotiation_graph.ports import ProducerListing
from negotiation_graph.rows import RowShape, row_filter
from negotiation_graph.scoring import MASK_VALUE, consumer_utility, producer_risk, serves
from negotiation_graph.terms import NeedSpec, ShareTerms


def columns_for(listing: ProducerListing, region: FeasibleRegion, features: tuple[str, ...]) -> dict[str, str]:
    """One column per feature (data minimisation): the one that keeps the most value, then the least
    sensitive, then by name. Returns feature -> column for the features the region can serve."""
    chosen: dict[str, str] = {}
    for feature in features:
        candidates = [
            c for c in region.columns if c != region.join_key and serves(c, listing.columns[c], feature)
        ]
        if candidates:
            chosen[feature] = min(
                candidates,
                key=lambda c: (-MASK_VALUE[region.columns[c][-1]], listing.columns[c].sensitivity, c),
            )
    return chosen


def concession_path(
    need: NeedSpec, listing: ProducerListing, region: FeasibleRegion, features: tuple[str, ...], value_scale: float = 1.0
) -> tuple[ShareTerms, ...]:
    wanted = sorted(set(columns_for(listing, region, features).values()))
    ladders = {f"mask:{c}": region.columns[c] for c in wanted}
    ladders |= {"retention": region.retention_days, "term": region.term_days, "freshness": region.freshness_hours}
    ladders |= {"rows:window": region.windows, "rows:consent": region.consents, "rows:sample": region.samples}
    position = dict.fromkeys(ladders, 0)

    def build(pos: dict[str, int]) -> ShareTerms:
        columns = {region.join_key: region.columns[region.join_key][0]}  # fixed: the key is no issue
        columns |= {c: ladders[f"mask:{c}"][pos[f"mask:{c}"]] for c in wanted}
        return offer(
            need,
            listing,
            columns,
            ladders["retention"][pos["retention"]],
            ladders["term"][pos["term"]],
            ladders["freshness"][pos["freshness"]],
            row_filter(
                need,
                listing,
                RowShape(
                    ladders["rows:window"][pos["rows:window"]],
                    ladders["rows:consent"][pos["rows:consent"]],
                    ladders["rows:sample"][pos["rows:sample"]],
                ),
            ),
        )

    current = build(position)
    path = [current]
    while True:
        best: tuple[float, str, ShareTerms] | None = None
        # the current offer's scores, once per step rather than once per candidate issue
        current_utility = consumer_utility(need, listing, current, features, value_scale)
        current_risk = producer_risk(listing, current)
        for issue in sorted(ladders):
            if position[issue] + 1 >= len(ladders[issue]):
                continue
            step = build(position | {issue: position[issue] + 1})
            gain = consumer_utility(need, listing, step, features, value_scale) - current_utility
            cost = producer_risk(listing, step) - current_risk
            score = gain / max(cost, 1e-9)
            if best is None or score > best[0] + 1e-12:
                best = (score, issue, step)
        if best is None:
            return tuple(path)
        position[best[1]] += 1
        current = best[2]
        path.append(current)
