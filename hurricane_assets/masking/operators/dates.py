"""Dates: keyed shift per entity (intervals within one customer survive) and generalisation.

`DateShift` reads another column of the same row (the entity id) through ``params["context"]``;
the engine passes it per distinct entity and shifts whole columns with Arrow arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

from hurricane_assets.masking.normalise import normalise_text
from hurricane_assets.masking.operators.base import MaskingOperator, keyed_digest, require
from negotiation_graph.terms import MaskingMethod

GENERALISATION_LADDER = (1, 5, 10)  # years per band, finest first
MONTH_LADDER = (1, 3, 6)  # months per band, finest first; the next step is a year
DAY_LADDER = (1, 7)  # days per band (counted from 1970-01-01), finest first; the next step is a month
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "+00:00"})  # time zone names Arrow reads as UTC itself


def shift_days(key, entity: str, entity_value: Any, max_days: int) -> int:
    """A keyed offset in ±[1, max_days] days (never 0, so no date survives unshifted)."""
    text = normalise_text(entity_value) if isinstance(entity_value, str) else repr(entity_value)
    draw = int.from_bytes(keyed_digest(key, "date-shift", entity, text)[:8], "big")
    magnitude = 1 + (draw >> 1) % max_days
    return magnitude if draw & 1 else -magnitude


def _as_date_value(value: Any) -> tuple[Any, bool]:
    """(date or datetime, was_text) so text input round-trips as ISO text (Presidio passes text)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value, False
    text = str(value).strip()
    try:
        return (dt.date.fromisoformat(text) if len(text) <= 10 else dt.datetime.fromisoformat(text)), True
    except ValueError:
        raise ValueError(f"not an ISO date or timestamp: {text[:32]!r}") from None


class DateShift(MaskingOperator):
    """A keyed whole-day offset per entity; a timestamp is floored to its day first. A whole-day shift
    leaves the time of day as it was, and that is unique per event (a payment at 02:28:34.345719):
    knowing one event's time would find its row, the person's token and, from the offset, every other
    event of theirs unshifted. Intervals within one entity survive in days."""

    name = "date_shift"
    method = MaskingMethod.format_preserving
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "entity_column", "max_days", "context"})
    row_context = "entity_column"

    def check_params(self, params: dict) -> None:
        max_days = params.get("max_days", 180)
        require(isinstance(max_days, int) and max_days >= 1, self.name, f"max_days must be an int >= 1, got {max_days!r}")

    def mask(self, value: Any, params: dict) -> Any:
        when, was_text = _as_date_value(value)
        # Without an entity value every value is its own entity: still keyed, intervals not kept.
        context = params.get("context", value)
        if isinstance(when, dt.datetime):
            when = when.replace(hour=0, minute=0, second=0, microsecond=0)
        shifted = when + dt.timedelta(days=shift_days(params["key"], params.get("entity", "entity"), context,
                                                      params.get("max_days", 180)))
        return shifted.isoformat() if was_text else shifted


class DateGeneralisation(MaskingOperator):
    """Floor to the first day of a band of `days` (1 → the day, 7 → a week counted from 1970-01-01),
    of `months` (1 → the month) or of `years` (1 → the year, the default); dates stay dates,
    timestamps timestamps (at midnight).

    Days serve event times below prod (when a payment happened is a quasi-identifier: the exact
    microsecond singles a person out, the day keeps the time windows models train on); months
    serve features that live on recency (account age: "opened in the last 90 days" survives a
    month, not a year); year bands serve quasi-identifiers such as a birth date. The k-anonymity
    ladder runs 1 → 7 days, 1 → 3 → 6 months, then 1 → 5 → 10 years."""

    name = "generalize_date"
    method = MaskingMethod.generalize
    keyed = False
    params_allowed: ClassVar[frozenset[str]] = frozenset({"years", "months", "days"})

    def check_params(self, params: dict) -> None:
        given = [p for p in ("years", "months", "days") if p in params]
        require(len(given) <= 1, self.name, f"give one of years, months or days, not {' and '.join(given)}")
        if "days" in params:
            days = params["days"]
            require(isinstance(days, int) and not isinstance(days, bool) and days >= 1, self.name,
                    f"days must be an int >= 1, got {days!r}")
            return
        if "months" in params:
            months = params["months"]
            require(isinstance(months, int) and not isinstance(months, bool) and months >= 1 and 12 % months == 0,
                    self.name, f"months must divide a year (1, 2, 3, 4, 6 or 12), got {months!r}")
            return
        years = params.get("years", 1)
        require(isinstance(years, int) and not isinstance(years, bool) and years >= 1, self.name,
                f"years must be an int >= 1, got {years!r}")

    def masker(self, params: dict) -> Callable[[Any], Any]:
        months = params.get("months")
        days = params.get("days")
        years = params.get("years", 1)

        def floor(value: Any) -> Any:
            when, was_text = _as_date_value(value)
            if days is not None:
                day = when.date() if isinstance(when, dt.datetime) else when
                out = when - dt.timedelta(days=(day.toordinal() - _EPOCH_ORDINAL) % days)
            elif months is not None:
                out = when.replace(month=(when.month - 1) // months * months + 1, day=1)
            else:
                out = when.replace(year=when.year - when.year % years, month=1, day=1)
            if isinstance(out, dt.datetime):
                out = out.replace(hour=0, minute=0, second=0, microsecond=0)
            return out.isoformat() if was_text else out

        return floor

    def mask_array(self, arr, params: dict):
        """The whole column at once with Arrow's `floor_temporal` (same result as `masker`, whose
        Python per value cost ~1 s per million distinct timestamps); None for other types."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not (pa.types.is_timestamp(arr.type) or pa.types.is_date32(arr.type)):
            return None
        if "days" in params:
            unit, multiple = "day", params["days"]
        elif "months" in params:
            unit, multiple = "month", params["months"]
        else:
            unit, multiple = "year", params.get("years", 1)
        # Arrow counts multiples from 1970, a multiple of 5 and 10 years and the first month of a
        # year: the same bands as `masker`.
        if pa.types.is_timestamp(arr.type) and arr.type.tz in UTC_ZONES:
            # A zoned timestamp is floored in its local time through the time zone database, 3x the
            # cost of a naive one; in UTC the local time is the stored value, so the floor is the same.
            naive = pa.timestamp(arr.type.unit)
            return pc.floor_temporal(arr.cast(naive), multiple=multiple, unit=unit).cast(arr.type)
        return pc.floor_temporal(arr, multiple=multiple, unit=unit)

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        if "days" in params:
            wider_days = [d for d in DAY_LADDER if d > params["days"]]
            if wider_days:
                return {**params, "days": wider_days[0]}
            return {**{p: v for p, v in params.items() if p != "days"}, "months": MONTH_LADDER[0]}
        if "months" in params:
            wider_months = [m for m in MONTH_LADDER if m > params["months"]]
            if wider_months:
                return {**params, "months": wider_months[0]}
            return {**{p: v for p, v in params.items() if p != "months"}, "years": GENERALISATION_LADDER[0]}
        wider = [y for y in GENERALISATION_LADDER if y > params.get("years", 1)]
        return {**params, "years": wider[0]} if wider else None

    @classmethod
    def coarsens_output_of(cls, base: dict, params: dict) -> bool:
        """Every band is a function of the calendar day, a band of months of the month, of years of
        the year (bands counted from 1970 and from January), so a band whose width is a multiple of
        the base's is the same from the base's output, and so is a coarser unit's band from a day or
        from a band of months (which never crosses a year). Not a month from a week: its first day
        may lie in the month before."""
        unit = {"days": 0, "months": 1, "years": 2}
        base_unit = next((u for u in ("days", "months") if u in base), "years")
        to_unit = next((u for u in ("days", "months") if u in params), "years")
        width, to_width = base.get(base_unit, 1), params.get(to_unit, 1)
        if base_unit == to_unit:
            return to_width % width == 0
        return unit[to_unit] > unit[base_unit] and (width == 1 or base_unit == "months")
