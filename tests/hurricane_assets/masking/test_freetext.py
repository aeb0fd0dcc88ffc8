from __future__ import annotations

import socket

import pytest

from hurricane_assets.catalog.manifest import PiiEntity
from hurricane_assets.masking.freetext import REDACTED, FreeTextRedaction, PhoneTextRecognizer
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


def test_national_phone_layouts_of_other_countries(key):
    out = redact(key, "Bitte rufen Sie mich unter 01512 3364629 zurück oder (020) 7946 0018.")
    assert "3364629" not in out and "7946 0018" not in out and "015" in out
    spanish = redact(key, "Por favor llámenme al 612 07 30 10, pedido 2024 01 05, importe 1.250,00")
    assert "612 07 30 10" not in spanish and "pedido 2024 01 05, importe 1.250,00" in spanish
    # Without a country code "612 07 30 10" is valid in several countries; it is masked as the first
    # region in PHONE_REGIONS where it is valid, so consistency with the profile is not guaranteed.
    region = PhoneTextRecognizer().region_of("612 07 30 10")
    assert PhonePseudonym().operate("612 07 30 10", {"key": key, "region": region}) in spanish


def test_row_values_and_deny_list_are_removed(key):
    out = redact(key, "Customer CUST-00042 says Qwxyz Plonk and Project Falcon are late",
                 row_values=[[PiiEntity.CUSTOMER_ID.value, "CUST-00042"], [PiiEntity.PERSON.value, "Qwxyz Plonk"]],
                 deny_list=["Project Falcon"])
    assert "CUST-00042" not in out and "Qwxyz" not in out and "Falcon" not in out
    assert KeyedToken().operate("CUST-00042", {"key": key, "entity": "customer"}) in out
    assert REDACTED in out


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


def test_direct_detection_finds_what_the_analyzer_engine_finds():
    from hurricane_assets.masking.freetext import detect, offline_analyzer

    analyzer, _ = offline_analyzer()
    for text in ("Jane Doe, jane.doe@gmail.com, +44 7911 123456, 4111 1111 1111 1111",
                 "IBAN GB82 WEST 1234 5698 7654 32 from 10.0.0.1, call (020) 7946 0018",
                 "Hallo, hier schreibt Lorenzo Juncken, 01512 3364629"):
        spans = lambda results: {(r.entity_type, r.start, r.end) for r in results if r.score > 0}  # noqa: E731
        assert spans(detect(text)) == spans(analyzer.analyze(text, language="en"))
