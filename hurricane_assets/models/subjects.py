"""Whose rows a model's reference holds, so an erasure can remove one person's rows from it.

The reference (the training window's features and labels, the monitor's drift reference) has no
ids, yet a row can be one person's (the churn model's row of a customer). Each row therefore keeps,
per column of the rows dataset that refers to an entity (catalog `refers_to`, e.g. `customer_id`),
a keyed digest of the value the training frame held there: the token of the masked copy the model
trained on (the raw id for a model trained in prod). Never the id or the token itself: the digest
is keyed under a purpose's sub-key of the training environment's masking key, so the file alone
neither names anyone nor joins with the copies, while the platform, holding the key, can compute
the digest of an erased person (`masking.erasure.masked_subjects`, then `digests`).

What the digests mean (dataset, environment, key id, column -> entity) travels with the frame as
`DataFrame.attrs`, which pandas keeps through filtering and stores in the parquet file, so a
rewritten reference still says it. A key id that is not the environment's current key (a rotation
since) means the digests can no longer be matched: an erasure then drops the whole reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hurricane_assets.catalog import Catalog
from hurricane_assets.masking.erasure import Erasures, masked_subjects
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.operators.base import KeyedDigest

SUBJECT_PREFIX = "__subject__"  # reference column per entity column of the rows: `__subject__customer_id`
ATTRS_KEY = "dh.reference_subjects"
DIGEST_PURPOSE = "model-reference-subject"  # its own sub-key: never equal to a token of any copy
DIGEST_BYTES = 16


@dataclass(frozen=True)
class ReferenceSubjects:
    """Which reference columns hold whose digests: made from `domain.dataset` in `environment`."""

    domain: str
    dataset: str
    environment: str
    key_id: str | None  # the key the digests (and the tokens under them) were made with; None: unmatched
    columns: dict[str, str] = field(default_factory=dict)  # rows column -> entity it refers to

    def to_attrs(self) -> dict:
        return {"domain": self.domain, "dataset": self.dataset, "environment": self.environment,
                "key_id": self.key_id, "columns": dict(self.columns)}

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ReferenceSubjects | None:
        """What `frame` (a stored reference) says about its rows; None for one stored before it did."""
        stored = frame.attrs.get(ATTRS_KEY)
        return None if stored is None else cls(**stored)


def subject_column(column: str) -> str:
    return SUBJECT_PREFIX + column


def digests(values: pd.Series | list, keyring: Keyring, entity: str) -> list[str | None]:
    """The keyed digest (hex) of each value as a reference stores it; None stays None."""
    digest = KeyedDigest(keyring.key, DIGEST_PURPOSE, entity)
    return [None if v is None or v != v else digest(str(v), DIGEST_BYTES).hex() for v in values]


def with_subjects(reference: pd.DataFrame, rows: pd.DataFrame, subjects: ReferenceSubjects,
                  keyring: Keyring) -> pd.DataFrame:
    """`reference` (indexed like `rows`) plus one digest column per entity column, its attrs saying so."""
    out = reference.assign(**{
        subject_column(column): digests(rows.loc[reference.index, column].tolist(), keyring, entity)
        for column, entity in subjects.columns.items()})
    out.attrs[ATTRS_KEY] = subjects.to_attrs()
    return out


def window_subjects(rows: pd.DataFrame, subjects: ReferenceSubjects, keyring: Keyring) -> pd.DataFrame:
    """(column, digest) of every distinct person in `rows` per entity column: whom a version learnt
    from, whole (the reference is a sample), so an erasure knows which versions must be retrained."""
    parts = []
    for column, entity in subjects.columns.items():
        values = pd.Series(rows[column].dropna().unique())
        parts.append(pd.DataFrame({"column": column, "digest": digests(values.tolist(), keyring, entity)}))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"column": [], "digest": []})
    frame.attrs[ATTRS_KEY] = subjects.to_attrs()
    return frame


def subject_hits(frame: pd.DataFrame, subjects: ReferenceSubjects, erased: dict[str, set[str]]) -> pd.Series:
    """Which rows of a `window_subjects` frame are an erased person's digest (as `rows_of` for a reference)."""
    hit = pd.Series(False, index=frame.index)
    for column, entity in subjects.columns.items():
        if erased.get(entity):
            hit |= (frame["column"] == column) & frame["digest"].isin(erased[entity])
    return hit


def rows_of(reference: pd.DataFrame, subjects: ReferenceSubjects, erased: dict[str, set[str]]) -> pd.Series:
    """Which rows of `reference` hold one of the `erased` digests (per entity) in a column of that entity."""
    hit = pd.Series(False, index=reference.index)
    for column, entity in subjects.columns.items():
        if erased.get(entity) and subject_column(column) in reference.columns:
            hit |= reference[subject_column(column)].isin(erased[entity])
    return hit


def erased_tokens(subjects: ReferenceSubjects, erasures: Erasures, keyring: Keyring,
                  catalog: Catalog) -> dict[str, list[str]]:
    """Per rows column, the erased persons' ids as the copy the model trains on holds them: masked by
    the manifest's plan with the environment's key (the raw ids in prod)."""
    spec = catalog.dataset(subjects.domain, subjects.dataset)
    return {column: masked_subjects(erasures.subjects.get(entity, frozenset()), spec, column, keyring)
            for column, entity in subjects.columns.items()}


def erased_digests(subjects: ReferenceSubjects, erasures: Erasures, keyring: Keyring,
                   catalog: Catalog) -> dict[str, set[str]]:
    """Per entity, the digests a reference holds for the erased persons: their tokens (`erased_tokens`)
    digested as `with_subjects` did."""
    out: dict[str, set[str]] = {}
    for column, tokens in erased_tokens(subjects, erasures, keyring, catalog).items():
        entity = subjects.columns[column]
        out.setdefault(entity, set()).update(d for d in digests(tokens, keyring, entity) if d)
    return out


def erased_training_rows(rows: pd.DataFrame, subjects: ReferenceSubjects, erasures: Erasures, keyring: Keyring,
                         catalog: Catalog) -> pd.Series:
    """Which training rows are an erased person's: a copy written before the request still holds them,
    and a model must not learn from them again."""
    hit = pd.Series(False, index=rows.index)
    if not erasures:
        return hit
    for column, tokens in erased_tokens(subjects, erasures, keyring, catalog).items():
        if tokens and column in rows.columns:
            hit |= rows[column].astype("string").isin(tokens)
    return hit
