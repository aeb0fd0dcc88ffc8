"""What the synthetic world looks like: size, seed, time window and the drift switch."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from hurricane_assets.clock import current_hour

MIN_CUSTOMERS = 200


class SyntheticConfigError(ValueError):
    """A configuration value the generator cannot honour, naming the field and the value."""

    def __init__(self, field: str, value: object, reason: str):
        self.field = field
        self.value = value
        super().__init__(f"SyntheticConfig.{field}={value!r}: {reason}")


@dataclass(frozen=True)
class SyntheticConfig:
    transactions: int = 20_000  # size knob; other datasets scale from it
    seed: int = 7
    as_of: datetime | None = None  # data ends here (UTC); None: the platform clock's current hour
    history_days: int = 120
    drift_days: int | None = None  # None: no drift; N: the drift starts N days before as_of

    def __post_init__(self) -> None:
        if isinstance(self.transactions, bool) or not isinstance(self.transactions, int) or self.transactions < 100:
            raise SyntheticConfigError("transactions", self.transactions, "must be an integer >= 100")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SyntheticConfigError("seed", self.seed, "must be a non-negative integer")
        if isinstance(self.history_days, bool) or not isinstance(self.history_days, int) or self.history_days < 7:
            raise SyntheticConfigError("history_days", self.history_days, "must be an integer >= 7")
        if self.drift_days is not None and (
            isinstance(self.drift_days, bool)
            or not isinstance(self.drift_days, int)
            or not 1 <= self.drift_days < self.history_days
        ):
            raise SyntheticConfigError(
                "drift_days", self.drift_days, f"must be None or an integer in [1, history_days={self.history_days})"
            )
        if self.as_of is not None:
            if not isinstance(self.as_of, datetime):
                raise SyntheticConfigError("as_of", self.as_of, "must be a datetime or None")
            if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
                # A naive time is ambiguous: refusing it beats silently shifting every event by hours.
                raise SyntheticConfigError("as_of", self.as_of, "must be timezone-aware (UTC)")
            object.__setattr__(self, "as_of", self.as_of.astimezone(timezone.utc))

    @property
    def customers(self) -> int:
        return max(MIN_CUSTOMERS, self.transactions // 10)

    def resolved(self) -> SyntheticConfig:
        """The same config with `as_of` fixed to the clock's current hour, so the newest events are
        fresh whatever the hour, and a cache keyed on it never spans two worlds."""
        if self.as_of is not None:
            return self
        return replace(self, as_of=current_hour())

    @property
    def start(self) -> datetime:
        return self.resolved().as_of - timedelta(days=self.history_days)

    @property
    def drift_start(self) -> datetime | None:
        if self.drift_days is None:
            return None
        return self.resolved().as_of - timedelta(days=self.drift_days)
