from __future__ import annotations

import phonenumbers
from presidio_anonymizer import AnonymizerEngine, DeanonymizeEngine
from presidio_anonymizer.entities import OperatorConfig, OperatorResult, RecognizerResult

from hurricane_assets.masking.operators.contact import EmailPseudonym, PhonePseudonym
from hurricane_assets.masking.operators.tokens import KeyedToken
from hurricane_assets.masking.registry import OPERATORS, register_into


def test_operators_registered_into_presidio_mask_like_our_engine(key):
    engine = AnonymizerEngine()
    register_into(engine)
    text = "Mail jane.doe@gmail.com or call +442079460018, customer C-42."
    results = [RecognizerResult("EMAIL_ADDRESS", 5, 23, 1.0), RecognizerResult("PHONE_NUMBER", 32, 45, 1.0),
               RecognizerResult("CUSTOMER_ID", 56, 60, 1.0)]
    out = engine.anonymize(text, results, operators={
        "EMAIL_ADDRESS": OperatorConfig("email", {"key": key}),
        "PHONE_NUMBER": OperatorConfig("phone", {"key": key}),
        "CUSTOMER_ID": OperatorConfig("hmac_token", {"key": key, "entity": "customer"}),
    }).text
    assert EmailPseudonym().operate("jane.doe@gmail.com", {"key": key}) in out
    masked_phone = PhonePseudonym().operate("+442079460018", {"key": key})
    assert masked_phone in out and phonenumbers.is_valid_number(phonenumbers.parse(masked_phone))
    assert KeyedToken().operate("C-42", {"key": key, "entity": "customer"}) in out
    assert "jane" not in out and "7946" not in out and "C-42" not in out


def test_aes_siv_round_trips_through_presidio_engines(key):
    anonymizer, deanonymizer = AnonymizerEngine(), DeanonymizeEngine()
    register_into(anonymizer)
    register_into(deanonymizer)
    sealed = anonymizer.anonymize("id C-42", [RecognizerResult("ID", 3, 7, 1.0)],
                                  operators={"ID": OperatorConfig("aes_siv", {"key": key})})
    item = sealed.items[0]
    revealed = deanonymizer.deanonymize(sealed.text, [OperatorResult(item.start, item.end, "ID", item.text, "aes_siv")],
                                        operators={"ID": OperatorConfig("aes_siv_reveal", {"key": key})})
    assert revealed.text == "id C-42"


def test_every_operator_has_a_unique_name_and_type():
    assert len({cls().operator_name() for cls in OPERATORS.values()}) == len(OPERATORS)
