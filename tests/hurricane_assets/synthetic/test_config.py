from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hurricane_assets.synthetic import SyntheticConfig, SyntheticConfigError


@pytest.mark.parametrize(
    "field,value",
    [("transactions", 10), ("transactions", 1.5e4), ("seed", -1), ("history_days", 3), ("drift_days", 0),
     ("drift_days", 120), ("as_of", datetime(2025, 6, 1)), ("as_of", "2025-06-01")],
)
def test_bad_values_name_the_field_and_value(field, value):
    with pytest.raises(SyntheticConfigError, match=rf"SyntheticConfig\.{field}=") as caught:
        SyntheticConfig(**{field: value})
    assert caught.value.field == field and repr(value) in str(caught.value)


def test_as_of_is_normalised_to_utc():
    paris = timezone(timedelta(hours=2))
    config = SyntheticConfig(as_of=datetime(2025, 6, 1, 2, tzinfo=paris))
    assert config.as_of == datetime(2025, 6, 1, tzinfo=timezone.utc) and config.as_of.tzinfo is timezone.utc


def test_window_and_drift_start():
    config = SyntheticConfig(as_of=datetime(2025, 6, 1, tzinfo=timezone.utc), history_days=100, drift_days=10)
    assert config.start == datetime(2025, 2, 21, tzinfo=timezone.utc)
    assert config.drift_start == datetime(2025, 5, 22, tzinfo=timezone.utc)
    assert SyntheticConfig().drift_start is None


def test_customers_scale_with_a_floor():
    assert SyntheticConfig(transactions=1_000_000).customers == 100_000
    assert SyntheticConfig(transactions=500).customers == 200
