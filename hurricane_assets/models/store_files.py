"""The model store's file operations, on a local folder or an S3 prefix (`object_files` does each file).

What differs between the two is how a version becomes visible whole. Locally, its files are
written into a hidden staging folder renamed into place, and `current` is replaced atomically. S3 has
no rename: every file is PUT under the version's own prefix, which no reader opens until `current`
names it, and `current` is one PUT written last. A crash in between leaves a numbered prefix that was
never current (never reused: the next version takes the next number) and the previous model current.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pandas as pd

from hurricane_assets import object_files
from hurricane_assets.object_files import Target, join

CURRENT = "current"
VERSION = re.compile(r"v[0-9]{4}")


def version_names(root: Target) -> list[str]:
    """Every numbered version folder under a model's root, oldest first."""
    return [name for name in object_files.folders(root) if VERSION.fullmatch(name)]


def write_version(root: Target, version: str, files: dict[str, bytes]) -> Target:
    """Write `files` (in their order) as `version` under `root`; returns the version's folder."""
    final = join(root, version)
    if isinstance(final, Path):
        staging = Path(root) / f".{version}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, data in files.items():
            (staging / name).write_bytes(data)
        staging.rename(final)
        return final
    for name, data in files.items():
        object_files.write_bytes(join(final, name), data)
    return final


def read_pointer(root: Target) -> str | None:
    """The version `current` names, or None when no version was ever made current."""
    try:
        return object_files.read_text(join(root, CURRENT)).strip()
    except FileNotFoundError:
        return None


def set_pointer(root: Target, version: str) -> None:
    """Make `version` current: an atomic replace locally, one PUT on S3. Call only once every file of
    the version is written."""
    object_files.write_text(join(root, CURRENT), version)


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """A version's frame (reference.parquet) as the bytes the store writes."""
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def read_frame(target: Target) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(object_files.read_bytes(target)))


def write_frame(target: Target, frame: pd.DataFrame) -> None:
    """Replace a stored frame in place: an atomic replace locally, one PUT on S3."""
    object_files.write_bytes(target, frame_bytes(frame))
