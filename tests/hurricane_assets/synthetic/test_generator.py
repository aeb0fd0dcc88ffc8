from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.quality import check_keys, check_schema
from hurricane_assets.synthetic import SyntheticConfig, generate, generate_dataset
from hurricane_assets.synthetic.frames import pandas_dtype
from tests.hurricane_assets.synthetic.conftest import AS_OF, SMALL


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_every_manifest_dataset_is_generated(small_world):
    catalog = load_catalog()
    assert set(small_world) == {(d, s) for d, s, _ in catalog.datasets()}


def test_schema_equals_manifest(small_world):
    catalog = load_catalog()
    for (domain, dataset), frame in small_world.items():
        spec = catalog.dataset(domain, dataset)
        assert list(frame.columns) == spec.column_names(), (domain, dataset)
        for name, column in spec.columns.items():
            assert str(frame[name].dtype) == pandas_dtype(column), (domain, dataset, name)
            if not column.nullable:
                assert frame[name].notna().all(), (domain, dataset, name)
            values = frame[name].dropna()
            if column.type == "string":
                assert all(type(v) is str for v in values), (domain, dataset, name)
            if column.type == "date":
                assert all(type(v) is date for v in values), (domain, dataset, name)
        table = pa_table(frame)
        assert check_schema(spec, table).passed, (domain, dataset, check_schema(spec, table).description)
        assert check_keys(spec, table).passed, (domain, dataset)


def pa_table(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def test_timestamps_are_utc_and_not_after_as_of(small_world):
    as_of = pd.Timestamp(AS_OF)
    for key, frame in small_world.items():
        for name in frame.columns:
            if str(frame[name].dtype).startswith("datetime64"):
                assert str(frame[name].dt.tz) == "UTC", (key, name)
                assert frame[name].max() <= as_of, (key, name)


def test_data_reaches_close_to_as_of(world):
    # Freshness checks compare the newest event with now; the generator must not leave a gap.
    as_of = pd.Timestamp(SMALL.as_of)
    for key, column in [(("payments", "transactions"), "event_ts"), (("risk", "alerts"), "created_at"),
                        (("customers", "profiles"), "updated_at"), (("support", "tickets"), "created_at")]:
        assert as_of - world[key][column].max() < pd.Timedelta(hours=24), key


def test_same_config_gives_byte_identical_parquet(small_world):
    again = generate(replace(SMALL))
    for key, frame in small_world.items():
        assert parquet_bytes(frame) == parquet_bytes(again[key]), key


def test_determinism_survives_a_fresh_cache(small_world):
    from hurricane_assets.synthetic import customers, marketing, payments, pools, support, ticket_text

    for cached in (customers.customer_base, payments.payment_flow, pools.locale_pools,
                   support._tickets, marketing._web_sessions, ticket_text.places, ticket_text.other_names):
        cached.cache_clear()
    again = generate(SMALL)
    for key, frame in small_world.items():
        pd.testing.assert_frame_equal(frame, again[key], obj=str(key))


def test_different_seed_gives_different_data(small_world):
    other = generate(replace(SMALL, seed=12))
    for key, frame in small_world.items():
        assert not frame.equals(other[key]), key


def test_generated_frames_are_independent_copies():
    first = generate_dataset(SMALL, "payments", "transactions")
    first.loc[0, "amount"] = -1.0
    assert generate_dataset(SMALL, "payments", "transactions").loc[0, "amount"] != -1.0


def test_unknown_dataset_raises_key_error_naming_it():
    with pytest.raises(KeyError, match="payments.refunds"):
        generate_dataset(SMALL, "payments", "refunds")
    with pytest.raises(KeyError, match="treasury.positions"):
        generate_dataset(SMALL, "treasury", "positions")


@pytest.mark.parametrize("now", ["2026-03-31T23:55:00+00:00", "2026-04-01T00:05:00+00:00", "2026-06-15T12:00:00+00:00"])
def test_default_as_of_is_the_clocks_current_hour(now, monkeypatch):
    monkeypatch.setenv("HURRICANE_NOW", now)
    frame = generate_dataset(SyntheticConfig(transactions=500), "payments", "transactions")
    hour = pd.Timestamp(now).floor("h")
    assert frame["event_ts"].max() <= hour
    assert frame["event_ts"].max() > hour - pd.Timedelta(hours=24)  # within the SLA whatever the hour
    assert frame["event_ts"].min() >= hour - pd.Timedelta(days=120)


def test_events_follow_utc_hours_whatever_the_hour_the_world_ends():
    """The diurnal profile is on UTC hours: a world ending at 15:00 has the same quiet nights as one
    ending at midnight, and no pile of events at its end."""
    ends = [datetime(2026, 6, 15, tzinfo=timezone.utc), datetime(2026, 6, 15, 15, tzinfo=timezone.utc)]
    profiles = []
    for as_of in ends:
        times = generate_dataset(SyntheticConfig(transactions=20_000, as_of=as_of), "payments", "transactions")["event_ts"]
        profiles.append(times.dt.hour.value_counts(normalize=True).sort_index())
        assert (times == times.max()).sum() < 5
    assert (profiles[0] - profiles[1]).abs().max() < 0.01
    assert profiles[1].loc[3] < profiles[1].loc[19] / 10


def test_sizes_scale_from_transactions(world):
    assert len(world[("payments", "transactions")]) == 40_000
    assert len(world[("customers", "profiles")]) == 4_000
    assert len(world[("marketing", "web_sessions")]) == 20_000
    assert len(world[("support", "tickets")]) == 2_000
    assert len(world[("risk", "alerts")]) == len(world[("risk", "fraud_labels")]) == 40_000
    assert len(generate_dataset(SyntheticConfig(transactions=100, as_of=AS_OF), "customers", "profiles")) == 200


def test_referential_integrity(world):
    customers = set(world[("customers", "profiles")]["customer_id"])
    txns = world[("payments", "transactions")].set_index("txn_id")["customer_id"]
    assert set(txns) <= customers
    for key in [("payments", "chargebacks"), ("risk", "alerts"), ("risk", "fraud_labels")]:
        frame = world[key]
        assert frame["txn_id"].isin(txns.index).all(), key
        assert (txns.loc[frame["txn_id"]].to_numpy() == frame["customer_id"].to_numpy()).all(), key
    assert set(world[("risk", "alerts")]["txn_id"]) == set(txns.index)
    for key in [("support", "tickets"), ("marketing", "web_sessions"), ("marketing", "churn_labels")]:
        assert set(world[key]["customer_id"]) <= customers, key
    assert set(world[("marketing", "churn_labels")]["customer_id"]) == customers


def test_events_follow_account_opening_and_screening_follows_payment(world):
    profiles = world[("customers", "profiles")].set_index("customer_id")
    txns = world[("payments", "transactions")]
    opened = profiles.loc[txns["customer_id"], "account_opened_at"].to_numpy()
    assert (txns["event_ts"].to_numpy() > opened).all()
    alerts = world[("risk", "alerts")].merge(txns[["txn_id", "event_ts", "amount"]], on="txn_id")
    lag = alerts["created_at"] - alerts["event_ts"]
    assert (lag > pd.Timedelta(0)).all() and (lag < pd.Timedelta(seconds=10)).all()
    assert (alerts["amount_x"] == alerts["amount_y"]).all()
    labels = world[("risk", "fraud_labels")].merge(txns[["txn_id", "event_ts"]], on="txn_id")
    assert (labels["labelled_at"] >= labels["event_ts"]).all()
    chargebacks = world[("payments", "chargebacks")].merge(txns[["txn_id", "event_ts"]], on="txn_id")
    assert (chargebacks["event_ts_x"] >= chargebacks["event_ts_y"]).all()


def test_chargebacks_are_about_one_percent_and_mostly_fraud(world):
    chargebacks = world[("payments", "chargebacks")]
    assert len(chargebacks) == 400
    fraud = world[("risk", "fraud_labels")].set_index("txn_id")["is_fraud"]
    assert fraud.loc[chargebacks["txn_id"]].mean() > 0.6
    assert (chargebacks.loc[fraud.loc[chargebacks["txn_id"]].to_numpy(), "reason"] == "fraud").all()


def test_profiles_are_realistic(world):
    profiles = world[("customers", "profiles")]
    as_of = pd.Timestamp(AS_OF)
    assert set(profiles["country"]) == {"GB", "DE", "FR", "NL", "ES", "IT"}
    assert profiles["full_name"].map(lambda s: not s.isascii()).mean() > 0.1  # unicode names
    assert profiles["email"].str.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+").all()
    ages = profiles["date_of_birth"].map(lambda d: (AS_OF.date() - d).days / 365.25)
    assert ages.min() >= 18 and ages.max() <= 90.5
    young = (as_of - profiles["account_opened_at"]) <= pd.Timedelta(days=90)
    assert 0.06 <= young.mean() <= 0.10
    assert (as_of - profiles["account_opened_at"]).max() <= pd.Timedelta(days=8 * 365 + 1)
    assert (profiles["updated_at"] >= profiles["account_opened_at"]).all()


def test_payments_are_realistic(world):
    txns = world[("payments", "transactions")]
    profiles = world[("customers", "profiles")].set_index("customer_id")
    assert txns["event_ts"].is_monotonic_increasing
    assert txns["amount"].gt(0).all() and 20 < txns["amount"].median() < 120
    devices = txns.groupby("customer_id")["device_id"].nunique()
    assert devices.median() <= 3
    cards = txns.dropna(subset=["card_number"]).groupby("customer_id")["card_number"].nunique()
    assert cards.max() <= 2
    online = txns["channel"] == "online"
    assert txns.loc[online, "ip_address"].notna().all() and txns.loc[~online, "ip_address"].isna().all()
    gb = profiles.loc[txns["customer_id"], "country"].to_numpy() == "GB"
    assert (txns.loc[gb, "currency"] == "GBP").all() and (txns.loc[~gb, "currency"] == "EUR").all()


WORLD_DIGESTS = """
import hashlib
from datetime import datetime, timezone
from hurricane_assets.catalog import load_catalog
from hurricane_assets.synthetic import SyntheticConfig, generate_dataset
config = SyntheticConfig(transactions=2000, seed=7, as_of=datetime(2026, 6, 1, tzinfo=timezone.utc))
for domain, dataset, _ in load_catalog().datasets():
    frame = generate_dataset(config, domain, dataset)
    print(domain, dataset, hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest())
"""


def test_the_world_of_a_seed_is_the_same_in_every_process():
    """Each process hashes strings with its own seed; a draw that iterates a set (Faker's it_IT
    cities) gave support.tickets other addresses in every process, so a prod table changed between
    two runs of the same seed."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    digests = [
        subprocess.run([sys.executable, "-c", WORLD_DIGESTS], cwd=root, check=True, capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}).stdout
        for hash_seed in ("1", "2")
    ]
    assert digests[0].count("\n") == len(load_catalog().datasets())
    assert digests[0] == digests[1]
