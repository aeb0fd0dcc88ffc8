"""The platform's one clock.

Everything that asks "what time is it" — the synthetic world's newest events, the freshness checks, the
monitors, negotiation deadlines, signatures, the ledger, contract expiry and renewal — asks here, so a
run can be pinned to one instant and behaves the same at any hour of the day.

`HURRICANE_NOW` (ISO-8601 with an offset, e.g. `2026-03-31T23:55:00+00:00`) pins the clock for the
process and every process it starts (Dagster runs, code servers, the webserver). Unset, the clock is the
wall clock. It is read on every call, like the other settings, so a test can change it.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

NOW_VARIABLE = "HURRICANE_NOW"


class ClockError(ValueError):
    """`HURRICANE_NOW` holds something that is not an unambiguous instant."""


def pinned_now() -> datetime | None:
    """The pinned instant, or None when the clock follows the wall clock."""
    raw = os.environ.get(NOW_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ClockError(f"{NOW_VARIABLE}={raw!r}: not an ISO-8601 date-time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would be read as local time on one machine and UTC on another.
        raise ClockError(f"{NOW_VARIABLE}={raw!r}: needs a UTC offset, e.g. {raw}+00:00")
    return moment.astimezone(timezone.utc)


def utc_now() -> datetime:
    """The current instant (UTC, timezone-aware): the pinned one if `HURRICANE_NOW` is set."""
    return pinned_now() or datetime.now(timezone.utc)


def current_hour() -> datetime:
    """`utc_now()` floored to the hour: the end of the synthetic world when no date is given.

    Floored so every dataset generated within the same hour describes the same world (the domains
    materialize one after another), yet the newest events are never more than an hour old.
    """
    return utc_now().replace(minute=0, second=0, microsecond=0)
