"""support.tickets: who writes in, about what, how satisfied, and the messages themselves."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers

from hurricane_assets.synthetic import messages
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.customers import CustomerBase, customer_base, customer_events
from hurricane_assets.synthetic.identifiers import london_landlines
from hurricane_assets.synthetic.randomness import stream
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


def _bodies(rng: np.random.Generator, base: CustomerBase, customer: np.ndarray, category: np.ndarray) -> list[str]:
    n = len(customer)
    with_intro = rng.random(n) < 0.9
    with_phone = rng.random(n) < 0.55
    with_email = (rng.random(n) < 0.5) | ~with_phone  # every body carries a contact detail
    with_card = rng.random(n) < 0.15
    phone_style = rng.integers(0, len(PHONE_STYLES), size=n)
    card_style = rng.integers(0, 2, size=n)
    landline = (base.country[customer] == "GB") & (rng.random(n) < 0.2)
    landlines = london_landlines(rng, n)
    bodies = []
    for i in range(n):
        c = customer[i]
        lang = base.language[c]
        name = base.full_name[c]
        parts = [messages.GREETING[lang]]
        if with_intro[i]:
            parts.append(messages.INTRO[lang].format(name=name))
        parts.append(messages.ISSUES[lang][category[i]])
        if with_card[i]:
            parts.append(messages.CARD[lang].format(card=masked_card(base.cards[c, 0], card_style[i])))
        if with_phone[i]:
            phone = landlines[i] if landline[i] else written_phone(base.phone[c], phone_style[i])
            parts.append(messages.CALL_ME[lang].format(phone=phone))
        if with_email[i]:
            parts.append(messages.MAIL_ME[lang].format(email=base.email[c]))
        # Without an introduction the writer signs with the full name, so every body names them.
        parts.append(messages.SIGN_OFF[lang].format(first=name.split(" ")[0] if with_intro[i] else name))
        bodies.append(" ".join(parts))
    return bodies


@lru_cache(maxsize=4)
def tickets(config: SyntheticConfig) -> pd.DataFrame:
    base = customer_base(config)
    rng = stream(config.seed, "tickets")
    n = max(20, round(config.transactions * TICKETS_PER_TRANSACTION))
    weight = np.exp(0.9 * base.unhappiness)
    customer, created_us = customer_events(config, base, rng, n, weight)
    category = np.array(messages.TICKET_CATEGORIES)[rng.integers(0, len(messages.TICKET_CATEGORIES), size=n)]
    score = np.clip(np.round(3.6 - 0.8 * base.unhappiness[customer] + rng.normal(0, 0.7, size=n)), 1, 5)
    satisfaction = np.where(rng.random(n) < UNRATED_SHARE, np.nan, score)
    return pd.DataFrame(
        {
            "ticket_id": np.array([f"tk_{i:08d}" for i in range(1, n + 1)], dtype=object),
            "customer_id": base.ids[customer],
            "category": category.astype(object),
            "priority": rng.choice([1, 2, 3, 4], size=n, p=[0.1, 0.25, 0.4, 0.25]),
            "body": _bodies(rng, base, customer, category),
            "satisfaction": satisfaction,
            "created_at": utc_column(created_us),
        }
    )
