"""Whole-file objects (contract records, ODCS exports, the model store's files, monitor reports) in a
local folder or under an S3 prefix.

A local target is a `Path` and is written atomically (temp file + rename); an S3 target is an
``s3://bucket/key`` string written by one PUT, which S3 makes visible whole or not at all. Credentials
and endpoint come from `storage.storage_options`, the same as for the Delta tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.fs as pafs

from hurricane_assets.storage import is_s3, storage_options

Target = str | Path


def join(root: Target, name: str) -> Target:
    return f"{str(root).rstrip('/')}/{name}" if isinstance(root, str) and is_s3(root) else Path(root) / name


def _s3(uri: str) -> tuple[pafs.S3FileSystem, str]:
    options = storage_options(uri)
    endpoint = options.get("AWS_ENDPOINT_URL", "")
    fs = pafs.S3FileSystem(
        access_key=options.get("AWS_ACCESS_KEY_ID"), secret_key=options.get("AWS_SECRET_ACCESS_KEY"),
        session_token=options.get("AWS_SESSION_TOKEN"), region=options.get("AWS_REGION"),
        endpoint_override=endpoint.split("://", 1)[-1] or None, scheme="http" if endpoint.startswith("http://") else "https",
    )
    return fs, uri.split("://", 1)[1]


def _remote(target: Target) -> bool:
    return isinstance(target, str) and is_s3(target)


def write_bytes(target: Target, data: bytes) -> None:
    if _remote(target):
        fs, path = _s3(target)
        with fs.open_output_stream(path) as out:
            out.write(data)
        return
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def write_text(target: Target, text: str) -> None:
    write_bytes(target, text.encode())


def read_bytes(target: Target) -> bytes:
    """The file's content; `FileNotFoundError` naming the target when there is none."""
    if _remote(target):
        fs, path = _s3(target)
        try:
            with fs.open_input_stream(path) as src:
                return src.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"no object at {target}") from None
    return Path(target).read_bytes()


def read_text(target: Target) -> str:
    """The file's text; `FileNotFoundError` naming the target when there is none."""
    return read_bytes(target).decode()


def exists(target: Target) -> bool:
    if _remote(target):
        fs, path = _s3(target)
        return fs.get_file_info(path).type == pafs.FileType.File
    return Path(target).exists()


def remove(target: Target) -> None:
    """Delete the file (nothing when there is none)."""
    if _remote(target):
        fs, path = _s3(target)
        if fs.get_file_info(path).type == pafs.FileType.File:
            fs.delete_file(path)
        return
    Path(target).unlink(missing_ok=True)


def names(folder: Target, suffix: str) -> list[str]:
    """Sorted names of the files directly in `folder` ending with `suffix` ([] when it is missing)."""
    if _remote(folder):
        fs, path = _s3(folder)
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        found = [i.base_name for i in infos if i.type == pafs.FileType.File]
    else:
        folder = Path(folder)
        found = [p.name for p in folder.iterdir() if p.is_file()] if folder.exists() else []
    return sorted(n for n in found if n.endswith(suffix))


def folders(folder: Target) -> list[str]:
    """Sorted names of the folders directly in `folder` (on S3: the common prefixes under it)."""
    if _remote(folder):
        fs, path = _s3(folder)
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory)
    folder = Path(folder)
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []
