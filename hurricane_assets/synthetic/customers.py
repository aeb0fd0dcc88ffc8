"""The customer base every other dataset draws from: identities, accounts, devices and cards.

Also holds each customer's latent traits (how active, how unhappy, how engaged), which the other
parts use so that behaviour is consistent across domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.countries import COUNTRIES, DIASPORA_LOCALES, DIASPORA_SHARE
from hurricane_assets.synthetic.identifiers import card_numbers, ibans, mobile_numbers, national_ids
from hurricane_assets.synthetic.pools import email_local_part, locale_pools
from hurricane_assets.synthetic.randomness import stream
from hurricane_assets.synthetic.timeline import US_PER_DAY, US_PER_SECOND, to_us, uniform_times, utc_column

ACCOUNT_HISTORY_DAYS = 8 * 365
YOUNG_ACCOUNT_DAYS = 90
YOUNG_ACCOUNT_SHARE = 0.08
SEGMENTS = ("mass", "affluent", "business")
SEGMENT_SHARES = (0.75, 0.18, 0.07)
MAX_DEVICES = 3
MAX_CARDS = 2


@dataclass(frozen=True)
class CustomerBase:
    ids: np.ndarray
    country: np.ndarray
    time_zone: np.ndarray
    currency: np.ndarray
    language: np.ndarray
    full_name: np.ndarray
    email: np.ndarray
    phone: np.ndarray  # E.164
    opened_us: np.ndarray
    activity: np.ndarray  # relative payment frequency
    unhappiness: np.ndarray  # latent: drives tickets, low satisfaction and churn
    engagement: np.ndarray  # latent: drives web sessions
    devices: np.ndarray  # (n, MAX_DEVICES) usual device ids, first `device_count` used
    device_count: np.ndarray
    cards: np.ndarray  # (n, MAX_CARDS) card PANs, first `card_count` used
    card_count: np.ndarray
    home_ip: np.ndarray
    profiles: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)


def hex_ids(rng: np.random.Generator, prefix: str, n: int, width: int = 12) -> np.ndarray:
    values = rng.integers(0, 16**width, size=n, dtype=np.int64)
    return np.array([f"{prefix}{v:0{width}x}" for v in values], dtype=object)


def ipv4_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    # First octet from public unicast space only (skip 0, 10, 127, 172, 192 and multicast).
    first = rng.choice(np.setdiff1d(np.arange(1, 224), [10, 100, 127, 169, 172, 192, 198, 203]), size=n)
    rest = rng.integers(0, 256, size=(n, 2))
    last = rng.integers(1, 255, size=n)
    return np.array([f"{a}.{b}.{c}.{d}" for a, (b, c), d in zip(first, rest, last)], dtype=object)


def _names(rng: np.random.Generator, seed: int, country_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pools = locale_pools(seed)
    n = len(country_idx)
    home_locales = np.array([c.locale for c in COUNTRIES])[country_idx]
    diaspora = rng.random(n) < DIASPORA_SHARE
    locales = np.where(diaspora, np.array(DIASPORA_LOCALES)[rng.integers(0, len(DIASPORA_LOCALES), size=n)], home_locales)
    full_names = np.empty(n, dtype=object)
    emails = np.empty(n, dtype=object)
    suffix = rng.integers(0, 100, size=n)
    has_suffix = rng.random(n) < 0.5
    for locale in np.unique(locales):
        rows = np.flatnonzero(locales == locale)
        pool = pools[locale]
        first = np.array(pool.first_names, dtype=object)[rng.integers(0, len(pool.first_names), size=len(rows))]
        last = np.array(pool.last_names, dtype=object)[rng.integers(0, len(pool.last_names), size=len(rows))]
        domains = np.array(pool.email_domains, dtype=object)[rng.integers(0, len(pool.email_domains), size=len(rows))]
        full_names[rows] = [f"{f} {l}" for f, l in zip(first, last)]
        emails[rows] = [
            f"{email_local_part(f, l)}{s if h else ''}@{d}"
            for f, l, s, h, d in zip(first, last, suffix[rows], has_suffix[rows], domains)
        ]
    return full_names, emails


def _postcodes(rng: np.random.Generator, seed: int, country_idx: np.ndarray) -> np.ndarray:
    pools = locale_pools(seed)
    out = np.empty(len(country_idx), dtype=object)
    for i, country in enumerate(COUNTRIES):
        rows = np.flatnonzero(country_idx == i)
        codes = np.array(pools[country.locale].postcodes, dtype=object)
        out[rows] = codes[rng.integers(0, len(codes), size=len(rows))]
    return out


def _opened_at(rng: np.random.Generator, n: int, as_of_us: int) -> np.ndarray:
    young = rng.random(n) < YOUNG_ACCOUNT_SHARE
    young_since = as_of_us - YOUNG_ACCOUNT_DAYS * US_PER_DAY
    old = uniform_times(rng, as_of_us - ACCOUNT_HISTORY_DAYS * US_PER_DAY, young_since, n)
    recent = uniform_times(rng, young_since, as_of_us - US_PER_DAY // 24, n)
    return np.where(young, recent, old)


def _dates_of_birth(rng: np.random.Generator, opened_us: np.ndarray, as_of_us: int) -> np.ndarray:
    n = len(opened_us)
    age_days = ((18 + 72 * rng.beta(2.0, 3.2, size=n)) * 365.25 * US_PER_DAY).astype(np.int64)
    # Nobody opened an account before turning 18.
    born_us = np.minimum(as_of_us - age_days, opened_us - int(18 * 365.25 * US_PER_DAY))
    return (born_us // US_PER_DAY).astype("datetime64[D]")


@lru_cache(maxsize=4)
def customer_base(config: SyntheticConfig) -> CustomerBase:
    rng = stream(config.seed, "customers")
    n = config.customers
    as_of_us = to_us(config.as_of)
    country_idx = rng.choice(len(COUNTRIES), size=n, p=[c.share for c in COUNTRIES])
    country = np.array([c.code for c in COUNTRIES])[country_idx]
    ids = np.array([f"cust_{i:07d}" for i in range(1, n + 1)], dtype=object)
    full_name, email = _names(rng, config.seed, country_idx)
    opened_us = _opened_at(rng, n, as_of_us)
    born = _dates_of_birth(rng, opened_us, as_of_us)
    birth_years = born.astype("datetime64[Y]").astype(np.int64) + 1970
    birth_months = born.astype("datetime64[M]").astype(np.int64) % 12 + 1

    device_count = rng.choice([1, 2, 3], size=n, p=[0.45, 0.40, 0.15])
    devices = hex_ids(rng, "dev_", n * MAX_DEVICES).reshape(n, MAX_DEVICES)
    card_count = rng.choice([1, 2], size=n, p=[0.7, 0.3])
    cards = card_numbers(rng, n * MAX_CARDS).reshape(n, MAX_CARDS)

    updated_us = np.maximum(opened_us, as_of_us - (rng.exponential(20.0, size=n) * US_PER_DAY).astype(np.int64))
    updated_us = np.minimum(updated_us, as_of_us)
    profiles = pd.DataFrame(
        {
            "customer_id": ids,
            "full_name": full_name,
            "email": email,
            "phone": mobile_numbers(rng, country),
            "date_of_birth": born.astype(object),
            "postcode": _postcodes(rng, config.seed, country_idx),
            "national_id": national_ids(rng, country, birth_years, birth_months),
            "iban": ibans(rng, country),
            "country": country.astype(object),
            "segment": np.array(SEGMENTS, dtype=object)[rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)],
            "account_opened_at": utc_column(opened_us),
            "updated_at": utc_column(updated_us),
        }
    )
    return CustomerBase(
        ids=ids,
        country=country,
        time_zone=np.array([c.time_zone for c in COUNTRIES])[country_idx],
        currency=np.array([c.currency for c in COUNTRIES], dtype=object)[country_idx],
        language=np.array([c.note_language for c in COUNTRIES])[country_idx],
        full_name=full_name,
        email=email,
        phone=profiles["phone"].to_numpy(),
        opened_us=opened_us,
        activity=rng.lognormal(0.0, 0.7, size=n),
        unhappiness=rng.normal(0.0, 1.0, size=n),
        engagement=rng.normal(0.0, 1.0, size=n),
        devices=devices,
        device_count=device_count,
        cards=cards,
        card_count=card_count,
        home_ip=ipv4_addresses(rng, n),
        profiles=profiles,
    )


def customer_events(
    config: SyntheticConfig, base: CustomerBase, rng: np.random.Generator, n: int, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`n` events by customers drawn in proportion to `weight`, each at a time between the customer's
    account opening (or the history start) and `as_of`, in time order: (customer index, time in µs)."""
    customer = rng.choice(len(base), size=n, p=weight / weight.sum())
    # Drawn over each customer's own open time, so event counts carry no account-age signal.
    opened = np.maximum(base.opened_us[customer], to_us(config.start))
    times_us = uniform_times(rng, opened, to_us(config.as_of) - 60 * US_PER_SECOND, n)
    by_time = np.argsort(times_us, kind="stable")
    return customer[by_time], times_us[by_time]
