"""Every masking operator by name: what plans refer to and what gets registered into Presidio."""

from __future__ import annotations

from hurricane_assets.masking.freetext import FreeTextRedaction
from hurricane_assets.masking.operators.base import MaskingOperator
from hurricane_assets.masking.operators.contact import EmailPseudonym, PhonePseudonym
from hurricane_assets.masking.operators.dates import DateGeneralisation, DateShift
from hurricane_assets.masking.operators.financial import CardPseudonym, IbanPseudonym
from hurricane_assets.masking.operators.generalise import Bucket, Drop, Keep, Prefix
from hurricane_assets.masking.operators.identifiers import KeyedCharacters
from hurricane_assets.masking.operators.names import FakeName
from hurricane_assets.masking.operators.tokens import AesSivReveal, AesSivToken, KeyedToken

OPERATORS: dict[str, type[MaskingOperator]] = {
    cls.name: cls
    for cls in (Keep, Drop, KeyedToken, AesSivToken, AesSivReveal, EmailPseudonym, PhonePseudonym,
                CardPseudonym, IbanPseudonym, KeyedCharacters, FakeName, DateShift, DateGeneralisation,
                Prefix, Bucket, FreeTextRedaction)
}


class UnknownOperatorError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def operator_class(name: str) -> type[MaskingOperator]:
    try:
        return OPERATORS[name]
    except KeyError:
        raise UnknownOperatorError(f"unknown masking operator {name!r}; known: {', '.join(sorted(OPERATORS))}") from None


def register_into(engine) -> None:
    """Add every anonymizing operator to a Presidio `AnonymizerEngine` (and deanonymizers to a
    `DeanonymizeEngine`), so Presidio users get the same keyed, consistent transforms."""
    from presidio_anonymizer import AnonymizerEngine, DeanonymizeEngine
    from presidio_anonymizer.operators import OperatorType

    for cls in OPERATORS.values():
        is_anonymizer = cls().operator_type() == OperatorType.Anonymize
        if isinstance(engine, AnonymizerEngine) and is_anonymizer:
            engine.add_anonymizer(cls)
        elif isinstance(engine, DeanonymizeEngine) and not is_anonymizer:
            engine.add_deanonymizer(cls)
