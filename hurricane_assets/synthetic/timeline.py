"""Event times as int64 microseconds since the epoch, and their conversion to tz-aware UTC columns."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR

# Share of the day's payments per UTC hour: quiet nights, a lunch bump and a busy evening.
HOURLY_ACTIVITY = np.array(
    [0.6, 0.4, 0.3, 0.25, 0.25, 0.4, 0.9, 1.8, 2.8, 3.5, 4.0, 4.4,
     5.2, 5.0, 4.5, 4.3, 4.5, 5.0, 5.6, 5.8, 5.2, 4.0, 2.5, 1.3]
)
HOURLY_ACTIVITY = HOURLY_ACTIVITY / HOURLY_ACTIVITY.sum()


def to_us(moment: datetime) -> int:
    return int(pd.Timestamp(moment).value // 1_000)


def diurnal_times(rng: np.random.Generator, n: int, start_us: int, end_us: int) -> np.ndarray:
    """`n` sorted event times in [start_us, end_us), uniform over days, diurnal within a UTC day.

    Days are counted from the UTC midnight at or before `start_us`, so the activity profile stays on
    UTC hours whatever the hour of the window's ends; a time drawn past an end of the window moves by
    whole days back inside it (same hour, so neither end piles events up and the newest events sit
    as close to `end_us` as the profile puts them).
    """
    first_midnight = start_us - start_us % US_PER_DAY
    days = max(1, -(-(end_us - first_midnight) // US_PER_DAY))  # ceil: partial days count too
    day = rng.integers(0, days, size=n)
    hour = rng.choice(24, size=n, p=HOURLY_ACTIVITY)
    within = rng.integers(0, US_PER_HOUR, size=n)
    times = first_midnight + day * US_PER_DAY + hour * US_PER_HOUR + within
    late, early = times >= end_us, times < start_us
    times[late] -= -(-(times[late] - end_us + 1) // US_PER_DAY) * US_PER_DAY
    times[early] += -(-(start_us - times[early]) // US_PER_DAY) * US_PER_DAY
    if end_us - start_us < US_PER_DAY:
        times = np.clip(times, start_us, end_us - 1)  # a window under a day: no whole day to move by
    return np.sort(times)


def uniform_times(rng: np.random.Generator, low_us: np.ndarray | int, high_us: np.ndarray | int, n: int) -> np.ndarray:
    low = np.broadcast_to(np.asarray(low_us, dtype=np.int64), (n,))
    high = np.broadcast_to(np.asarray(high_us, dtype=np.int64), (n,))
    span = np.maximum(high - low, 1)
    return low + (rng.random(n) * span).astype(np.int64)


def utc_column(us: np.ndarray) -> pd.Series:
    """A `datetime64[us, UTC]` column from epoch microseconds."""
    return pd.Series(np.asarray(us, dtype=np.int64).astype("datetime64[us]")).dt.tz_localize("UTC")


def local_hours(us: np.ndarray, time_zones: np.ndarray) -> np.ndarray:
    """Local wall-clock hour of each event in its own time zone (DST included)."""
    hours = np.empty(len(us), dtype=np.int64)
    stamps = utc_column(us)
    for zone in np.unique(time_zones):
        mask = time_zones == zone
        hours[mask] = stamps[mask].dt.tz_convert(str(zone)).dt.hour.to_numpy()
    return hours
