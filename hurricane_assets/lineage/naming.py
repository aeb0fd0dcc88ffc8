"""OpenLineage dataset names for table URIs: local paths are namespace `file`, object stores
`<scheme>://<bucket>` with the key as name (OpenLineage naming spec)."""

from __future__ import annotations

from urllib.parse import urlparse


def dataset_name(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return "file", parsed.path if parsed.scheme else uri
    return f"{parsed.scheme}://{parsed.netloc}", parsed.path.lstrip("/")
