"""Row filters as negotiated issues: time window, consented rows only, sampling rate, countries.

A producer whose policy denies the whole dataset may still share part of it: the last N days, only
rows whose subject consented, a sample. Each is a ladder from the producer's favourite (narrowest)
to the consumer's ideal (widest) and becomes an issue of the concession path. Countries are the
consumer's ask (it only wants some), fixed for the negotiation. A narrowing is only offered when
the policy needs it or the consumer asked for it: a share the policy allows whole stays whole.

Which column holds the country and which the consent comes from the listing's column tags
(`country`, `consent`); a listing without such a column cannot be narrowed that way.
"""

from __future__ import annotations

from dataclasses import dataclass

from negotiation_graph.ports import ProducerListing
from negotiation_graph.terms import NeedSpec, Predicate, RowFilter

COUNTRY_TAG = "country"
CONSENT_TAG = "consent"
# narrowings the producer may offer when its policy denies the whole history / every row / all rows
WINDOW_STEPS_DAYS = (30, 90, 365)
SAMPLE_STEPS = (0.1, 0.25, 0.5)
# when the consumer asked for all history, a window of this many days counts as all of it
FULL_HISTORY_DAYS = 365
# share of rows assumed consented when nothing better is known (only orders the offers)
CONSENTED_SHARE = 0.6


def tagged_column(listing: ProducerListing, tag: str) -> str | None:
    for column, facts in sorted(listing.columns.items()):
        if tag in facts.tags or column == tag:
            return column
    return None


@dataclass(frozen=True)
class RowShape:
    """One point of the row issues: window (None = all history), consented only, sample (None = all)."""

    window_days: int | None = None
    consented_only: bool = False
    sample_fraction: float | None = None


def row_filter(need: NeedSpec, listing: ProducerListing, shape: RowShape) -> RowFilter:
    """The typed row filter of `shape` on this listing, with the consumer's countries."""
    predicates: list[Predicate] = []
    country = tagged_column(listing, COUNTRY_TAG)
    if need.countries and country is not None:
        predicates.append(Predicate(column=country, op="in", values=tuple(sorted(need.countries))))
    consent = tagged_column(listing, CONSENT_TAG)
    if shape.consented_only and consent is not None:
        predicates.append(Predicate(column=consent, op="eq", values=(True,)))
    return RowFilter(all_of=tuple(predicates), since_days=shape.window_days, sample_fraction=shape.sample_fraction)


def candidates(need: NeedSpec, listing: ProducerListing) -> tuple[tuple, tuple, tuple]:
    """Per row issue, the values to try, producer's favourite (narrowest) first, widest last."""
    if need.window_days is not None:
        asked = need.window_days
        windows: tuple = tuple(sorted({max(1, asked // 4), max(1, asked // 2), asked}))
    else:
        windows = (*WINDOW_STEPS_DAYS, None)
    consents: tuple = (True, False) if tagged_column(listing, CONSENT_TAG) is not None else (False,)
    return windows, consents, (*SAMPLE_STEPS, None)


def row_share(listing: ProducerListing, rows: RowFilter, window_days: int | None = None) -> float:
    """Estimated share of the rows this filter keeps (1.0 = all of them) of the last `window_days`
    (None: all history, which a window of FULL_HISTORY_DAYS covers)."""
    share = 1.0
    if rows.since_days is not None:
        share *= min(1.0, rows.since_days / (window_days or FULL_HISTORY_DAYS))
    if rows.sample_fraction is not None:
        share *= rows.sample_fraction
    consent = tagged_column(listing, CONSENT_TAG)
    if consent is not None and any(p.column == consent for p in rows.all_of):
        share *= CONSENTED_SHARE
    return share


def describe(rows: RowFilter) -> str:
    """Short text for transcripts and LLM briefings."""
    if rows.is_everything:
        return "all rows"
    parts = [f"{p.column} {p.op} {','.join(map(str, p.values))}" for p in rows.all_of]
    if rows.since_days is not None:
        parts.append(f"last {rows.since_days}d")
    if rows.sample_fraction is not None:
        parts.append(f"sample {rows.sample_fraction:g}")
    return "rows: " + ", ".join(parts)
