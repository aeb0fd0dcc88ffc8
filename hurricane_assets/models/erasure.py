"""Erasure in a domain's model store: erased persons' rows leave every stored version's reference.

A version's `reference.parquet` keeps its training window's rows for good (older versions too), so
the register must reach it as it reaches the copies. `erase_from_models` runs wherever the register
is applied to something a domain holds in an environment, in the domain's own code location: every
masked copy of one of the domain's datasets (`copy_masked`) and every model the domain saves (its
training may have read a copy that had not yet applied a request; a delivery that removed the
person's rows changes the share and so retrains the model). Never the exchange's delivery: it may
write only the consumer's inbox. Each reference names its
rows' persons by keyed digests (`subjects.py`); the erased persons' digests are computed from the
register with the environment's key, and matching rows are removed with an atomic rewrite. A
reference that cannot say whose rows it holds (stored before it could, or under a masking key that
is no longer current) is dropped whole once the register holds anyone: it may hold an erased person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hurricane_assets.catalog import Catalog
from hurricane_assets.masking.erasure import Erasures, masked_subjects
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.models.store import (
    drop_reference,
    model_dir,
    model_names,
    read_reference,
    replace_reference,
    versions,
)
from hurricane_assets.models.subjects import ReferenceSubjects, digests, rows_of
from hurricane_assets.object_files import Target, join

log = logging.getLogger(__name__)

UNATTRIBUTED = "stored before references said whose rows they hold: an erased person's rows cannot be told apart"


@dataclass(frozen=True)
class ModelErasure:
    """What an erasure did to a domain's model store, per `<model>/<version>`: never whose rows."""

    rows_removed: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # whole references removed, with the reason

    def to_dict(self) -> dict:
        return {"rows_removed": dict(self.rows_removed), "dropped": dict(self.dropped)}


def erase_from_models(domain: str, keyring: Keyring, erasures: Erasures, *, catalog: Catalog) -> ModelErasure:
    """Apply `erasures` to the references of every stored version of `domain`'s models trained in
    `keyring.env` (and drop every reference that cannot be attributed)."""
    result = ModelErasure()
    if not erasures:  # nobody erased: nothing to remove, and an old reference holds no erased person
        return result
    for model in model_names(domain):
        for version in versions(domain, model):
            _erase_version(domain, f"{model}/{version}", join(model_dir(domain, model), version), keyring, erasures,
                           catalog, result)
    return result


def _erase_version(domain: str, name: str, path: Target, keyring: Keyring, erasures: Erasures, catalog: Catalog,
                   result: ModelErasure) -> None:
    frame = read_reference(path)
    if frame is None:
        return
    subjects = ReferenceSubjects.of(frame)
    why = _unattributable(subjects, keyring)
    if why:
        drop_reference(path)
        result.dropped[name] = why
        log.warning("erasure: dropped the reference of %s/%s: %s", domain, name, why)
        return
    if subjects.environment != keyring.env:  # another environment's tokens: its own masked writes apply it
        return
    hit = rows_of(frame, subjects, erased_digests(subjects, erasures, keyring, catalog))
    if hit.any():
        replace_reference(path, frame[~hit])
        result.rows_removed[name] = int(hit.sum())


def _unattributable(subjects: ReferenceSubjects | None, keyring: Keyring) -> str | None:
    if subjects is None:
        return UNATTRIBUTED
    if subjects.environment == keyring.env and subjects.key_id != keyring.key_id:
        return (f"its rows' digests were made with masking key {subjects.key_id or '(unknown)'}, not {keyring.env}'s "
                f"current {keyring.key_id}: they match no erased person any more")
    return None


def erased_digests(subjects: ReferenceSubjects, erasures: Erasures, keyring: Keyring,
                   catalog: Catalog) -> dict[str, set[str]]:
    """Per entity, the digests a reference holds for the erased persons: their ids masked as the copy
    the model trained on masks them, then digested as `subjects.with_subjects` did."""
    spec = catalog.dataset(subjects.domain, subjects.dataset)
    out: dict[str, set[str]] = {}
    for column, entity in subjects.columns.items():
        tokens = masked_subjects(erasures.subjects.get(entity, frozenset()), spec, column, keyring)
        out.setdefault(entity, set()).update(d for d in digests(tokens, keyring, entity) if d)
    return out
