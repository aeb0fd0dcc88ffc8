"""risk.alerts (the legacy rule engine's view of every payment) and risk.fraud_labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hurricane_assets.synthetic import fraud
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.customers import customer_base
from hurricane_assets.synthetic.payments import payment_flow
from hurricane_assets.synthetic.randomness import stream
from hurricane_assets.synthetic.timeline import US_PER_DAY, US_PER_SECOND, to_us, utc_column


def alerts(config: SyntheticConfig) -> pd.DataFrame:
    flow = payment_flow(config)
    base = customer_base(config)
    rng = stream(config.seed, "alerts")
    n = len(flow)
    # Screening runs seconds after the payment; payments stop a minute before as_of.
    created_us = flow.event_us + rng.integers(1 * US_PER_SECOND, 8 * US_PER_SECOND, size=n)
    return pd.DataFrame(
        {
            "alert_id": np.array([f"al_{i:09d}" for i in range(1, n + 1)], dtype=object),
            "txn_id": flow.txn_ids,
            "customer_id": base.ids[flow.customer],
            "amount": flow.amount,
            "merchant_category": flow.merchant_category,
            "hour_of_day": flow.local_hour,
            "rule_score": fraud.rule_scores(rng, flow.amount, flow.risky, flow.night),
            "created_at": utc_column(created_us),
        }
    )


def fraud_labels(config: SyntheticConfig) -> pd.DataFrame:
    flow = payment_flow(config)
    base = customer_base(config)
    rng = stream(config.seed, "fraud_labels")
    n = len(flow)
    # Confirmed fraud takes days (customer reports, chargebacks); clean payments close in hours.
    delay_days = np.where(flow.is_fraud, 1.0 + rng.exponential(4.0, size=n), rng.uniform(0.05, 1.0, size=n))
    labelled_us = np.minimum(flow.event_us + (delay_days * US_PER_DAY).astype(np.int64), to_us(config.as_of))
    return pd.DataFrame(
        {
            "txn_id": flow.txn_ids,
            "customer_id": base.ids[flow.customer],
            "is_fraud": flow.is_fraud.astype(bool),
            "labelled_at": utc_column(labelled_us),
        }
    )
