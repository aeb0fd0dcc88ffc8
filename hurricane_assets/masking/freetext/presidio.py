"""The same recognizers inside Presidio's engines: the benchmark's baseline, and a check that they agree.

`presidio_analyzer()` registers one Presidio `EntityRecognizer` per shape of patterns.py (same compiled
regex, same validator), one for names (names.py) and one for emails, in an `AnalyzerEngine` on a
blank spaCy pipeline saved under `$HURRICANE_HOME/cache/` (a path as model name: nothing is
downloaded). Presidio scans each regex over the whole text, where our detector anchors them on digit
groups; its results go through Presidio's `AnonymizerEngine` with our operators registered.
"""

from __future__ import annotations

import threading

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import SpacyNlpEngine

from hurricane_assets.masking.freetext.gazetteer import lower_same_length
from hurricane_assets.masking.freetext.names import scan
from hurricane_assets.masking.freetext.patterns import SHAPES, Shape, find_emails
from hurricane_assets.settings import hurricane_paths

LANGUAGE = "en"
SCORE = 0.85


class ShapeRecognizer(EntityRecognizer):
    """One shape of patterns.py: its regex scanned over the text, each match passed through its check."""

    def __init__(self, shape: Shape):
        self.shape = shape
        super().__init__(supported_entities=[shape.entity], name=f"hurricane_{shape.name}", supported_language=LANGUAGE)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        out = []
        for m in self.shape.regex.finditer(text):
            span = self.shape.check(m, text)
            if span is not None and span[1] > span[0]:
                out.append(RecognizerResult(self.shape.entity, span[0], span[1], SCORE))
        return out


class NameRecognizer(EntityRecognizer):
    def __init__(self):
        super().__init__(supported_entities=["PERSON"], name="hurricane_names", supported_language=LANGUAGE)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [RecognizerResult("PERSON", s, e, SCORE) for s, e in scan(text)[0]]


class EmailRecognizer(EntityRecognizer):
    def __init__(self):
        super().__init__(supported_entities=["EMAIL_ADDRESS"], name="hurricane_emails", supported_language=LANGUAGE)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [RecognizerResult("EMAIL_ADDRESS", s, e, SCORE) for s, e in find_emails(text, lower_same_length(text))]


def blank_pipeline_path() -> str:
    """A blank English spaCy pipeline on disk; passing a path stops Presidio from downloading a model."""
    import spacy

    folder = hurricane_paths().home / "cache" / f"spacy-blank-{LANGUAGE}-{spacy.__version__}"
    if not (folder / "meta.json").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        spacy.blank(LANGUAGE).to_disk(folder)
    return str(folder)


_lock = threading.Lock()
_analyzer: AnalyzerEngine | None = None


def presidio_analyzer() -> AnalyzerEngine:
    """Presidio's analyzer with our recognizers (built once per process: construction is slow)."""
    global _analyzer
    with _lock:
        if _analyzer is None:
            recognizers = [NameRecognizer(), EmailRecognizer(), *(ShapeRecognizer(s) for s in SHAPES)]
            registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
            nlp = SpacyNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": blank_pipeline_path()}])
            _analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=[LANGUAGE])
        return _analyzer


def presidio_operators(key) -> dict:
    """Anonymizer operators per entity: our column operators where the detector's redaction uses them."""
    from presidio_anonymizer.entities import OperatorConfig

    return {
        "PERSON": OperatorConfig("fake_name", {"key": key, "entity": "person"}),
        "EMAIL_ADDRESS": OperatorConfig("email", {"key": key, "entity": "email"}),
        "PHONE_NUMBER": OperatorConfig("phone", {"key": key, "entity": "phone"}),
        "IBAN_CODE": OperatorConfig("iban", {"key": key, "entity": "iban"}),
        "IP_ADDRESS": OperatorConfig("hmac_token", {"key": key, "entity": "ip_address"}),
        "DEFAULT": OperatorConfig("replace"),
    }


def presidio_redactor(key):
    """text -> redacted text through Presidio's analyzer and anonymizer."""
    from presidio_anonymizer import AnonymizerEngine

    from hurricane_assets.masking.registry import register_into

    analyzer = presidio_analyzer()
    anonymizer = AnonymizerEngine()
    register_into(anonymizer)
    operators = presidio_operators(key)

    def redact(text: str) -> str:
        results = analyzer.analyze(text, language=LANGUAGE)
        return anonymizer.anonymize(text, results, operators=operators).text

    return redact
