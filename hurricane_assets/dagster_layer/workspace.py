"""The Dagster side of the embedded default: the instance under `$HURRICANE_HOME/dagster` and the
code locations listed in `workspace.yaml`, loaded in-process the same way `dagster dev` loads them."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import dagster as dg
import yaml

from hurricane_assets.settings import hurricane_paths, postgres_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
INSTANCE_TEMPLATES = {"sqlite": REPO_ROOT / "dagster.yaml", "postgres": REPO_ROOT / "dagster.postgres.yaml"}


def instance_template() -> Path:
    """dagster.postgres.yaml when `HURRICANE_POSTGRES_HOST` is set, else the SQLite dagster.yaml."""
    return INSTANCE_TEMPLATES["postgres" if postgres_settings() else "sqlite"]


def hurricane_instance() -> dg.DagsterInstance:
    """The persistent instance `make ui` shows, with the dagster.yaml the settings select. A file that
    is one of the repo's templates follows the settings; a file the user edited is left alone."""
    home = hurricane_paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = instance_template()
    ours = {t.read_text() for t in INSTANCE_TEMPLATES.values()}
    if not config.exists() or (config.read_text() in ours and config.read_text() != template.read_text()):
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.from_config(str(home))


def workspace_locations(workspace_file: Path = WORKSPACE_FILE) -> dict[str, str]:
    """location name → module name, in workspace order."""
    entries = yaml.safe_load(workspace_file.read_text())["load_from"]
    return {e["python_module"]["location_name"]: e["python_module"]["module_name"] for e in entries}


def load_location(module_name: str, *, reload: bool = False) -> dg.Definitions:
    """The location's `defs`. `reload=True` re-executes the module, as a code-location reload does:
    its definitions are rebuilt from the current contract registry and `$HURRICANE_HOME`."""
    module = importlib.import_module(module_name)
    if reload:
        module = importlib.reload(module)
    defs = getattr(module, "defs", None)
    if not isinstance(defs, dg.Definitions):
        raise TypeError(f"{module_name} does not expose a Definitions object named `defs`")
    return defs
