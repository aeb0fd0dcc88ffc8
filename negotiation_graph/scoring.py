"""How much an offer is worth to each side: the linear-additive utilities both strategies use.

Consumer: the wanted features an offer serves (a column serves a feature by name or by tag), each
worth its weight times how much of it survives the masking, scaled down a little for a shorter
term or retention and a slower refresh than asked, and by the share of the model's training window
the retention covers (rows past retention are deleted from the share, so a retention shorter than
the window leaves its older rows without the feature). Producer: minus the risk it takes: sensitivity
of every exposed column times how weakly it is masked, plus retention, term, refresh rate and the
target environment's exposure.
"""

from __future__ import annotations

from negotiation_graph.ports import ColumnFacts, ProducerListing
from negotiation_graph.rows import row_share
from negotiation_graph.terms import MaskingMethod, NeedSpec, ShareTerms

# share of a feature's worth that survives each masking; redact and drop leave nothing to learn from
MASK_VALUE = {
    MaskingMethod.none: 1.0,
    MaskingMethod.tokenize: 0.9,
    MaskingMethod.format_preserving: 0.85,
    MaskingMethod.generalize: 0.6,
    MaskingMethod.redact: 0.0,
    MaskingMethod.drop: 0.0,
}
VALUE_BEARING = tuple(m for m, v in MASK_VALUE.items() if v > 0)
# a join key must keep equality across tables, so only these maskings keep it usable
JOIN_PRESERVING = (MaskingMethod.none, MaskingMethod.tokenize, MaskingMethod.format_preserving)
FORMAT_PRESERVABLE_PII = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "DATE_OF_BIRTH", "PERSON")
GENERALIZABLE_TYPES = ("int64", "float64", "date", "timestamp")

TERM_SHORTFALL_COST = 0.10
RETENTION_SHORTFALL_COST = 0.05
FRESHNESS_SHORTFALL_COST = 0.05
RISK_PER_YEAR_RETAINED = 1.0
RISK_PER_YEAR_OF_ACCESS = 1.0
RISK_PER_DAILY_REFRESH = 0.2
RISK_PER_ENVIRONMENT_STEP = 0.25
RISK_OFF_PURPOSE = 10.0
# a row filter keeping share s of the rows: the consumer keeps s ** 0.25 of the value (a model's
# learning curve: a tenth of the rows is worth more than a tenth), the producer exposes its columns
# with weight 0.5 + 0.5 s (fewer rows, less exposed, but the columns still cross)
ROWS_VALUE_EXPONENT = 0.25
ROWS_RISK_FLOOR = 0.5


def serves(column: str, facts: ColumnFacts, feature: str) -> bool:
    return column == feature or feature in facts.tags


def applicable_maskings(facts: ColumnFacts) -> tuple[MaskingMethod, ...]:
    """Value-bearing maskings that make sense for this column's type and PII entity."""
    methods = [MaskingMethod.none]
    if facts.type == "string":  # a keyed token keeps equality, which only categorical strings need
        methods.append(MaskingMethod.tokenize)
    if facts.pii in FORMAT_PRESERVABLE_PII:
        methods.append(MaskingMethod.format_preserving)
    if facts.type in GENERALIZABLE_TYPES or facts.pii in ("DATE_OF_BIRTH", "LOCATION"):
        methods.append(MaskingMethod.generalize)
    return tuple(methods)


def masking_weakness(method: MaskingMethod) -> float:
    return 1.0 - method.strength / MaskingMethod.drop.strength


def consumer_value(need: NeedSpec, listing: ProducerListing, terms: ShareTerms, features: tuple[str, ...]) -> float:
    """Sum over `features` of their weight times the best surviving share among the offered columns."""
    total = 0.0
    for feature in features:
        best = max(
            (
                MASK_VALUE[method]
                for column, method in terms.columns.items()
                if column in listing.columns and serves(column, listing.columns[column], feature)
            ),
            default=0.0,
        )
        total += need.wanted.get(feature, 0.0) * best
    return total


def retention_cover(need: NeedSpec, terms: ShareTerms) -> float:
    """Share of the model's training window the retention keeps rows of (1.0 without a known window).
    Linear, not a learning curve like `ROWS_VALUE_EXPONENT`: the rows a short retention deletes are
    not a sample but the whole older part of the window, where the model then sees no feature."""
    if need.training_days is None:
        return 1.0
    return min(1.0, terms.retention_days / need.training_days)


def consumer_utility(
    need: NeedSpec, listing: ProducerListing, terms: ShareTerms, features: tuple[str, ...], value_scale: float = 1.0
) -> float:
    shortfall = (
        TERM_SHORTFALL_COST * (1 - min(1.0, terms.term_days / need.term_days))
        + RETENTION_SHORTFALL_COST * (1 - min(1.0, terms.retention_days / need.retention_days))
        + FRESHNESS_SHORTFALL_COST * (1 - min(1.0, need.freshness_hours / terms.freshness_hours))
    )
    rows = row_share(listing, terms.row_filter, need.window_days) ** ROWS_VALUE_EXPONENT * retention_cover(need, terms)
    return value_scale * consumer_value(need, listing, terms, features) * (1 - shortfall) * rows


def producer_risk(listing: ProducerListing, terms: ShareTerms) -> float:
    exposure = sum(
        (1 + listing.columns[column].sensitivity) * masking_weakness(method)
        for column, method in terms.columns.items()
        if column in listing.columns
    )
    rows = ROWS_RISK_FLOOR + (1 - ROWS_RISK_FLOOR) * row_share(listing, terms.row_filter)
    return (
        exposure * rows * (1 + RISK_PER_ENVIRONMENT_STEP * terms.environment.exposure)
        + RISK_PER_YEAR_RETAINED * terms.retention_days / 365
        + RISK_PER_YEAR_OF_ACCESS * terms.term_days / 365
        + RISK_PER_DAILY_REFRESH * 24 / terms.freshness_hours
        + (0.0 if terms.purpose in listing.allowed_purposes else RISK_OFF_PURPOSE)
    )


def producer_utility(listing: ProducerListing, terms: ShareTerms) -> float:
    return -producer_risk(listing, terms)
