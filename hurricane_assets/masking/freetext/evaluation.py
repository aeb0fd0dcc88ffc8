"""Recall and precision of the free-text detector on messages whose personal data is labelled.

A labelled span counts as found when every letter and digit of it lies inside some finding (of any
entity: what matters is that it is removed). A finding counts as correct when it overlaps a labelled
span. Recall is reported per entity, and for names also for those outside the gazetteer, and per rare
layout (`LabelledText.layouts`: "111-22-2333", "jsmith(at)gmx(punkt)de", …), held to its entity's
target: a few percent of an entity written in a layout the detector misses hardly moves its recall.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hurricane_assets.masking.freetext.detector import Finding, detect
from hurricane_assets.synthetic.ticket_text import LabelledText

DIRECT_IDENTIFIERS = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "NATIONAL_ID", "IBAN_CODE", "CREDIT_CARD")
QUASI_IDENTIFIERS = ("DATE_OF_BIRTH", "LOCATION", "STREET_ADDRESS", "TOWN")
RECALL_TARGETS = {**{e: 0.995 for e in DIRECT_IDENTIFIERS}, **{e: 0.98 for e in QUASI_IDENTIFIERS}}
# A rare layout is held to its entity's target, except: a particle name in a message without capitals whose
# surname is a common word ("sandile van made") has nothing to tell it from words (docs/masking.md, limits).
RARE_LAYOUT_TARGETS = {"name_particle": 0.98}


@dataclass
class Evaluation:
    messages: int = 0
    labelled: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    layout_labelled: Counter = field(default_factory=Counter)  # (entity, rare layout) -> spans
    layout_found: Counter = field(default_factory=Counter)
    findings: int = 0
    correct_findings: int = 0
    seconds: float = 0.0
    missed: list[tuple[str, str, str]] = field(default_factory=list)  # (entity, value, text): for debugging only
    false_positives: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, entity: str) -> float:
        return self.found[entity] / self.labelled[entity] if self.labelled[entity] else 1.0

    @property
    def precision(self) -> float:
        return self.correct_findings / self.findings if self.findings else 1.0

    def below_target(self) -> dict[str, float]:
        return {e: round(self.recall(e), 4) for e, target in RECALL_TARGETS.items()
                if self.labelled[e] and self.recall(e) < target}

    def layout_recall(self) -> dict[str, float]:
        return {layout: round(self.layout_found[(e, layout)] / n, 4)
                for (e, layout), n in sorted(self.layout_labelled.items(), key=lambda item: item[0][1])}

    def layouts_below_target(self) -> dict[str, float]:
        return {layout: round(self.layout_found[(e, layout)] / n, 4) for (e, layout), n in self.layout_labelled.items()
                if self.layout_found[(e, layout)] / n < RARE_LAYOUT_TARGETS.get(layout, RECALL_TARGETS.get(e, 0.0))}

    def summary(self) -> dict:
        """JSON-ready figures (no text: the missed values stay in memory for debugging)."""
        return {
            "messages": self.messages,
            "recall": {e: round(self.recall(e), 4) for e in sorted(self.labelled)},
            "labelled_spans": dict(sorted(self.labelled.items())),
            "recall_per_rare_layout": self.layout_recall(),
            "rare_layout_spans": {layout: n for (_, layout), n in sorted(self.layout_labelled.items(),
                                                                           key=lambda item: item[0][1])},
            "precision": round(self.precision, 4),
            "findings": self.findings,
            "messages_per_s": round(self.messages / self.seconds) if self.seconds else None,
        }


def covered(text: str, start: int, end: int, coverage: bytearray) -> bool:
    return all(coverage[i] for i in range(start, end) if text[i].isalnum())


def evaluate(messages: Iterable[LabelledText], find: Callable[[str], list[Finding]] = detect, *,
             unlisted: Callable[[str], bool] | None = None, keep_examples: int = 0) -> Evaluation:
    """Runs `find` on every message and scores it against the labels. `unlisted(value)` tells which
    PERSON spans hold no gazetteer name (scored again as PERSON_UNLISTED)."""
    result = Evaluation()
    texts = list(messages)
    started = time.perf_counter()
    all_findings = [find(m.text) for m in texts]
    result.seconds = time.perf_counter() - started
    for message, findings in zip(texts, all_findings):
        text = message.text
        result.messages += 1
        coverage = bytearray(len(text))
        for f in findings:
            coverage[f.start:f.end] = b"\x01" * (f.end - f.start)
        labelled = bytearray(len(text))
        entity_at = {}
        for start, end, entity in message.spans:
            entity_at[(start, end)] = entity
            labelled[start:end] = b"\x01" * (end - start)
            kinds = [entity]
            if entity == "PERSON" and unlisted is not None and unlisted(text[start:end]):
                kinds.append("PERSON_UNLISTED")
            hit = covered(text, start, end, coverage)
            for kind in kinds:
                result.labelled[kind] += 1
                result.found[kind] += hit
            if not hit and len(result.missed) < keep_examples:
                result.missed.append((entity, text[start:end], text))
        for start, end, layout in message.layouts:
            key = (entity_at[(start, end)], layout)
            result.layout_labelled[key] += 1
            result.layout_found[key] += covered(text, start, end, coverage)
        for f in findings:
            result.findings += 1
            if any(labelled[f.start:f.end]):
                result.correct_findings += 1
            elif len(result.false_positives) < keep_examples:
                result.false_positives.append((text[f.start:f.end], f.shape))
    return result
