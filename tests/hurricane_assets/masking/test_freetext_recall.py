"""Issue 11: free text is judged by recall on labelled spans, per entity, on 10,000 generated messages."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from hurricane_assets.masking.freetext import detect
from hurricane_assets.masking.freetext.evaluation import DIRECT_IDENTIFIERS, QUASI_IDENTIFIERS, evaluate
from hurricane_assets.masking.freetext.gazetteer import name_words
from hurricane_assets.synthetic import SyntheticConfig
from hurricane_assets.synthetic.ticket_text import ENTITIES, labelled_messages

# Not the seed the tests of the copy use: the detector was tuned on seed 7's messages.
CORPUS = SyntheticConfig(transactions=20_000, seed=23, as_of=datetime(2026, 6, 1, tzinfo=timezone.utc))
MESSAGES = 10_000


def unlisted(value: str) -> bool:
    words = name_words()
    return not any(w in words for w in re.split(r"[^\w]+", value.lower()) if w)


@pytest.fixture(scope="module")
def corpus():
    return labelled_messages(CORPUS, MESSAGES)


def test_recall_per_entity_meets_the_targets_on_10k_messages(corpus):
    result = evaluate(corpus, unlisted=unlisted)
    summary = result.summary()
    assert summary["messages"] == MESSAGES and set(ENTITIES) <= set(result.labelled)
    assert all(result.labelled[e] >= 500 for e in ENTITIES), summary["labelled_spans"]
    # 99.5 % for direct identifiers, 98 % for dates of birth, postcodes and streets.
    assert result.below_target() == {}, summary
    assert all(result.recall(e) >= 0.995 for e in DIRECT_IDENTIFIERS)
    assert all(result.recall(e) >= 0.98 for e in QUASI_IDENTIFIERS)
    assert result.precision >= 0.95, summary
    # Each rare layout (a few % of its entity: "111-22-2333", "March 3rd, 1987", "pieter @ kpn . nl",
    # "Hans von der Heyde", …) on its own, so a layout the detector misses cannot hide in its entity's figure.
    assert len(result.layout_labelled) >= 15 and all(n >= 3 for n in result.layout_labelled.values()), \
        summary["rare_layout_spans"]
    assert result.layouts_below_target() == {}, summary["recall_per_rare_layout"]
    # Names in no list are found by context only: reported, and held to a lower floor.
    assert result.labelled["PERSON_UNLISTED"] >= 50 and result.recall("PERSON_UNLISTED") >= 0.85


def test_the_evaluation_fails_a_detector_that_misses_an_entity(corpus):
    """What the recall test catches: a detector that lost its phone shapes, or its name cues."""
    without_phones = evaluate(corpus[:1500], lambda t: [f for f in detect(t) if f.entity != "PHONE_NUMBER"])
    assert "PHONE_NUMBER" in without_phones.below_target()
    names_only_capitalised = evaluate(corpus[:1500], lambda t: [
        f for f in detect(t) if f.entity != "PERSON" or t[f.start].isupper() and not t[f.start:f.end].isupper()])
    assert "PERSON" in names_only_capitalised.below_target()
