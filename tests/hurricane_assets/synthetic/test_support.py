from __future__ import annotations

import re

from hurricane_assets.synthetic.support import labelled_tickets, masked_card
from tests.hurricane_assets.synthetic.conftest import DRIFTED


def test_ticket_bodies_carry_the_writers_pii(world):
    tickets = world[("support", "tickets")]
    profiles = world[("customers", "profiles")].set_index("customer_id")
    rows = profiles.loc[tickets["customer_id"]]
    labelled = labelled_tickets(DRIFTED)
    # Every body names its writer (in some case or form) and carries a contact detail.
    for name, message in zip(rows["full_name"], labelled):
        people = [message.text[s:e].casefold() for s, e, entity in message.spans if entity == "PERSON"]
        assert any(part.casefold() in p for p in people for part in name.split(" ")), (name, message.text)
        assert {"EMAIL_ADDRESS", "PHONE_NUMBER"} & {entity for _, _, entity in message.spans}
    with_email = [any(e == "EMAIL_ADDRESS" for _, _, e in m.spans) for m in labelled]
    with_phone = [any(e == "PHONE_NUMBER" for _, _, e in m.spans) for m in labelled]
    assert 0.3 < sum(with_email) / len(labelled) < 0.9
    assert 0.3 < sum(with_phone) / len(labelled) < 0.8


def test_phones_appear_in_several_formats(world):
    bodies = " ".join(world[("support", "tickets")]["body"])
    assert re.search(r"\+44 7400 \d{6}", bodies)  # international
    assert re.search(r"07400 \d{6}", bodies)  # national
    assert re.search(r"\+447400\d{6}", bodies)  # E.164
    assert re.search(r"\(020\) 7946 0\d{3}", bodies)  # a London landline


def test_some_bodies_quote_a_card_fragment(world):
    tickets = world[("support", "tickets")]
    quoted = tickets["body"].str.contains(r"\d{4} \d{2}\*\* \*\*\*\* \d{4}|\*\*\*\* \d{4}|\d{6}\*{6}\d{4}")
    assert 0.05 < quoted.mean() < 0.3
    assert masked_card("4111111111111111", 1) == "4111 11** **** 1111"


def test_tickets_are_written_in_several_languages(world):
    bodies = world[("support", "tickets")]["body"]
    for greeting in ("Hello,", "Hallo,", "Bonjour,", "Hola,"):
        assert bodies.str.startswith(greeting).any(), greeting


def test_satisfaction_is_nullable_and_in_range(world):
    satisfaction = world[("support", "tickets")]["satisfaction"]
    assert 0.2 < satisfaction.isna().mean() < 0.4
    assert satisfaction.dropna().between(1, 5).all()
