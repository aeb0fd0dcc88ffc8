"""The generator's labels: every span of personal data it writes, where it wrote it, deterministic."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from hurricane_assets.masking.freetext.patterns import plain_email
from hurricane_assets.synthetic import SyntheticConfig, generate
from hurricane_assets.synthetic.customers import customer_base
from hurricane_assets.synthetic.marketing import labelled_notes
from hurricane_assets.synthetic.support import labelled_tickets
from hurricane_assets.synthetic.ticket_text import ENTITIES, labelled_messages

CONFIG = SyntheticConfig(transactions=4_000, seed=5, as_of=datetime(2026, 6, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def messages():
    return labelled_messages(CONFIG, 3_000)


def compact(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum()).upper()


def test_labels_point_at_the_values_of_the_customer_base(messages):
    profiles = customer_base(CONFIG).profiles
    emails = set(profiles["email"])
    ibans, ids = set(profiles["iban"]), set(profiles["national_id"])
    cards = {c[-4:] for c in customer_base(CONFIG).cards[:, 0]}
    for message in messages:
        previous_end = 0
        for start, end, entity in message.spans:
            assert 0 <= previous_end <= start < end <= len(message.text)  # sorted, inside, no overlap
            previous_end = end
            value = message.text[start:end]
            assert value == value.strip() and entity in ENTITIES
            if entity == "EMAIL_ADDRESS":
                assert plain_email(value) in emails, value
            elif entity == "IBAN_CODE":
                assert compact(value) in ibans
            elif entity == "NATIONAL_ID":
                assert compact(value).replace("CLÉ", "") in ids  # "… 089 clé 93": the NIR's key apart
            elif entity == "CREDIT_CARD":
                assert value[-4:] in cards


def test_messages_are_as_messy_as_real_tickets(messages):
    counts = Counter(entity for m in messages for _, _, entity in m.spans)
    assert all(counts[e] >= 100 for e in ENTITIES), counts
    values = [m.text[s:e] for m in messages for s, e, entity in m.spans if entity == "PERSON"]
    assert any(v.islower() and " " in v for v in values) and any(v.isupper() and " " in v for v in values)
    assert any(", " in v for v in values)  # "Doe, Jane"
    assert any(" van " in f" {v.lower()} " or " de " in f" {v.lower()} " for v in values)  # particles
    emails = [m.text[s:e] for m in messages for s, e, entity in m.spans if entity == "EMAIL_ADDRESS"]
    assert any(" at " in v and " dot " in v for v in emails) and any("[at]" in v for v in emails)
    cards = [m.text[s:e] for m in messages for s, e, entity in m.spans if entity == "CREDIT_CARD"]
    assert any(v.startswith("****") for v in cards) and any("******" in v for v in cards)
    assert any(len(v) == 4 for v in cards)  # "the card ending in 4242"
    texts = " ".join(m.text for m in messages)
    assert "Order #" in texts and "\n" in texts  # look-alike numbers and line breaks


def test_labels_and_tables_are_deterministic_for_a_seed(messages):
    assert labelled_messages(CONFIG, 3_000) == messages
    other = labelled_messages(SyntheticConfig(transactions=4_000, seed=6, as_of=CONFIG.as_of), 50)
    assert [m.text for m in other] != [m.text for m in messages[:50]]


def test_table_bodies_are_the_labelled_texts_and_the_labels_are_not_stored():
    config = SyntheticConfig(transactions=2_000, seed=5, as_of=CONFIG.as_of)
    frames = generate(config)
    tickets = frames[("support", "tickets")]
    assert list(tickets["body"]) == [t.text for t in labelled_tickets(config)]
    notes = frames[("marketing", "web_sessions")]["campaign_notes"]
    for row, text in labelled_notes(config).items():
        assert notes.iloc[row] == text.text
    assert set(tickets.columns) == {"ticket_id", "customer_id", "category", "priority", "body", "satisfaction",
                                    "created_at"}
