"""payments.transactions and payments.chargebacks, plus the per-payment facts risk screens.

Payments are drawn as one time-ordered stream; from the drift start a share of them move to the
new `instant_p2p` channel and account-takeover transfers are mixed in (see `fraud.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from hurricane_assets.synthetic import fraud
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.customers import (
    YOUNG_ACCOUNT_DAYS,
    CustomerBase,
    customer_base,
    hex_ids,
    ipv4_addresses,
)
from hurricane_assets.synthetic.randomness import stream
from hurricane_assets.synthetic.timeline import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    diurnal_times,
    local_hours,
    to_us,
    utc_column,
)

CHARGEBACK_SHARE = 0.01
CHARGEBACKS_FROM_FRAUD = 0.7
DISPUTE_REASONS = ("not_received", "not_as_described", "duplicate", "cancelled_subscription")
HOME_IP_SHARE = 0.85


@dataclass(frozen=True)
class PaymentFlow:
    txn_ids: np.ndarray
    customer: np.ndarray  # index into the customer base
    event_us: np.ndarray
    amount: np.ndarray
    merchant_category: np.ndarray
    channel: np.ndarray
    local_hour: np.ndarray
    risky: np.ndarray
    night: np.ndarray
    is_fraud: np.ndarray
    account_takeover: np.ndarray
    transactions: pd.DataFrame
    chargebacks: pd.DataFrame

    def __len__(self) -> int:
        return len(self.txn_ids)


def _pick_active_customers(
    rng: np.random.Generator, base: CustomerBase, event_us: np.ndarray, order: np.ndarray, opened_sorted: np.ndarray
) -> np.ndarray:
    """For each event, a customer whose account was open by then, weighted by how active they are."""
    cumulative = np.cumsum(base.activity[order])
    open_count = np.searchsorted(opened_sorted, event_us, side="left")
    if (open_count == 0).any():
        raise ValueError("a payment precedes every account opening; the customer base is too young")
    draw = rng.random(len(event_us)) * cumulative[open_count - 1]
    position = np.minimum(np.searchsorted(cumulative, draw, side="right"), open_count - 1)
    return order[position]


def _pick_young_accounts(
    rng: np.random.Generator, event_us: np.ndarray, order: np.ndarray, opened_sorted: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """For each event, a customer whose account opened within YOUNG_ACCOUNT_DAYS before it."""
    low = np.searchsorted(opened_sorted, event_us - YOUNG_ACCOUNT_DAYS * US_PER_DAY, side="left")
    high = np.searchsorted(opened_sorted, event_us - US_PER_HOUR, side="left")
    position = low + (rng.random(len(event_us)) * (high - low)).astype(np.int64)
    return np.where(high > low, order[np.minimum(position, len(order) - 1)], fallback)


def _amounts(rng: np.random.Generator, category_idx: np.ndarray, p2p: np.ndarray) -> np.ndarray:
    log_amount = np.where(
        p2p,
        rng.normal(fraud.P2P_LOG_MEAN, fraud.P2P_LOG_SIGMA, size=len(p2p)),
        rng.normal(fraud.MERCHANT_LOG_MEAN[np.minimum(category_idx, len(fraud.MERCHANT_LOG_MEAN) - 1)],
                   fraud.AMOUNT_LOG_SIGMA),
    )
    return np.round(np.clip(np.exp(log_amount), 0.5, 50_000.0), 2)


@lru_cache(maxsize=4)
def payment_flow(config: SyntheticConfig) -> PaymentFlow:
    base = customer_base(config)
    rng = stream(config.seed, "payments")
    n = config.transactions
    as_of_us = to_us(config.as_of)
    start_us = to_us(config.start)
    event_us = diurnal_times(rng, n, start_us, as_of_us - 60 * US_PER_SECOND)

    post = np.zeros(n, dtype=bool) if config.drift_start is None else event_us >= to_us(config.drift_start)
    takeover = post & (rng.random(n) < fraud.ATO_SHARE)
    p2p = takeover | (post & (rng.random(n) < fraud.LEGIT_P2P_SHARE))

    order = np.argsort(base.opened_us, kind="stable")
    opened_sorted = base.opened_us[order]
    customer = _pick_active_customers(rng, base, event_us, order, opened_sorted)
    on_young = takeover & (rng.random(n) < fraud.ATO_ON_YOUNG_ACCOUNT)
    customer = np.where(on_young, _pick_young_accounts(rng, event_us, order, opened_sorted, customer), customer)

    channel = np.array(fraud.CHANNELS, dtype=object)[rng.choice(len(fraud.CHANNELS), size=n, p=fraud.CHANNEL_SHARES)]
    channel[p2p] = fraud.P2P_CHANNEL
    category_idx = rng.choice(len(fraud.MERCHANT_CATEGORIES), size=n, p=fraud.MERCHANT_SHARES)
    merchant_category = np.array(fraud.MERCHANT_CATEGORIES, dtype=object)[category_idx]
    merchant_category[p2p] = fraud.P2P_CATEGORY
    amount = _amounts(rng, category_idx, p2p)

    new_device_rate = np.where(p2p, fraud.NEW_DEVICE_RATE_P2P, fraud.NEW_DEVICE_RATE)
    new_device_rate[takeover] = fraud.ATO_ON_NEW_DEVICE
    new_device = rng.random(n) < new_device_rate
    usual_slot = (rng.random(n) * base.device_count[customer]).astype(np.int64)
    device = np.where(new_device, hex_ids(rng, "dev_", n), base.devices[customer, usual_slot])

    card_slot = (rng.random(n) * base.card_count[customer]).astype(np.int64)
    card = np.where(p2p, None, base.cards[customer, card_slot])
    online = np.flatnonzero(channel == "online")
    ip = np.full(n, None, dtype=object)
    ip[online] = np.where(
        rng.random(len(online)) < HOME_IP_SHARE, base.home_ip[customer[online]], ipv4_addresses(rng, len(online))
    )

    local_hour = local_hours(event_us, base.time_zone[customer])
    risky = np.isin(merchant_category, fraud.RISKY_CATEGORIES)
    night = np.isin(local_hour, fraud.NIGHT_HOURS)
    legacy = rng.random(n) < fraud.sigmoid(fraud.legacy_fraud_logit(amount, risky, night))
    is_fraud = legacy | takeover

    txn_ids = np.array([f"txn_{i:09d}" for i in range(1, n + 1)], dtype=object)
    transactions = pd.DataFrame(
        {
            "txn_id": txn_ids,
            "customer_id": base.ids[customer],
            "amount": amount,
            "currency": base.currency[customer],
            "channel": channel,
            "merchant_category": merchant_category,
            "device_id": device,
            "card_number": card,
            "ip_address": ip,
            "event_ts": utc_column(event_us),
        }
    )
    flow = dict(
        txn_ids=txn_ids, customer=customer, event_us=event_us, amount=amount,
        merchant_category=merchant_category, channel=channel, local_hour=local_hour,
        risky=risky, night=night, is_fraud=is_fraud, account_takeover=takeover,
    )
    return PaymentFlow(**flow, transactions=transactions,
                       chargebacks=_chargebacks(config, base, flow, as_of_us))


def _chargebacks(config: SyntheticConfig, base: CustomerBase, flow: dict, as_of_us: int) -> pd.DataFrame:
    rng = stream(config.seed, "chargebacks")
    n_total = max(1, round(CHARGEBACK_SHARE * len(flow["txn_ids"])))
    fraud_rows = np.flatnonzero(flow["is_fraud"])
    legit_rows = np.flatnonzero(~flow["is_fraud"])
    n_fraud = min(len(fraud_rows), round(CHARGEBACKS_FROM_FRAUD * n_total))
    rows = np.concatenate([
        rng.choice(fraud_rows, size=n_fraud, replace=False),
        rng.choice(legit_rows, size=n_total - n_fraud, replace=False),
    ])
    delay = ((1.0 + rng.exponential(6.0, size=len(rows))) * US_PER_DAY).astype(np.int64)
    raised_us = np.minimum(flow["event_us"][rows] + delay, as_of_us)
    reason = np.where(
        flow["is_fraud"][rows],
        "fraud",
        np.array(DISPUTE_REASONS, dtype=object)[rng.integers(0, len(DISPUTE_REASONS), size=len(rows))],
    ).astype(object)
    by_time = np.argsort(raised_us, kind="stable")
    rows, raised_us, reason = rows[by_time], raised_us[by_time], reason[by_time]
    return pd.DataFrame(
        {
            "chargeback_id": np.array([f"cb_{i:08d}" for i in range(1, len(rows) + 1)], dtype=object),
            "txn_id": flow["txn_ids"][rows],
            "customer_id": base.ids[flow["customer"][rows]],
            "amount": flow["amount"][rows],
            "reason": reason,
            "event_ts": utc_column(raised_us),
        }
    )
