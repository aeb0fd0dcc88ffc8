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
from hurricane_assets.masking.erasure import Erasures
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.models import store_files
from hurricane_assets.models.store import (
    drop_reference,
    drop_subjects,
    model_dir,
    model_names,
    read_reference,
    read_subjects,
    replace_reference,
    replace_subjects,
    request_retrain,
    versions,
)
from hurricane_assets.models.subjects import ReferenceSubjects, erased_digests, rows_of, subject_hits
from hurricane_assets.object_files import Target, join

log = logging.getLogger(__name__)

UNATTRIBUTED = "stored before references said whose rows they hold: an erased person's rows cannot be told apart"


@dataclass(frozen=True)
class ModelErasure:
    """What an erasure did to a domain's model store, per `<model>/<version>`: never whose rows."""

    rows_removed: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # whole references removed, with the reason
    persons_removed: dict[str, int] = field(default_factory=dict)  # from each version's subjects (its whole window)
    retrain: dict[str, str] = field(default_factory=dict)  # model -> why its current version must be retrained

    def to_dict(self) -> dict:
        return {"rows_removed": dict(self.rows_removed), "dropped": dict(self.dropped),
                "persons_removed": dict(self.persons_removed), "retrain": dict(self.retrain)}


def erase_from_models(domain: str, keyring: Keyring, erasures: Erasures, *, catalog: Catalog) -> ModelErasure:
    """Apply `erasures` to the references of every stored version of `domain`'s models trained in
    `keyring.env` (and drop every reference that cannot be attributed or read). The current version
    that learnt from an erased person (its `subjects.parquet`, the whole window, holds their digest;
    for a version stored without one, its reference) or that cannot say (a reference dropped) is
    marked for a retrain (`store.request_retrain`), which the domain's erasure-retrain sensor runs;
    training leaves the register's persons out. A version just stored by a fit that began before a
    request is marked too, so a request made during a retrain still reaches the model."""
    result = ModelErasure()
    if not erasures:  # nobody erased: nothing to remove, and an old reference holds no erased person
        return result
    for model in model_names(domain):
        current = store_files.read_pointer(model_dir(domain, model))
        for version in versions(domain, model):
            name = f"{model}/{version}"
            path = join(model_dir(domain, model), version)
            try:
                why = _erase_version(domain, name, path, keyring, erasures, catalog, result)
            except Exception as exc:  # noqa: BLE001 - a bad file must not stop the erasure of the other versions
                why = _drop_unreadable(domain, name, path, exc, result)
            if version == current and why:
                request_retrain(domain, model, version, why)
                result.retrain[model] = why
                log.info("erasure: %s.%s %s learnt from erased persons; retrain requested", domain, model, version)
    return result


def _erase_version(domain: str, name: str, path: Target, keyring: Keyring, erasures: Erasures, catalog: Catalog,
                   result: ModelErasure) -> str | None:
    """Remove the erased persons from the version's reference and subjects; why it must be retrained
    (it learnt from one of them, or cannot tell), None when it need not."""
    why = None
    frame = read_reference(path)
    if frame is not None:
        subjects = ReferenceSubjects.of(frame)
        unattributable = _unattributable(subjects, keyring)
        if unattributable:
            drop_reference(path)
            result.dropped[name] = unattributable
            log.warning("erasure: dropped the reference of %s/%s: %s", domain, name, unattributable)
            why = f"its reference was dropped ({unattributable})"
        elif subjects.environment == keyring.env:  # another environment's tokens: its own masked writes apply it
            hit = rows_of(frame, subjects, erased_digests(subjects, erasures, keyring, catalog))
            if hit.any():
                replace_reference(path, frame[~hit])
                result.rows_removed[name] = int(hit.sum())
                why = f"{int(hit.sum())} row(s) of erased persons in its training window"
    people = read_subjects(path)
    if people is None:
        return why
    subjects = ReferenceSubjects.of(people)
    unattributable = _unattributable(subjects, keyring)
    if unattributable:
        drop_subjects(path)
        return f"its subjects were dropped ({unattributable})"
    if subjects.environment != keyring.env:
        return why
    hit = subject_hits(people, subjects, erased_digests(subjects, erasures, keyring, catalog))
    if not hit.any():
        return why
    replace_subjects(path, people[~hit])
    result.persons_removed[name] = int(hit.sum())
    return f"{int(hit.sum())} erased person(s) in its training window"


def _drop_unreadable(domain: str, name: str, path: Target, exc: Exception, result: ModelErasure) -> str:
    """A reference or subjects file that cannot be read may hold an erased person: both go, and the
    version (if current) is retrained. The error is logged with the version, never the file's content."""
    why = f"its reference or subjects file could not be read ({type(exc).__name__})"
    for drop in (drop_reference, drop_subjects):
        try:
            drop(path)
        except OSError as error:
            log.error("erasure: could not remove a file of %s/%s: %s", domain, name, error)
    result.dropped[name] = why
    log.warning("erasure: %s/%s: %s", domain, name, why)
    return why


def _unattributable(subjects: ReferenceSubjects | None, keyring: Keyring) -> str | None:
    if subjects is None:
        return UNATTRIBUTED
    if subjects.environment == keyring.env and subjects.key_id != keyring.key_id:
        return (f"its rows' digests were made with masking key {subjects.key_id or '(unknown)'}, not {keyring.env}'s "
                f"current {keyring.key_id}: they match no erased person any more")
    return None
