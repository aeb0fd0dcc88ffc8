"""Word lists the detector matches against: names, name particles, cue phrases, street types, words.

Names are the first and last names Faker ships for the locales below (offline data installed with
the package), split into words, so "van der Laar" contributes "laar" and a Polish female surname
counts like a male one. How common a word is in ordinary language comes from `data/common_words.tsv`
(see its README): it separates "May" the name from "may" the verb.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from pathlib import Path

# Locales whose person lists form the name gazetteer. Held out on purpose: zu_ZA, tw_GH and sw, which
# the evaluation uses to measure recall on names that are in no list (see ticket_text.OTHER_NAME_LOCALES).
NAME_LOCALES = (
    "en", "en_GB", "en_US", "en_IE", "en_NZ", "en_IN", "en_NG", "en_KE", "en_PK", "yo_NG", "ig_NG", "ha_NG",
    "de_DE", "de_AT", "de_CH", "de_LI", "de_LU", "fr_FR", "fr_BE", "fr_CA", "fr_CH", "nl_NL", "nl_BE",
    "es_ES", "es_MX", "es_AR", "es_CO", "es_CL", "it_IT", "pt_PT", "pt_BR", "pl_PL", "tr_TR", "ro_RO", "cs_CZ",
    "hu_HU", "sk_SK", "sv_SE", "da_DK", "no_NO", "fi_FI", "hr_HR", "sl_SI", "lt_LT", "lv_LV", "et_EE", "ga_IE",
    "az_AZ", "id_ID", "fil_PH", "vi_VN",
)
PARTICLES = frozenset({
    "van", "von", "de", "der", "den", "del", "della", "delle", "di", "da", "du", "des", "le", "la", "ter", "ten",
    "te", "zu", "zur", "dos", "das", "do", "y", "e", "al", "el", "ibn", "het", "t", "s",
    "ó",  # Irish: "Seán Ó Súilleabháin"
})
# Titles are cues, never names themselves ("Dr", "Frau", "Sr." before a surname).
TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "herr", "frau", "m", "mme", "mlle", "madame", "monsieur", "dhr",
                    "mevr", "meneer", "mevrouw", "sr", "sra", "srta", "don", "doña", "señor", "señora", "dear"})
# Words this common are not taken for names even when some list has them ("the", "die", "will").
NOT_A_NAME_ZIPF = 6.5
# Phrases after which a name follows. Strong ones also vouch for capitalised words in no list.
STRONG_CUES = (
    "this is", "my name is", "name is", "i am", "i'm", "name", "on behalf of", "hier schreibt", "mein name ist",
    "ich bin", "c'est", "je m'appelle", "je suis", "ici", "u spreekt met", "mijn naam is", "ik ben", "met",
    "les escribe", "me llamo", "soy", "mi nombre es", "thanks", "thank you", "regards", "kind regards", "best",
    "cheers", "danke", "grüße", "gruß", "viele grüße", "mit freundlichen grüßen", "gruss", "grüsse", "viele grüsse",
    "mit freundlichen grüssen", "merci", "cordialement",
    "bien à vous", "bedankt", "groet", "groetjes", "met vriendelijke groet", "gracias", "saludos", "un saludo",
    "dear", "mr", "mrs", "ms", "miss", "dr", "herr", "frau", "m", "mme", "mlle", "madame", "monsieur", "dhr",
    "mevr", "meneer", "mevrouw", "sr", "sra", "srta", "don", "doña", "señor", "señora", "husband", "wife",
    "daughter", "son", "mother", "father", "partner", "brother", "sister", "colleague", "mann", "tochter", "sohn",
    "mutter", "vater", "mari", "femme", "fille", "fils", "mère", "père", "man", "vrouw", "dochter", "zoon",
    "moeder", "vader", "marido", "mujer", "hija", "hijo", "madre", "padre", "customer", "kunde", "client",
    "klant", "cliente", "follow up with", "owed to", "referred by", "spoke to", "spoke with", "speak to", "call",
    "contact", "ring",
)
WEAK_CUES = ("to", "with", "from", "for", "and", "an", "mit", "von", "für", "und", "à", "chez", "avec", "pour",
             "et", "naar", "voor", "en", "con", "a", "para", "y", "gesprochen mit", "parlé à", "hablé con")
# Street types: Faker's lists for the countries we serve, and the common ones beyond them.
STREET_SUFFIXES_COMPOUND = (  # written into the word: Hauptstraße, Lizzystraat
    "straße", "strasse", "str.", "gasse", "platz", "ring", "weg", "allee", "damm", "ufer", "chaussee", "steig",
    "pfad", "markt", "graben", "straat", "laan", "plein", "gracht", "kade", "baan", "dreef", "hof", "pad",
    "singel", "steeg", "dijk", "boulevard", "park", "wal", "kanaal", "veld", "hoek",
)
STREET_WORDS_EN = (  # after the name: Baker Street (Faker's en_GB list and the usual ones)
    "road", "street", "lane", "close", "way", "terrace", "row", "avenue", "drive", "gardens", "crescent", "place",
    "square", "mews", "grove", "hill", "court", "park", "walk", "view", "rise", "green", "parade", "alley", "branch",
    "bridge", "brook", "brooks", "burg", "burgs", "bypass", "camp", "canyon", "cape", "causeway", "center",
    "centers", "circle", "circles", "cliff", "cliffs", "club", "common", "corner", "corners", "course", "courts",
    "cove", "coves", "creek", "crest", "crossing", "crossroad", "curve", "dale", "dam", "divide", "drives",
    "estate", "estates", "expressway", "extension", "extensions", "fall", "falls", "ferry", "field", "fields",
    "flat", "flats", "ford", "fords", "forest", "forge", "forges", "fork", "forks", "fort", "freeway", "garden",
    "gateway", "glen", "glens", "greens", "groves", "harbor", "harbors", "haven", "heights", "highway", "hills",
    "hollow", "inlet", "island", "islands", "isle", "junction", "junctions", "key", "keys", "knoll", "knolls",
    "lake", "lakes", "land", "landing", "light", "lights", "loaf", "lock", "locks", "lodge", "loop", "mall",
    "manor", "manors", "meadow", "meadows", "mill", "mills", "mission", "motorway", "mount", "mountain",
    "mountains", "neck", "orchard", "oval", "overpass", "parks", "parkway", "parkways", "pass", "passage", "path",
    "pike", "pine", "pines", "plain", "plains", "plaza", "point", "points", "port", "ports", "prairie", "radial",
    "ramp", "ranch", "rapid", "rapids", "rest", "ridge", "ridges", "river", "roads", "route", "shoal", "shoals",
    "shore", "shores", "skyway", "spring", "springs", "spur", "spurs", "squares", "station", "stravenue",
    "stream", "streets", "summit", "throughway", "trace", "track", "trafficway", "trail", "tunnel", "turnpike",
    "underpass", "union", "unions", "valley", "valleys", "via", "viaduct", "views", "village", "villages", "ville",
    "vista", "walks", "wall", "ways", "well", "wells", "rue", "run",
)
STREET_PREFIXES = (  # before the name: rue de la Paix, Calle Mayor, Via Roma
    "rue", "avenue", "boulevard", "chemin", "place", "impasse", "allée", "quai", "route", "cours", "square",
    "passage", "plaza", "calle", "c/", "avenida", "avda.", "via", "vial", "vía", "rambla", "glorieta",
    "urbanización", "callejón", "cañada", "alameda", "acceso", "ronda", "pasaje", "cuesta", "pasadizo", "paseo", "c.",
    "camino", "carrer", "travesía", "piazza", "strada", "borgo", "contrada", "rotonda", "incrocio", "viale",
    "stretto", "vicolo", "canale", "corso", "largo", "piazzale", "lungomare",
)
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "januar",
    "februar", "märz", "mai", "juni", "juli", "oktober", "dezember", "janvier", "février", "mars", "avril", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre", "janv", "févr", "avr", "juil", "déc",
    "januari", "februari", "maart", "mei", "augustus", "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "setiembre", "octubre", "noviembre", "diciembre", "ene", "abr", "ago", "dic",
    "gennaio", "febbraio", "aprile", "maggio", "giugno", "luglio", "settembre", "ottobre", "dicembre",
)
WORD_SPLIT = re.compile(r"[^\w]+|_|\d+")
LEXICON = Path(__file__).with_name("data") / "common_words.tsv"


def _provider_names(locale: str) -> set[str]:
    try:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    except ModuleNotFoundError:
        return set()
    names: set[str] = set()
    # Lists are named differently per locale (pl_PL: male_last_names, unisex_last_names; az_AZ …).
    for attribute in (a for a in dir(provider) if a.endswith("names") or "_names_" in a):
        if "language" in attribute or "kana" in attribute:
            continue
        values = getattr(provider, attribute, ())
        if isinstance(values, (list, tuple, dict, set, frozenset)):  # weighted dicts: their keys
            names.update(v for v in values if isinstance(v, str))
    return names


def lower_same_length(text: str) -> str:
    """`text.lower()` with one character per character ("İ" lower-cases to two), so offsets carry over."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else "".join(ch.lower()[0] for ch in text)


@lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    """Lower-case words of every listed first and last name; particles, titles, one-letter parts and
    the most common words of the languages left out."""
    frequency = word_frequency()
    return frozenset(w for w in listed_name_words() - PARTICLES - TITLES if frequency.get(w, 0.0) < NOT_A_NAME_ZIPF)


@lru_cache(maxsize=1)
def listed_name_words() -> frozenset[str]:
    """Lower-case words of every listed first and last name, of two letters or more, common words too."""
    words: set[str] = set()
    for locale in NAME_LOCALES:
        for name in _provider_names(locale):
            words.update(w for w in WORD_SPLIT.split(lower_same_length(name)) if len(w) > 1 and w.isalpha())
    # Turkish dotless ı: "Yargı" in capitals is "YARGI", which lower-cases to "yargi" (and "İ" to "i"), a
    # word in no list; the folded spelling is listed too, so a name in capitals is found as in mixed case.
    words.update([w.replace("ı", "i") for w in words if "ı" in w])
    return frozenset(words)


@lru_cache(maxsize=1)
def word_frequency() -> dict[str, float]:
    """Zipf frequency (log10 per billion words) of words common in the languages tickets come in."""
    out = {}
    for line in LEXICON.read_text(encoding="utf-8").splitlines():
        word, _, zipf = line.partition("\t")
        out[word] = float(zipf)
    return out
