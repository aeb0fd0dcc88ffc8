"""marketing.web_sessions and marketing.churn_labels.

Churn is driven by support experience (many tickets, low satisfaction) and by low web activity,
so a churn model on web sessions alone is measurably weaker than one that also gets support data.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from hurricane_assets.synthetic import messages
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.customers import customer_base, customer_events
from hurricane_assets.synthetic.fraud import sigmoid
from hurricane_assets.synthetic.randomness import stream
from hurricane_assets.synthetic.support import tickets
from hurricane_assets.synthetic.ticket_text import LabelledText, note_texts
from hurricane_assets.synthetic.timeline import US_PER_HOUR, to_us, utc_column

SESSIONS_PER_TRANSACTION = 1 / 2
CAMPAIGN_SHARE = 0.35
NOTE_SHARE = 0.12  # of campaign sessions
PERSONAL_NOTE_SHARE = 0.4  # of notes

CHURN_INTERCEPT = -2.3
CHURN_PER_TICKET = 0.8
CHURN_PER_DISSATISFACTION = 0.7  # per CSAT point below 3
CHURN_PER_ACTIVITY = -0.9  # per standard deviation of log session count


def _notes(config: SyntheticConfig, base, rng: np.random.Generator, customer: np.ndarray,
           has_campaign: np.ndarray) -> tuple[np.ndarray, dict[int, LabelledText]]:
    n = len(customer)
    notes = np.full(n, None, dtype=object)
    rows = np.flatnonzero(has_campaign & (rng.random(n) < NOTE_SHARE))
    personal = rng.random(len(rows)) < PERSONAL_NOTE_SHARE
    plain = rng.integers(0, len(messages.NOTES_PLAIN), size=len(rows))
    notes[rows[~personal]] = [messages.NOTES_PLAIN[q] for q in plain[~personal]]
    written = note_texts(config, base, rng, customer[rows[personal]])
    notes[rows[personal]] = [t.text for t in written]
    return notes, dict(zip(rows[personal].tolist(), written))


def web_sessions(config: SyntheticConfig) -> pd.DataFrame:
    return _web_sessions(config)[0]


def labelled_notes(config: SyntheticConfig) -> dict[int, LabelledText]:
    """Row number -> labelled campaign note, for the notes that mention a customer (never stored)."""
    return _web_sessions(config)[1]


@lru_cache(maxsize=4)
def _web_sessions(config: SyntheticConfig) -> tuple[pd.DataFrame, dict[int, LabelledText]]:
    base = customer_base(config)
    rng = stream(config.seed, "web_sessions")
    n = max(100, round(config.transactions * SESSIONS_PER_TRANSACTION))
    weight = np.exp(0.7 * base.engagement)
    customer, start_us = customer_events(config, base, rng, n, weight)
    pages = 1 + rng.poisson(np.exp(1.3 + 0.25 * base.engagement[customer]))
    duration = np.round(pages * rng.gamma(2.0, 25.0, size=n), 1)
    has_campaign = rng.random(n) < CAMPAIGN_SHARE
    campaign = np.where(
        has_campaign, np.array(messages.CAMPAIGNS, dtype=object)[rng.integers(0, len(messages.CAMPAIGNS), size=n)], None
    )
    notes, labelled = _notes(config, base, rng, customer, has_campaign)
    frame = pd.DataFrame(
        {
            "session_id": np.array([f"ws_{i:09d}" for i in range(1, n + 1)], dtype=object),
            "customer_id": base.ids[customer],
            "pages_viewed": pages,
            "duration_s": duration,
            "campaign": campaign,
            "campaign_notes": notes,
            "event_ts": utc_column(start_us),
        }
    )
    return frame, labelled


def churn_labels(config: SyntheticConfig) -> pd.DataFrame:
    base = customer_base(config)
    rng = stream(config.seed, "churn_labels")
    index = pd.Index(base.ids)
    ticket_frame = tickets(config)
    per_customer = ticket_frame.groupby("customer_id")["satisfaction"]
    ticket_count = per_customer.size().reindex(index, fill_value=0).to_numpy()
    mean_satisfaction = per_customer.mean().reindex(index).to_numpy()
    sessions = web_sessions(config)["customer_id"].value_counts().reindex(index, fill_value=0).to_numpy()
    activity = np.log1p(sessions)
    activity = (activity - activity.mean()) / (activity.std() or 1.0)
    dissatisfaction = np.nan_to_num(np.clip(3.0 - mean_satisfaction, 0, None), nan=0.0)
    logit = (
        CHURN_INTERCEPT
        + CHURN_PER_TICKET * np.minimum(ticket_count, 4)
        + CHURN_PER_DISSATISFACTION * dissatisfaction
        + CHURN_PER_ACTIVITY * activity
    )
    labelled_us = to_us(config.as_of) - rng.integers(1 * US_PER_HOUR, 6 * US_PER_HOUR, size=len(base))
    return pd.DataFrame(
        {
            "customer_id": base.ids,
            "churned": rng.random(len(base)) < sigmoid(logit),
            "labelled_at": utc_column(labelled_us),
        }
    )
