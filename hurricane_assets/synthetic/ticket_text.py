"""Messages as messy as real tickets, with every span of personal data they contain labelled.

The generator knows each span it writes, so it returns it with the text: `LabelledText.spans` holds
(start, end, entity) per span, the entity one of `ENTITIES`. The labels never go into the prod
tables; `labelled_messages(config, n)` and `labelled_tickets(config)` return them for evaluation.

A message is assembled piece by piece (`TextBuilder`), so the offsets stay right whatever case or
layout a piece is written in. Choices per message come from a `random.Random` seeded from the
dataset's numpy stream: deterministic for a seed, and cheap per scalar draw.

A few values (RARE_LAYOUT_RATE) are written in a rarer layout (`RareLayouts`: "111-22-2333",
"March 3rd, 1987", "jsmith(at)gmx(punkt)de", "Hans von der Heyde", …), drawn from a stream of their own
so every other choice stays as it was; `LabelledText.layouts` names them, so the evaluation reports
recall per rare layout and not only diluted in its entity.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import phonenumbers

from hurricane_assets.synthetic import messages
from hurricane_assets.synthetic.config import SyntheticConfig
from hurricane_assets.synthetic.countries import COUNTRIES
from hurricane_assets.synthetic.customers import CustomerBase, customer_base
from hurricane_assets.synthetic.pools import locale_pools, seeded_faker
from hurricane_assets.synthetic.randomness import stream

PERSON, EMAIL, PHONE, NATIONAL_ID, IBAN, CARD = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "NATIONAL_ID", "IBAN_CODE", "CREDIT_CARD")
DATE_OF_BIRTH, POSTCODE, STREET, TOWN = "DATE_OF_BIRTH", "LOCATION", "STREET_ADDRESS", "TOWN"
ENTITIES = (PERSON, EMAIL, PHONE, NATIONAL_ID, IBAN, CARD, DATE_OF_BIRTH, POSTCODE, STREET, TOWN)
# Names of people other than the writer come from these locales too: Faker lists the detector's
# gazetteer does not hold, so the evaluation can report recall on names outside any list.
OTHER_NAME_LOCALES = ("yo_NG", "zu_ZA", "tw_GH", "sw")
STREETS_PER_COUNTRY = 120

Piece = tuple[str, str | None] | tuple[str, str | None, str]  # text, entity label or None[, rare layout]
RARE_LAYOUT_RATE = 0.05  # share of values of each kind written in one of the rare layouts


@dataclass(frozen=True)
class LabelledText:
    text: str
    spans: tuple[tuple[int, int, str], ...]
    layouts: tuple[tuple[int, int, str], ...] = ()  # (start, end, rare layout) of spans written in one

    def values(self, entity: str | None = None) -> list[str]:
        return [self.text[s:e] for s, e, label in self.spans if entity is None or label == entity]


class TextBuilder:
    """Appends pieces and records where labelled ones land; `case` applies to every piece."""

    def __init__(self, case: Callable[[str], str] = str):
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.layouts: list[tuple[int, int, str]] = []
        self.length = 0
        self.case = case

    def add(self, text: str, label: str | None = None, layout: str | None = None) -> None:
        text = self.case(text)
        if label and text:
            self.spans.append((self.length, self.length + len(text), label))
            if layout:
                self.layouts.append((self.length, self.length + len(text), layout))
        self.parts.append(text)
        self.length += len(text)

    def fill(self, template: str, values: dict[str, Sequence[Piece]]) -> None:
        for literal, field, _, _ in string.Formatter().parse(template):
            if literal:
                self.add(literal)
            if field is not None:
                for piece in values[field]:
                    self.add(*piece)

    def build(self) -> LabelledText:
        return LabelledText("".join(self.parts), tuple(self.spans), tuple(self.layouts))


# --- how people write each kind of value -----------------------------------------------------

def written_name(r: random.Random, first: str, last: str, lang: str) -> list[Piece]:
    roll = r.random()
    if roll < 0.55:
        return [(f"{first} {last}", PERSON)]
    if roll < 0.65:
        return [(f"{first} {last}".lower(), PERSON)]
    if roll < 0.72:
        return [(f"{first} {last}".upper(), PERSON)]
    if roll < 0.77:
        return [(f"{last}, {first}", PERSON)]
    if roll < 0.82:
        return [(f"{first[0]}. {last}", PERSON)]
    if roll < 0.92:
        return [(r.choice(messages.TITLES[lang]) + " ", None), (last, PERSON)]
    return [(first, PERSON)]


@lru_cache(maxsize=200_000)
def _phone_layouts(e164: str) -> tuple[str, str]:
    number = phonenumbers.parse(e164)
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def written_phone(r: random.Random, e164: str, country: str) -> str:
    national, international = _phone_layouts(e164)
    style = r.randrange(9)
    if style == 0:
        return e164
    if style == 1:
        return international
    if style == 2:
        return national
    if style == 3:
        return "".join(ch for ch in national if ch.isdigit())
    if style == 4:
        return national.replace(" ", "-")
    if style == 5:
        return "00" + international[1:]
    if style == 6:  # "+44 (0)7400 123456": the trunk zero kept in brackets
        code, rest = international.split(" ", 1)
        return f"{code} (0){rest}" if country in ("GB", "DE", "NL") else international
    if style == 7:  # the French habit: 06.12.34.56.78
        digits = "".join(ch for ch in national if ch.isdigit())
        return ".".join(digits[i:i + 2] for i in range(0, 10, 2)) if country == "FR" else national
    return international.replace(" ", "")[:3] + " " + national.lstrip("0") if country != "IT" else international


def london_landline(r: random.Random) -> str:
    """Ofcom's drama range for London, written as people do: (020) 7946 0xxx."""
    return f"(020) 7946 0{r.randrange(1000):03d}"


def written_email(r: random.Random, email: str) -> str:
    local, domain = email.split("@", 1)
    style = r.randrange(10)
    if style < 5:
        return email
    if style == 5:
        return email.upper()
    if style == 6:
        return f"{local} at {' dot '.join(domain.split('.'))}"
    if style == 7:
        return f"{local}[at]{'[dot]'.join(domain.split('.'))}"
    if style == 8:
        return f"{local} (at) {domain}"
    return f"{local} @ {domain}"


def written_card(r: random.Random, pan: str, lang: str) -> tuple[str, list[Piece]]:
    """(template, pieces): a full or partial card number, and the sentence that carries it."""
    style = r.randrange(9)
    groups = " ".join(pan[i:i + 4] for i in range(0, 16, 4))
    template = r.choice(messages.CARD_MORE[lang])
    if style == 0:
        return template, [(groups, CARD)]
    if style == 1:
        return template, [(pan, CARD)]
    if style == 2:
        return template, [(groups.replace(" ", "-"), CARD)]
    if style == 3:
        return template, [(f"**** **** **** {pan[-4:]}", CARD)]
    if style == 4:
        return template, [(f"**** {pan[-4:]}", CARD)]
    if style == 5:
        return template, [(f"{pan[:4]} {pan[4:6]}** **** {pan[-4:]}", CARD)]
    if style == 6:
        return template, [(f"{pan[:6]}******{pan[-4:]}", CARD)]
    if style == 7:
        return template, [(f"{pan[:4]}-{pan[4:6]}XX-XXXX-{pan[-4:]}", CARD)]
    return messages.CARD_ENDING[lang], [(pan[-4:], CARD)]


def written_national_id(r: random.Random, value: str, country: str) -> str:
    style = r.randrange(3)
    if style == 0:
        return value
    if country == "GB":
        return f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}" if style == 1 else value.lower()
    if country == "DE":
        return f"{value[:2]} {value[2:5]} {value[5:8]} {value[8:]}"
    if country == "FR":
        return f"{value[0]} {value[1:3]} {value[3:5]} {value[5:7]} {value[7:10]} {value[10:13]} {value[13:]}"
    if country == "NL":
        return f"{value[:4]}.{value[4:6]}.{value[6:]}" if style == 1 else f"{value[:4]} {value[4:6]} {value[6:]}"
    if country == "ES":
        return f"{value[:-1]}-{value[-1]}" if style == 1 else value.lower()
    return value.lower()


def written_iban(r: random.Random, iban: str) -> str:
    style = r.randrange(3)
    if style == 0:
        return iban
    if style == 1:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban.lower()


def written_date(r: random.Random, day: date, lang: str) -> str:
    style = r.randrange(9)
    d, m, y = day.day, day.month, day.year
    if style == 0:
        return f"{d:02d}/{m:02d}/{y}"
    if style == 1:
        return f"{d:02d}.{m:02d}.{y}"
    if style == 2:
        return day.isoformat()
    if style == 3:
        return f"{d}-{m}-{y}"
    if style == 4:
        return f"{d}/{m}/{y % 100:02d}"
    month = messages.MONTHS[lang][m - 1]
    if style == 5 and lang == "en":
        return f"{month} {d}, {y}"
    if lang == "de":
        return f"{d}. {month} {y}"
    if lang == "es":
        return f"{d} de {month} de {y}"
    return f"{d} {month[:3]} {y}" if style == 8 and lang == "en" else f"{d} {month} {y}"


def written_address(r: random.Random, country: str, street: str, city: str, postcode: str) -> list[Piece]:
    number = str(r.randrange(1, 250)) + (r.choice("ab") if r.random() < 0.1 else "")
    if country == "GB":
        return [(f"{number} {street}", STREET), (", ", None), (city, TOWN), (" ", None), (postcode, POSTCODE)]
    if country == "FR":
        return [(f"{number}, {street}", STREET), (", ", None), (postcode, POSTCODE), (" ", None), (city, TOWN)]
    if country == "NL" and r.random() < 0.5 and len(postcode) == 6:
        postcode = f"{postcode[:4]} {postcode[4:]}"
    return [(f"{street} {number}", STREET), (", ", None), (postcode, POSTCODE), (" ", None), (city, TOWN)]


@dataclass(frozen=True)
class Places:
    streets: tuple[str, ...]
    cities: tuple[str, ...]


@lru_cache(maxsize=4)
def places(seed: int) -> dict[str, Places]:
    """Street and city names per country, drawn from Faker once per seed (as the name pools are)."""
    out = {}
    for country in COUNTRIES:
        fake = seeded_faker(country.locale, seed)
        out[country.code] = Places(
            streets=tuple(dict.fromkeys(fake.street_name().replace("\n", " ") for _ in range(STREETS_PER_COUNTRY))),
            cities=tuple(dict.fromkeys(fake.city() for _ in range(STREETS_PER_COUNTRY // 2))),
        )
    return out


@lru_cache(maxsize=4)
def other_names(seed: int) -> tuple[tuple[str, str], ...]:
    """People other than the customers, half from the customers' own locales, half from elsewhere."""
    names = []
    for locale in OTHER_NAME_LOCALES:
        fake = seeded_faker(locale, seed)
        names += [(fake.first_name(), fake.last_name()) for _ in range(60)]
    for pool in locale_pools(seed).values():
        names += list(zip(pool.first_names[:30], pool.last_names[-30:]))
    return tuple(names)


# --- rarer layouts --------------------------------------------------------------------------

_NATIONAL_ID_LAYOUTS: dict[str, tuple[tuple[str, Callable[[str], str]], ...]] = {
    "NL": (("bsn_3_3_3", lambda v: f"{v[:3]} {v[3:6]} {v[6:]}"), ("bsn_3_3_3_dotted", lambda v: f"{v[:3]}.{v[3:6]}.{v[6:]}"),
           ("bsn_3_2_4", lambda v: f"{v[:3]}-{v[3:5]}-{v[5:]}")),
    "DE": (("steuer_id_slashes", lambda v: f"{v[:2]}/{v[2:5]}/{v[5:8]}/{v[8:]}"),
           ("steuer_id_3_3_3_2", lambda v: f"{v[:3]} {v[3:6]} {v[6:9]} {v[9:]}")),
    "FR": (("nir_key_apart", lambda v: f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} clé {v[13:]}"),),
    "GB": (("nino_dashed", lambda v: f"{v[:2]}-{v[2:4]}-{v[4:6]}-{v[6:8]}-{v[8]}"),),
}
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
# "von der Heyde", "da Vinci", "Ó Súilleabháin": particles before a surname the name lists may not hold.
SURNAME_PARTICLES = ("von der", "van der", "van den", "von", "van", "de", "da", "di", "zu", "Ó")
TRUNK_ZERO_COUNTRIES = ("GB", "DE", "NL")  # their national numbers open with a trunk 0 people drop


class RareLayouts:
    """Rewrites a value, already written by the message's own stream, in a rarer layout at
    RARE_LAYOUT_RATE. Draws come from a stream of its own and one per value offered, so the messages
    are the same as without it except for the rewritten values."""

    def __init__(self, r: random.Random, rate: float = RARE_LAYOUT_RATE):
        self.r, self.rate = r, rate

    def _chosen(self) -> bool:
        return self.r.random() < self.rate

    def national_id(self, written: str, value: str, country: str) -> Piece:
        if not self._chosen() or country not in _NATIONAL_ID_LAYOUTS:
            return (written, NATIONAL_ID)
        layout, write = self.r.choice(_NATIONAL_ID_LAYOUTS[country])
        return (write(value), NATIONAL_ID, layout)

    def iban(self, written: str, value: str) -> Piece:
        if not self._chosen():
            return (written, IBAN)
        return ("-".join(value[i:i + 4] for i in range(0, len(value), 4)), IBAN, "iban_dashed")

    def card(self, pieces: list[Piece], pan: str) -> list[Piece]:
        if not self._chosen() or len(pieces) != 1 or sum(ch.isdigit() for ch in pieces[0][0]) != 16:
            return pieces  # only a full number is written dotted
        return [(".".join(pan[i:i + 4] for i in range(0, 16, 4)), CARD, "card_dotted")]

    def date(self, written: str, day: date, lang: str) -> Piece:
        if not self._chosen():
            return (written, DATE_OF_BIRTH)
        style = self.r.randrange(3) if lang == "en" else 2
        if style == 2:
            return (f"{day.year}.{day.month:02d}.{day.day:02d}", DATE_OF_BIRTH, "dob_year_dotted")
        ordinal = f"{day.day}{_ORDINAL_SUFFIX.get(day.day, 'th')}"
        month = messages.MONTHS[lang][day.month - 1]
        if style == 0:
            return (f"{month} {ordinal}, {day.year}", DATE_OF_BIRTH, "dob_month_ordinal")
        return (f"{ordinal} {month} {day.year}", DATE_OF_BIRTH, "dob_ordinal_month")

    def phone(self, written: str, e164: str, country: str) -> Piece:
        """The national number without its trunk zero, as people write it after "call me on"."""
        if not self._chosen() or country not in TRUNK_ZERO_COUNTRIES:
            return (written, PHONE)
        national = _phone_layouts(e164)[0].lstrip("0")
        digits = "".join(ch for ch in national if ch.isdigit())
        if self.r.random() < 0.5 and len(digits) == 10:
            return (f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", PHONE, "phone_no_trunk_dashed")
        return (national, PHONE, "phone_no_trunk")

    def email(self, written: str, email: str) -> Piece:
        if not self._chosen():
            return (written, EMAIL)
        local, domain = email.split("@", 1)
        parts = domain.split(".")
        layout = self.r.choice(("email_punkt", "email_arobase", "email_comma", "email_spaced_dot"))
        if layout == "email_punkt":
            return (f"{local}(at){'(punkt)'.join(parts)}", EMAIL, layout)
        if layout == "email_arobase":
            return (f"{local} arobase {' point '.join(parts)}", EMAIL, layout)
        if layout == "email_comma":
            return (f"{local}@{'.'.join(parts[:-1])},{parts[-1]}", EMAIL, layout)
        return (f"{local} @ {' . '.join(parts)}", EMAIL, layout)

    def name(self, pieces: list[Piece], first: str, last: str, others: Sequence[tuple[str, str]]) -> list[Piece]:
        """Another person's name with a particle before the surname, the first name at times hyphenated."""
        if not self._chosen():
            return pieces
        if self.r.random() < 0.25:
            first = f"{first}-{self.r.choice(others)[0]}"
        return [(f"{first} {self.r.choice(SURNAME_PARTICLES)} {last}", PERSON, "name_particle")]


# --- a whole message ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Writer:
    """What a message may quote about the customer who writes it."""

    first: str
    last: str
    email: str
    phone: str
    country: str
    lang: str
    card: str
    national_id: str
    iban: str
    birth: date
    postcode: str


def writers(base: CustomerBase) -> list[Writer]:
    profiles = base.profiles
    out = []
    for i, (name, email, phone, dob, postcode, nid, iban, country) in enumerate(zip(
            profiles["full_name"], profiles["email"], profiles["phone"], profiles["date_of_birth"],
            profiles["postcode"], profiles["national_id"], profiles["iban"], profiles["country"])):
        first, last = name.split(" ", 1)
        out.append(Writer(first, last, email, phone, country, str(base.language[i]), base.cards[i, 0], nid, iban,
                          dob, postcode))
    return out


def _case(r: random.Random) -> Callable[[str], str]:
    roll = r.random()
    if roll < 0.07:
        return str.lower
    if roll < 0.10:
        return str.upper
    return str


def _noise(r: random.Random, lang: str, as_of_year: int) -> list[Piece]:
    template = r.choice(messages.NOISE[lang])
    values = {
        "order": f"{r.randrange(10**6, 10**7)}", "amount": f"{r.randrange(5, 3000)}{r.choice(['.00', ',99', '', '.50'])}",
        "recent": f"{r.randrange(1, 29):02d}/{r.randrange(1, 13):02d}/{as_of_year}",
        "year": str(as_of_year), "ref": f"{r.randrange(10**4, 10**5)}", "time": f"{r.randrange(7, 22)}:{r.randrange(60):02d}",
        "version": f"{r.randrange(3, 9)}.{r.randrange(20)}.{r.randrange(10)}",
    }
    return [(template.format(**values), None)]


def ticket_message(r: random.Random, w: Writer, category: str, place: Places, others: Sequence[tuple[str, str]],
                   as_of_year: int = 2026, rare: RareLayouts | None = None) -> LabelledText:
    lang = w.lang
    rare = rare or RareLayouts(random.Random(0), rate=0.0)
    b = TextBuilder(_case(r))
    sep = "\n" if r.random() < 0.3 else " "
    greeting = r.choice(messages.GREETINGS[lang])
    if greeting:
        b.add(greeting + sep)
    introduced = r.random() < 0.85
    if introduced:
        b.fill(r.choice(messages.INTROS[lang]), {"name": written_name(r, w.first, w.last, lang)})
        b.add(sep)
    b.add(messages.ISSUES[lang][category])
    parts: list[tuple[str, dict[str, Sequence[Piece]]]] = []
    if r.random() < 0.55:
        phone = london_landline(r) if w.country == "GB" and r.random() < 0.15 else written_phone(r, w.phone, w.country)
        template = r.choice(messages.CALL_ME_MORE[lang])
        parts.append((template, {"phone": [rare.phone(phone, w.phone, w.country) if "(020)" not in phone else
                                           (phone, PHONE)]}))
    if r.random() < 0.45 or not parts:
        parts.append((r.choice(messages.MAIL_ME_MORE[lang]), {"email": [rare.email(written_email(r, w.email), w.email)]}))
    if r.random() < 0.25 or category == "card_issue":
        template, pieces = written_card(r, w.card, lang)
        pieces = rare.card(pieces, w.card)
        parts.append((template, {"card": pieces, "last4": pieces}))
    if r.random() < 0.15:
        kind = r.choice(messages.ID_KINDS[w.country])
        parts.append((r.choice(messages.ID_LINES[lang]).replace("{kind}", kind),
                      {"id": [rare.national_id(written_national_id(r, w.national_id, w.country), w.national_id,
                                               w.country)]}))
    if r.random() < 0.15 or category == "payment_dispute" and r.random() < 0.3:
        parts.append((r.choice(messages.IBAN_LINES[lang]), {"iban": [rare.iban(written_iban(r, w.iban), w.iban)]}))
    if r.random() < 0.15:
        parts.append((r.choice(messages.DOB_LINES[lang]), {"dob": [rare.date(written_date(r, w.birth, lang), w.birth,
                                                                             lang)]}))
    if r.random() < 0.12 or category == "account_change":
        address = written_address(r, w.country, r.choice(place.streets), r.choice(place.cities), w.postcode)
        parts.append((r.choice(messages.ADDRESS_LINES[lang]), {"address": address}))
    elif r.random() < 0.08:
        parts.append((r.choice(messages.POSTCODE_LINES[lang]), {"postcode": [(w.postcode, POSTCODE)]}))
    if r.random() < 0.06:
        parts.append((messages.DETAILS[lang], {"name": [(f"{w.first} {w.last}", PERSON)],
                                                "dob": [(written_date(r, w.birth, lang), DATE_OF_BIRTH)],
                                                "postcode": [(w.postcode, POSTCODE)]}))
    if r.random() < 0.12:
        first, last = r.choice(others)
        parts.append((r.choice(messages.THIRD_PARTY[lang]),
                      {"other": rare.name(written_name(r, first, last, lang), first, last, others)}))
    if r.random() < 0.5:
        parts.append(("{noise}", {"noise": _noise(r, lang, as_of_year)}))
    r.shuffle(parts)
    for template, values in parts:
        b.add(r.choice((" ", " ", sep, ". ", " - ")))
        b.fill(template, values)
    b.add(sep)
    # Without an introduction the writer signs with the full name, so every message names them.
    sign_off = r.choice(messages.SIGN_OFFS[lang])
    if introduced:
        b.fill(sign_off, {"first": [(w.first, PERSON)], "name": [(f"{w.first} {w.last}", PERSON)]})
    else:
        b.fill(sign_off.replace("{first}", "{name}"), {"name": written_name(r, w.first, w.last, lang)})
    return b.build()


def campaign_note(r: random.Random, w: Writer, others: Sequence[tuple[str, str]]) -> LabelledText:
    b = TextBuilder(_case(r))
    first, last = r.choice(others)
    b.fill(r.choice(messages.NOTES_MORE), {
        "name": written_name(r, w.first, w.last, "en"), "email": [(written_email(r, w.email), EMAIL)],
        "phone": [(written_phone(r, w.phone, w.country), PHONE)], "postcode": [(w.postcode, POSTCODE)],
        "other": [(f"{first} {last}", PERSON)]})
    return b.build()


def ticket_texts(config: SyntheticConfig, base: CustomerBase, rng: np.random.Generator, customer: np.ndarray,
                 category: np.ndarray) -> list[LabelledText]:
    r = random.Random(int(rng.integers(2**63)))
    # Its own stream, so the rare layouts leave every other draw of the messages as it was.
    rare = RareLayouts(random.Random(int(stream(config.seed, "ticket_text_rare_layouts").integers(2**63))))
    people = writers(base)
    place = places(config.seed)
    others = other_names(config.seed)
    year = config.resolved().as_of.year
    return [ticket_message(r, people[c], str(cat), place[people[c].country], others, year, rare)
            for c, cat in zip(customer, category)]


def note_texts(config: SyntheticConfig, base: CustomerBase, rng: np.random.Generator,
               customer: np.ndarray) -> list[LabelledText]:
    r = random.Random(int(rng.integers(2**63)))
    people = writers(base)
    others = other_names(config.seed)
    return [campaign_note(r, people[c], others) for c in customer]


def labelled_messages(config: SyntheticConfig, n: int, *, notes_share: float = 0.1) -> list[LabelledText]:
    """`n` labelled messages written by the config's customers: tickets and (a share of) campaign notes.
    Drawn from their own stream, so they do not change the datasets; the same for the same config."""
    base = customer_base(config)
    rng = stream(config.seed, "labelled_messages")
    customer = rng.integers(0, len(base), size=n)
    category = np.array(messages.TICKET_CATEGORIES)[rng.integers(0, len(messages.TICKET_CATEGORIES), size=n)]
    is_note = rng.random(n) < notes_share
    out: list[LabelledText | None] = [None] * n
    tickets = np.flatnonzero(~is_note)
    for i, text in zip(tickets, ticket_texts(config, base, rng, customer[tickets], category[tickets])):
        out[i] = text
    notes = np.flatnonzero(is_note)
    for i, text in zip(notes, note_texts(config, base, rng, customer[notes])):
        out[i] = text
    return out  # type: ignore[return-value]
