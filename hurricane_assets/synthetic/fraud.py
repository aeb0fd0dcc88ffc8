"""The fraud signal, designed so the right share measurably restores a drifted model.

Two patterns:

* **Legacy fraud** (always on, ~2 %): card fraud driven only by what the risk domain's alerts
  already carry — large amounts, risky merchant categories, night-time local hours. A model on
  alerts' features reaches ROC AUC around 0.85-0.9 on it.
* **Account takeover / mule fraud** (from the drift start only): transfers over the new
  `instant_p2p` channel, from a device the customer never used before, on a young account. Its
  amount and hour follow ordinary p2p traffic, so nothing in alerts separates it from legitimate
  p2p; only channel, device novelty and account age (held by payments and customers) do.
"""

from __future__ import annotations

import numpy as np

CHANNELS = ("card_present", "online", "wallet")
CHANNEL_SHARES = (0.45, 0.35, 0.20)
P2P_CHANNEL = "instant_p2p"
P2P_CATEGORY = "p2p_transfer"

MERCHANT_CATEGORIES = (
    "groceries", "restaurants", "fuel", "travel", "fashion", "utilities",
    "entertainment", "health", "electronics", "gift_cards", "crypto",
)
MERCHANT_SHARES = np.array([0.22, 0.15, 0.09, 0.07, 0.10, 0.08, 0.07, 0.07, 0.08, 0.04, 0.03])
MERCHANT_SHARES = MERCHANT_SHARES / MERCHANT_SHARES.sum()
RISKY_CATEGORIES = ("electronics", "gift_cards", "crypto")
# log-EUR mean per category (same order); sigma is shared.
MERCHANT_LOG_MEAN = np.array([3.3, 3.4, 3.8, 5.6, 4.2, 4.3, 3.5, 3.7, 5.0, 4.0, 5.2])
AMOUNT_LOG_SIGMA = 0.75
P2P_LOG_MEAN, P2P_LOG_SIGMA = 4.9, 0.55  # p2p transfers: fewer tiny, fewer huge amounts

NIGHT_HOURS = (0, 1, 2, 3, 4, 5)

# Legacy fraud logit: intercept tuned for a ~2 % base rate.
LEGACY_INTERCEPT = -5.65
LEGACY_AMOUNT_WEIGHT = 1.15  # per unit of log amount above 4
LEGACY_RISKY_WEIGHT = 2.0
LEGACY_NIGHT_WEIGHT = 1.6

# After the drift: share of post-drift payments that are account-takeover transfers, and the
# share of legitimate post-drift payments that move to instant_p2p (together ~27 % p2p).
ATO_SHARE = 0.032
LEGIT_P2P_SHARE = 0.245
ATO_ON_YOUNG_ACCOUNT = 0.9  # the rest take over established accounts
ATO_ON_NEW_DEVICE = 0.95
NEW_DEVICE_RATE = 0.02  # legitimate payments from a device the customer never used
NEW_DEVICE_RATE_P2P = 0.04


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def legacy_fraud_logit(amount: np.ndarray, risky: np.ndarray, night: np.ndarray) -> np.ndarray:
    return (
        LEGACY_INTERCEPT
        + LEGACY_AMOUNT_WEIGHT * (np.log(amount) - 4.0)
        + LEGACY_RISKY_WEIGHT * risky
        + LEGACY_NIGHT_WEIGHT * night
    )


def rule_scores(rng: np.random.Generator, amount: np.ndarray, risky: np.ndarray, night: np.ndarray) -> np.ndarray:
    """The legacy rule engine: thresholds on what it sees, plus the noise of hand-tuned rules."""
    raw = (
        0.30 * (amount > 400)
        + 0.15 * (amount > 1500)
        + 0.25 * risky
        + 0.15 * night
        + 0.10 * np.clip(np.log(amount) / 8.0, 0, 1)
        + rng.normal(0.0, 0.12, size=len(amount))
    )
    return np.round(np.clip(raw, 0.0, 1.0), 4)
