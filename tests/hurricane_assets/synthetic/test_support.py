from __future__ import annotations

import re

import phonenumbers

from hurricane_assets.synthetic.support import masked_card


def test_ticket_bodies_carry_the_writers_pii(world):
    tickets = world[("support", "tickets")]
    profiles = world[("customers", "profiles")].set_index("customer_id")
    rows = profiles.loc[tickets["customer_id"]]
    bodies = tickets["body"].tolist()
    assert all(name in body for name, body in zip(rows["full_name"], bodies))
    with_email = [email in body for email, body in zip(rows["email"], bodies)]
    with_phone = []
    for body, phone in zip(bodies, rows["phone"]):
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
        found = {phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                 for m in phonenumbers.PhoneNumberMatcher(body, region)}
        with_phone.append(phone in found)
    assert all(e or p or "7946 0" in b for e, p, b in zip(with_email, with_phone, bodies))
    assert 0.3 < sum(with_email) / len(bodies) < 0.9
    assert 0.3 < sum(with_phone) / len(bodies) < 0.8


def test_phones_appear_in_several_formats(world):
    bodies = " ".join(world[("support", "tickets")]["body"])
    assert re.search(r"\+44 7400 \d{6}", bodies)  # international
    assert re.search(r"07400 \d{6}", bodies)  # national
    assert re.search(r"\+447400\d{6}", bodies)  # E.164
    assert re.search(r"\(020\) 7946 0\d{3}", bodies)  # a London landline


def test_some_bodies_quote_a_card_fragment(world):
    tickets = world[("support", "tickets")]
    quoted = tickets["body"].str.contains(r"\d{4} \d{2}\*\* \*\*\*\* \d{4}|\*\*\*\* \*\*\*\* \*\*\*\* \d{4}")
    assert 0.08 < quoted.mean() < 0.25
    assert masked_card("4111111111111111", 1) == "4111 11** **** 1111"


def test_tickets_are_written_in_several_languages(world):
    bodies = world[("support", "tickets")]["body"]
    for greeting in ("Hello,", "Hallo,", "Bonjour,", "Hola,"):
        assert bodies.str.startswith(greeting).any(), greeting


def test_satisfaction_is_nullable_and_in_range(world):
    satisfaction = world[("support", "tickets")]["satisfaction"]
    assert 0.2 < satisfaction.isna().mean() < 0.4
    assert satisfaction.dropna().between(1, 5).all()
