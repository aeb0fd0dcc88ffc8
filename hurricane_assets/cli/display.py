"""How the CLI shows things at 80 columns: paths under `$HURRICANE_HOME` relative to it."""

from __future__ import annotations

from hurricane_assets.settings import hurricane_paths


def short_path(uri: str) -> str:
    """`envs/prod/payments/transactions` for a table under the home (the home is printed once);
    anything else (s3://…, another folder) unchanged."""
    home = str(hurricane_paths().home).rstrip("/") + "/"
    return uri[len(home):] if uri.startswith(home) else uri
