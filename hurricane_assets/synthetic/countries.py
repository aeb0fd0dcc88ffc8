"""The countries the reference bank serves, and what each one means for generated data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    share: float  # of the customer base
    locale: str  # Faker locale for names and postcodes
    time_zone: str
    currency: str
    note_language: str  # language customers of this country write tickets in


COUNTRIES: tuple[Country, ...] = (
    Country("GB", 0.30, "en_GB", "Europe/London", "GBP", "en"),
    Country("DE", 0.24, "de_DE", "Europe/Berlin", "EUR", "de"),
    Country("FR", 0.18, "fr_FR", "Europe/Paris", "EUR", "fr"),
    Country("NL", 0.12, "nl_NL", "Europe/Amsterdam", "EUR", "nl"),
    Country("ES", 0.10, "es_ES", "Europe/Madrid", "EUR", "es"),
    Country("IT", 0.06, "it_IT", "Europe/Rome", "EUR", "en"),
)
COUNTRY_CODES = tuple(c.code for c in COUNTRIES)

# Residents whose names come from elsewhere: a bank's customer list is never one locale.
DIASPORA_LOCALES = ("pl_PL", "tr_TR", "pt_PT", "ro_RO", "cs_CZ", "hu_HU")
DIASPORA_SHARE = 0.15
