"""The free-text redactor: what it finds, what it replaces each finding with, and that it stays offline."""

from __future__ import annotations

import socket

import pytest

from hurricane_assets.catalog.manifest import PiiEntity
from hurricane_assets.masking.freetext import REDACTED, FreeTextRedaction, detect, phone_region, validators
from hurricane_assets.masking.freetext.redaction import forget_replacements
from hurricane_assets.masking.operators.contact import EmailPseudonym, PhonePseudonym
from hurricane_assets.masking.operators.financial import CardPseudonym, IbanPseudonym
from hurricane_assets.masking.operators.names import FakeName
from hurricane_assets.masking.operators.tokens import KeyedToken
from hurricane_assets.masking.plans import ENTITY_RULES

RULES = {e.value: r.model_dump(include={"operator", "params"}) for e, r in ENTITY_RULES.items()}


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def redact(key, text, **params):
    return FreeTextRedaction().operate(text, {"key": key, "entity_rules": RULES, **params})


def found(text: str) -> dict[str, str]:
    return {text[f.start:f.end]: f.entity for f in detect(text)}


def test_entities_in_text_become_the_same_values_as_their_columns(key, offline):
    text = ("Hi, Jane Doe here, jane.doe@gmail.com, +44 7911 123456 / 020 7946 0018, "
            "card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, from 192.168.10.7")
    out = redact(key, text)
    for raw in ("Jane", "Doe", "jane.doe", "7911 123456", "7946 0018", "4111 1111", "WEST 1234", "192.168.10.7"):
        assert raw not in out
    assert EmailPseudonym().operate("jane.doe@gmail.com", {"key": key}) in out
    assert PhonePseudonym().operate("+44 7911 123456", {"key": key}) in out
    assert PhonePseudonym().operate("020 7946 0018", {"key": key}) in out
    assert CardPseudonym().operate("4111 1111 1111 1111", {"key": key, "entity": "card"}) in out
    assert IbanPseudonym().operate("GB82 WEST 1234 5698 7654 32", {"key": key, "entity": "iban"}) in out
    assert FakeName().operate("Jane Doe", {"key": key, "entity": "person"}) in out


def test_what_issue_11_saw_passing_through_is_removed(key, offline):
    text = ("jane doe / JANE DOE / Mark King / Oluwaseun Adeyemi / u spreekt met Faezobri de Bruyn / "
            "NI AB123456C, DNI 12345678Z, born 14/03/1987, postcode NW1 6XE, jane.doe at gmail dot com, "
            "cards **** 4242 and 411111******4242")
    out = redact(key, text)
    for raw in ("jane", "JANE", "DOE", "Mark", "King", "Oluwaseun", "Adeyemi", "Faezobri", "Bruyn", "AB123456C",
                "12345678Z", "1987", "NW1", "6XE", "gmail dot", "4242"):
        assert raw not in out, raw
    # The obfuscated address masks like the plain one in the profile.
    assert EmailPseudonym().operate("jane.doe@gmail.com", {"key": key}) in out
    assert "<NATIONAL_ID>" in out and "<DATE_OF_BIRTH>" in out and "<CREDIT_CARD>" in out


@pytest.mark.parametrize("text,value,entity", [
    ("my NI number is AB 12 34 56 C", "AB 12 34 56 C", "NATIONAL_ID"),
    ("DNI 12345678-Z", "12345678-Z", "NATIONAL_ID"),
    ("NIE X1234567L por favor", "X1234567L", "NATIONAL_ID"),
    ("mijn BSN is 1234.56.782", "1234.56.782", "NATIONAL_ID"),
    ("NIR 1 85 05 78 006 084 91", "1 85 05 78 006 084 91", "NATIONAL_ID"),
    ("Steuer-ID 12 345 678 903", "12 345 678 903", "NATIONAL_ID"),
    ("geboren am 14. März 1987", "14. März 1987", "DATE_OF_BIRTH"),
    ("DOB: March 14, 1987", "March 14, 1987", "DATE_OF_BIRTH"),
    ("meine Adresse: Jens-Drubin-Straße 47, 10115 Berlin", "Jens-Drubin-Straße 47", "STREET_ADDRESS"),
    ("j'habite au 8, rue Jeanne Henry, 75001 Paris", "75001", "LOCATION"),
    ("mijn adres is Lizzystraat 7, 1636 HO Kruiningen", "1636 HO", "LOCATION"),
    ("the card ending in 4242", "4242", "CREDIT_CARD"),
    ("mail me: jane.doe[at]web[dot]de", "jane.doe[at]web[dot]de", "EMAIL_ADDRESS"),
    ("Bel me op 06.12.34.56.78", "06.12.34.56.78", "PHONE_NUMBER"),
    ("Llámenme al 612 07 30 10", "612 07 30 10", "PHONE_NUMBER"),
])
def test_each_kind_of_identifier_is_found(text, value, entity):
    assert found(text).get(value) == entity, found(text)


@pytest.mark.parametrize("text,town,kept", [
    ("meine Adresse: Rennerring 212, 21850 Neustadt am Rübenberge Daten: bitte", "Neustadt am Rübenberge", "Daten"),
    ("meine Adresse: Heringplatz 236, 64252 Griesbach Rottal Viele Grüße, Klaus", "Griesbach Rottal", "Viele"),
    ("Karl-August-Gute-Ring 56, 83884 Rothenburg ob der Tauber Viele Grüße", "Rothenburg ob der Tauber", "Viele"),
    ("new address: 23 Deborah Route, East Lauren L5F 4TJ - Call me", "East Lauren", "Call"),
    ("i live at 91 byrne stream, port mark b4 0yw iban please", "port mark", "iban"),
    ("mijn adres is Lilysingel 146, 5542ZS 's-Hertogenbosch - U kunt", "'s-Hertogenbosch", "kunt"),
    ("vivo en Avenida de Hernán Valle 8, 10163 Las Palmas. Fue a las 18:13", "Las Palmas", "Fue"),
    ("URBANIZACIÓN DE NANDO CISNEROS 145, 28862 LA CORUÑA SE TRATA DE LA TARJETA", "LA CORUÑA", "TRATA"),
    ("I live at Vicolo Paola 46, 76123 Dagala Del Re\nI tried 3 times", "Dagala Del Re", "tried"),
    # A town named after a surname with a particle: "Santos" stood below prod as a common word alone.
    ("j'habite au 192, chemin de Marchand, 66997 Dos Santos - Vous pouvez", "Dos Santos", "Vous"),
    ("nouvelle adresse : 156, rue de marchal, 68255 dos santos mon numéro est", "dos santos", "numéro"),
    ("j'habite au 118, boulevard Menard, 15829 Payet-sur-Da Silva\nnuméro de carte", "Payet-sur-Da Silva", "numéro"),
])
def test_the_town_of_an_address_is_removed_with_its_postcode(text, town, kept):
    """Masked bodies kept the town next to the redacted postcode ("…, <LOCATION> Kulmbach"): a quasi-identifier
    below prod. The words after the town (the next sentence) stay."""
    spans = [text[f.start:f.end] for f in detect(text)]
    assert any(town in span for span in spans), spans
    assert not any(kept in span for span in spans), spans


def test_a_number_followed_by_a_word_outside_an_address_keeps_the_word():
    assert "Kunde" not in "".join(text for text in found("Bestellung 7028354 Kunde seit 2019"))


def test_checksums_keep_lookalike_numbers_in_the_text():
    # A wrong check letter/digit, an order number, an amount, a recent date: not personal data.
    for text in ("ref 12345678A", "BSN 123456789", "NIR 1 85 05 78 006 084 92", "order 4111 1111 1111 1112",
                 "IBAN GB83 WEST 1234 5698 7654 32", "paid 1.250,00 EUR on 05/04/2026", "pedido 2024 01 05",
                 "version 5.12.3, 3 times"):
        assert detect(text) == [], (text, found(text))
    assert validators.steuer_id("12345678903") and not validators.steuer_id("12345678904")
    assert validators.nino("AB123456C") and not validators.nino("BG123456C") and not validators.nino("AO123456C")


def test_names_that_are_words_need_a_second_name_word_or_a_cue():
    assert found("May I ask why? I will wait. Mark it urgent please.") == {}
    assert found("Thanks, Mark") == {"Mark": "PERSON"}
    assert found("my husband Mark King has the same card") == {"Mark King": "PERSON"}
    assert found("Follow up with MAY YOUNG tomorrow") == {"MAY YOUNG": "PERSON"}


def test_national_phone_layouts_of_other_countries(key):
    out = redact(key, "Bitte rufen Sie mich unter 01512 3364629 zurück oder (020) 7946 0018.")
    assert "3364629" not in out and "7946 0018" not in out and "015" in out
    spanish = redact(key, "Por favor llámenme al 612 07 30 10, pedido 2024 01 05, importe 1.250,00")
    assert "612 07 30 10" not in spanish and "pedido 2024 01 05, importe 1.250,00" in spanish
    # Without a country code "612 07 30 10" is valid in several countries; it is masked as the first
    # region in PHONE_REGIONS where it is valid, so consistency with the profile is not guaranteed.
    region = phone_region("612 07 30 10")
    assert PhonePseudonym().operate("612 07 30 10", {"key": key, "region": region}) in spanish


def test_row_values_and_deny_list_are_removed(key):
    out = redact(key, "Customer CUST-00042 says Qwxyz Plonk and Project Falcon are late",
                 row_values=[[PiiEntity.CUSTOMER_ID.value, "CUST-00042"], [PiiEntity.PERSON.value, "Qwxyz Plonk"]],
                 deny_list=["Project Falcon"])
    assert "CUST-00042" not in out and "Qwxyz" not in out and "Falcon" not in out
    assert KeyedToken().operate("CUST-00042", {"key": key, "entity": "customer"}) in out
    assert REDACTED in out


def test_forgotten_replacements_are_computed_again_and_come_out_the_same(key, monkeypatch):
    built = []
    masker = EmailPseudonym.masker
    monkeypatch.setattr(EmailPseudonym, "masker", lambda self, params: built.append(1) or masker(self, params))
    forget_replacements()
    text = "write to jane.doe@gmail.com"
    first = redact(key, text)
    assert redact(key, text) == first and len(built) == 1  # the masker and its replacement are remembered
    forget_replacements()
    assert redact(key, text) == first and len(built) == 2


def test_text_without_pii_is_unchanged_and_long_text_is_handled(key):
    plain = "The app crashes when I open the statements page."
    assert redact(key, plain) == plain
    long_text = (plain + " ") * 2000 + "Reach me at jane.doe@gmail.com"
    out = redact(key, long_text)
    assert len(out) > 90_000 and "jane.doe" not in out


def test_unknown_entity_rule_is_refused(key):
    from hurricane_assets.masking.registry import UnknownOperatorError

    with pytest.raises(UnknownOperatorError, match="unknown masking operator 'nope'"):
        FreeTextRedaction().validate({"key": key, "entity_rules": {"EMAIL_ADDRESS": {"operator": "nope"}}})


def test_presidio_with_the_same_recognizers_finds_the_same_characters(offline):
    """The benchmark's baseline runs our recognizers inside Presidio's AnalyzerEngine; if they drifted
    apart the speed comparison would compare different work."""
    from datetime import datetime, timezone

    from hurricane_assets.masking.freetext.presidio import presidio_analyzer
    from hurricane_assets.synthetic import SyntheticConfig
    from hurricane_assets.synthetic.ticket_text import labelled_messages

    analyzer = presidio_analyzer()
    config = SyntheticConfig(transactions=2000, seed=3, as_of=datetime(2026, 6, 1, tzinfo=timezone.utc))
    for message in labelled_messages(config, 150):
        # postcodes listed after a finding and towns after a postcode come from our findings, a step after the
        # recognizers that Presidio does not run: the baseline does a little less work than ours
        ours = {i for f in detect(message.text) if f.shape not in ("postcode_listed", "town")
                for i in range(f.start, f.end)}
        theirs = {i for r in analyzer.analyze(message.text, language="en") for i in range(r.start, r.end)}
        assert ours <= theirs, message.text


def test_turkish_names_in_capitals_are_found(key):
    """The demo's world (seed 7) kept "HALLO ZUSAMMEN YARGI KISAKÜREK HIER." as it was in preprod and
    dev: the customer is Yargı Kısakürek, and "YARGI" lower-cases to "yargi", a word in no list (the
    lists hold "yargı"); "KISAKÜREK" the same. Dotless ı folds to i on the list's side too."""
    assert found("Hallo zusammen Yargı Kısakürek hier.") == {"Yargı Kısakürek": "PERSON"}
    for text in ("HALLO ZUSAMMEN YARGI KISAKÜREK HIER. SEIT DEM LETZTEN UPDATE", "hallo, yargi kisakürek hier"):
        out = redact(key, text)
        assert "YARGI" not in out.upper() and "KISAK" not in out.upper(), out


def test_last_first_after_a_cue_in_a_text_without_capitals(key):
    """Seed 7's "i am clarke, simon, customer for years." became "i am Wofeth, simon, …" below prod:
    in a text without capitals "doe, jane" joined only when one of the two is a rare word, and both
    Clarke and Simon are common. After a strong cue ("i am", "this is") the pair is one name."""
    for text in ("good morning,\ni am clarke, simon, customer for years.", "I AM CLARKE, SIMON, CUSTOMER FOR YEARS."):
        assert [v.lower() for v in found(text)] == ["clarke, simon"], found(text)
        assert "simon" not in redact(key, text).lower()
    assert found("i am fine, thanks") == {}


def test_names_in_no_list_without_capitals_or_after_an_unlisted_surname(key):
    """Seed 7 kept "kujoe twumasi referred them" (a campaign note: two words in no lexicon, no capitals,
    no cue) and the "Paula" of "Ya hablé con Akɔmaa, Paula de su equipo." below prod."""
    note = "sent voucher to juri.herrmann@gmx.de; kujoe twumasi referred them"
    assert found(note)["kujoe twumasi"] == "PERSON"
    assert found("Ya hablé con Akɔmaa, Paula de su equipo.") == {"Akɔmaa, Paula": "PERSON"}
    assert "paula" not in redact(key, "Ya hablé con Akɔmaa, Paula de su equipo.").lower()
    # words of a closing or a hint after a town are not a name
    assert found("ich wohne in rastatt gruß") == {} and found("ik woon in kinderdijk groetjes") == {}
