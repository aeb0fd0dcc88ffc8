"""The Dagster side of the embedded default: the instance under `$HURRICANE_HOME/dagster` and the
code locations listed in `workspace.yaml`, loaded in-process the same way `dagster dev` loads them."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import dagster as dg
import yaml

from hurricane_assets.settings import hurricane_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"


def hurricane_instance() -> dg.DagsterInstance:
    """The persistent instance `make ui` shows; created with the repo's dagster.yaml when missing."""
    home = hurricane_paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(REPO_ROOT / "dagster.yaml", config)
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
