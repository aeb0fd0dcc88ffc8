"""Small vocabularies drawn from Faker once per seed: names, postcodes and email domains per locale.

Faker is slow per call, so it only fills these pools; rows then index into them with numpy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from hurricane_assets.synthetic.countries import COUNTRIES, DIASPORA_LOCALES

NAMES_PER_LOCALE = 150
POSTCODES_PER_LOCALE = 250

# Letters NFKD does not decompose into ASCII, as mail providers transliterate them.
ASCII_FALLBACK = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O",
                                "ı": "i", "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE"})


@dataclass(frozen=True)
class LocalePool:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    postcodes: tuple[str, ...]
    email_domains: tuple[str, ...]


def email_local_part(first: str, last: str) -> str:
    """`first.last` folded to lowercase ASCII, as people register mailboxes."""
    text = f"{first}.{last}".translate(ASCII_FALLBACK)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum() or ch == ".")


# Provider word lists Faker builds from a set, so their order, and every draw from them, changes with
# PYTHONHASHSEED (it_IT's `cities` is `list({...})`): sorted before drawing, the draws follow the seed only.
SET_ORDERED_LISTS = ("cities",)


def seeded_faker(locale: str, seed: int):
    """A Faker for `locale` whose draws depend on `seed` alone (not on the process's hash seed)."""
    from faker import Faker  # heavy import kept out of module import time

    fake = Faker(locale)
    fake.seed_instance(seed)
    for provider in fake.get_providers():
        for name in SET_ORDERED_LISTS:
            words = getattr(provider, name, None)
            if isinstance(words, list):  # an attribute of this provider only: Faker's class stays as it is
                setattr(provider, name, sorted(words))
    return fake


@lru_cache(maxsize=8)
def locale_pools(seed: int) -> dict[str, LocalePool]:
    pools = {}
    for locale in sorted({c.locale for c in COUNTRIES} | set(DIASPORA_LOCALES)):
        fake = seeded_faker(locale, seed)
        pools[locale] = LocalePool(
            first_names=tuple(dict.fromkeys(fake.first_name() for _ in range(NAMES_PER_LOCALE))),
            last_names=tuple(dict.fromkeys(fake.last_name() for _ in range(NAMES_PER_LOCALE))),
            postcodes=tuple(fake.postcode() for _ in range(POSTCODES_PER_LOCALE)),
            email_domains=tuple(dict.fromkeys(fake.free_email_domain() for _ in range(20))),
        )
    return pools
