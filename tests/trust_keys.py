"""Keys and a trust root for a test's HURRICANE_HOME, as `hurricane keys init` makes them.

Generated once per test process into a template folder and copied into each home (copies keep the
0700/0600 modes), so every test starts with provisioned keys and nothing is created on use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REFERENCE_DOMAINS = ("customers", "marketing", "payments", "risk", "support")
PARTS = ("trust", "domains", "exchange")
_template: Path | None = None


@contextmanager
def home_at(home: Path) -> Iterator[Path]:
    """HURRICANE_HOME set to `home` for the block (session fixtures build templates there), then restored."""
    saved = os.environ.get("HURRICANE_HOME")
    os.environ["HURRICANE_HOME"] = str(home)
    try:
        yield home
    finally:
        if saved is None:
            os.environ.pop("HURRICANE_HOME", None)
        else:
            os.environ["HURRICANE_HOME"] = saved


def _make_template() -> Path:
    from hurricane_assets.identity import DefaultKeySource, init_trust_root

    folder = Path(tempfile.mkdtemp(prefix="hurricane-test-keys-"))
    with home_at(folder):
        init_trust_root(list(REFERENCE_DOMAINS), DefaultKeySource())
    return folder


def install_keys(home: Path) -> None:
    """Copy the template's trust root and every identity's key store into `home`."""
    global _template
    if _template is None:
        _template = _make_template()
    home.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        shutil.copytree(_template / part, home / part, dirs_exist_ok=True)
