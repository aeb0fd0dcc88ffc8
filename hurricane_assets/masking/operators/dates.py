"""Dates: keyed shift per entity (intervals within one customer survive) and generalisation.

`DateShift` reads another column of the same row (the entity id) through ``params["context"]``;
the engine passes it per distinct entity and shifts whole columns with Arrow arithmetic.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from hurricane_assets.masking.normalise import normalise_text
from hurricane_assets.masking.operators.base import MaskingOperator, keyed_digest, require
from negotiation_graph.terms import MaskingMethod

GENERALISATION_LADDER = (1, 5, 10)  # years per band, finest first


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
        shifted = when + dt.timedelta(days=shift_days(params["key"], params.get("entity", "entity"), context,
                                                      params.get("max_days", 180)))
        return shifted.isoformat() if was_text else shifted


class DateGeneralisation(MaskingOperator):
    """Floor to the first day of a band of `years` (1 → birth year); dates stay dates, timestamps timestamps."""

    name = "generalize_date"
    method = MaskingMethod.generalize
    keyed = False
    params_allowed: ClassVar[frozenset[str]] = frozenset({"years"})

    def check_params(self, params: dict) -> None:
        years = params.get("years", 1)
        require(isinstance(years, int) and years >= 1, self.name, f"years must be an int >= 1, got {years!r}")

    def mask(self, value: Any, params: dict) -> Any:
        when, was_text = _as_date_value(value)
        years = params.get("years", 1)
        year = when.year - when.year % years
        out = when.replace(year=year, month=1, day=1)
        if isinstance(out, dt.datetime):
            out = out.replace(hour=0, minute=0, second=0, microsecond=0)
        return out.isoformat() if was_text else out

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        wider = [y for y in GENERALISATION_LADDER if y > params.get("years", 1)]
        return {**params, "years": wider[0]} if wider else None
