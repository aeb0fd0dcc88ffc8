"""support.tickets: who writes in, about what, how satisfied, and the messages themselves."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers

from hurricane_assets.synthetic import messages
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.customers import customer_base, customer_events
from hurricane_assets.synthetic.randomness import stream
from hurricane_assets.synthetic.ticket_text import LabelledText, ticket_texts
from hurricane_assets.synthetic.timeline import utc_column

TICKETS_PER_TRANSACTION = 1 / 20
UNRATED_SHARE = 0.3
PHONE_STYLES = (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.E164)


def written_phone(e164: str, style: int) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), PHONE_STYLES[style])


def masked_card(pan: str, style: int) -> str:
    """How people quote a card: the last four digits only, or the first six and the last four."""
    if style == 0:
        return f"**** **** **** {pan[-4:]}"
    return f"{pan[:4]} {pan[4:6]}** **** {pan[-4:]}"


def tickets(config: SyntheticConfig) -> pd.DataFrame:
    return _tickets(config)[0]


def labelled_tickets(config: SyntheticConfig) -> tuple[LabelledText, ...]:
    """Each ticket's body with its labelled personal-data spans, in the rows' order (never stored)."""
    return _tickets(config)[1]


@lru_cache(maxsize=4)
def _tickets(config: SyntheticConfig) -> tuple[pd.DataFrame, tuple[LabelledText, ...]]:
    base = customer_base(config)
    rng = stream(config.seed, "tickets")
    n = max(20, round(config.transactions * TICKETS_PER_TRANSACTION))
    weight = np.exp(0.9 * base.unhappiness)
    customer, created_us = customer_events(config, base, rng, n, weight)
    category = np.array(messages.TICKET_CATEGORIES)[rng.integers(0, len(messages.TICKET_CATEGORIES), size=n)]
    score = np.clip(np.round(3.6 - 0.8 * base.unhappiness[customer] + rng.normal(0, 0.7, size=n)), 1, 5)
    satisfaction = np.where(rng.random(n) < UNRATED_SHARE, np.nan, score)
    priority = rng.choice([1, 2, 3, 4], size=n, p=[0.1, 0.25, 0.4, 0.25])
    texts = tuple(ticket_texts(config, base, rng, customer, category))
    frame = pd.DataFrame(
        {
            "ticket_id": np.array([f"tk_{i:08d}" for i in range(1, n + 1)], dtype=object),
            "customer_id": base.ids[customer],
            "category": category.astype(object),
            "priority": priority,
            "body": np.array([t.text for t in texts], dtype=object),
            "satisfaction": satisfaction,
            "created_at": utc_column(created_us),
        }
    )
    return frame, texts
