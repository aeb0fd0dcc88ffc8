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
    model_dir,
    model_names,
    read_reference,
    replace_reference,
    request_retrain,
    versions,
)
from hurricane_assets.models.subjects import ReferenceSubjects, erased_digests, rows_of
from hurricane_assets.object_files import Target, join

log = logging.getLogger(__name__)

UNATTRIBUTED = "stored before references said whose rows they hold: an erased person's rows cannot be told apart"


@dataclass(frozen=True)
class ModelErasure:
    """What an erasure did to a domain's model store, per `<model>/<version>`: never whose rows."""

    rows_removed: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # whole references removed, with the reason
    retrain: dict[str, str] = field(default_factory=dict)  # model -> why its current version must be retrained

    def to_dict(self) -> dict:
        return {"rows_removed": dict(self.rows_removed), "dropped": dict(self.dropped), "retrain": dict(self.retrain)}


def erase_from_models(domain: str, keyring: Keyring, erasures: Erasures, *, catalog: Catalog,
                      request_retrains: bool = True) -> ModelErasure:
    """Apply `erasures` to the references of every stored version of `domain`'s models trained in
    `keyring.env` (and drop every reference that cannot be attributed). The current version whose
    reference held an erased person's rows (or could not say whose rows it held) learned from them:
    with `request_retrains` it is marked for a retrain (`store.request_retrain`), which the domain's
    erasure-retrain sensor runs; training leaves erased persons' rows out (`erased_training_rows`).
    A model's own save passes False: the version it just stored was trained without them, and one
    that cannot tell (a copy older than the key) would only be retrained on the same copy again."""
    result = ModelErasure()
    if not erasures:  # nobody erased: nothing to remove, and an old reference holds no erased person
        return result
    for model in model_names(domain):
        current = store_files.read_pointer(model_dir(domain, model))
        for version in versions(domain, model):
            name = f"{model}/{version}"
            _erase_version(domain, name, join(model_dir(domain, model), version), keyring, erasures, catalog, result)
            if version != current or not request_retrains:
                continue
            why = (f"{result.rows_removed[name]} row(s) of erased persons in its training window" if name in result.rows_removed
                   else f"its reference was dropped ({result.dropped[name]})" if name in result.dropped else None)
            if why:
                request_retrain(domain, model, version, why)
                result.retrain[model] = why
                log.info("erasure: %s.%s %s learned from erased persons; retrain requested", domain, model, version)
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
