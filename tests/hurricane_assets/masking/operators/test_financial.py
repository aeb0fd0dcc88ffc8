from __future__ import annotations

from hurricane_assets.masking.checksums import luhn_valid
from hurricane_assets.masking.operators.financial import CardPseudonym, IbanPseudonym, iban_valid

IBANS = ["GB82WEST12345698765432", "DE89 3704 0044 0532 0130 00", "FR1420041010050500013M02606",
         "NL91ABNA0417164300", "ES9121000418450200051332", "IT60X0542811101000000123456"]


def test_card_keeps_length_network_and_separators_with_valid_luhn(key):
    for card in ("4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009"):
        masked = CardPseudonym().operate(card, {"key": key})
        assert luhn_valid(masked) and masked != card and len(masked) == len(card)
        assert masked[0] == card[0] and [i for i, c in enumerate(masked) if not c.isdigit()] == \
            [i for i, c in enumerate(card) if not c.isdigit()]
    assert CardPseudonym().operate("4111111111111111", {"key": key}) == \
        CardPseudonym().operate("4111111111111111", {"key": key})


def test_iban_keeps_country_length_and_checksum(key):
    for iban in IBANS:
        assert iban_valid(iban)
        masked = IbanPseudonym().operate(iban, {"key": key})
        assert iban_valid(masked), masked
        assert masked[:2] == iban[:2] and len(masked) == len(iban) and masked != iban


def test_checksum_validators_reject_wrong_values():
    assert not luhn_valid("4111111111111112")
    assert not iban_valid("GB83WEST12345698765432")
