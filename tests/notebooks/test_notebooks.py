"""Every notebook under notebooks/ runs top to bottom on the project's venv kernel, without a cell
error, and shows what it is there to show. They run one after the other on one fresh HURRICANE_HOME,
the way a data scientist walks through them: the first builds the world, the others reuse it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "data-hurricane-venv"
CELL_TIMEOUT_S = 240  # the world-building cell: real Dagster runs on a loaded 2-core machine
# What a run must print, per notebook: a world that did not drift or a broken ledger is a failure
# even when no cell raises.
EXPECTED_OUTPUT = {  # in the order they run
    "request_data.ipynb": ("passed: False", "ROC AUC fell from", "DELIVERED", "VerificationResult(ok=True"),
    "model_drift_and_fix.ipynb": ("recovered to", "<Figure", "raised_need", "on its own data only"),
    "discover_and_request.ipynb": ("rows delivered", "merchant_category", "tokenize"),
    "why_was_my_request_denied.ipynb": ("card_number: refused by policy", "payments/card-number-never-shared",
                                        "column_never_shared", "granted: [", "delivered: None"),
    "audit_ledger_and_contract.ipynb": ("signed by producer", "signed by consumer", "apiVersion",
                                        "VerificationResult(ok=True", "share.payments__transactions.materialize"),
}


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def text_outputs(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_every_notebook_has_its_expected_output_listed():
    assert notebooks(), f"no notebook under {NOTEBOOKS}"
    assert {p.name for p in notebooks()} == set(EXPECTED_OUTPUT)


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch) -> str:
    """A kernel spec launching this interpreter (the venv the tests run in). JUPYTER_PATH is searched
    before the user's and the system's folders, so no other `python3` kernel can stand in for it."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Data Hurricane (tests)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL_NAME


@pytest.mark.e2e
def test_every_notebook_runs_in_order_without_error(hurricane_home: Path, venv_kernel: str):
    assert os.environ["HURRICANE_HOME"] == str(hurricane_home)  # the kernel inherits the environment
    for name, expected in EXPECTED_OUTPUT.items():
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), f"{name}: outputs not stripped"
        client = NotebookClient(notebook, kernel_name=venv_kernel, timeout=CELL_TIMEOUT_S,
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        client.execute()  # raises CellExecutionError naming the cell and its traceback
        shown = text_outputs(notebook)
        missing = [snippet for snippet in expected if snippet not in shown]
        assert not missing, f"{name} ran but did not show {missing}"
    assert any((hurricane_home / "envs").iterdir()), "the notebooks wrote nothing under HURRICANE_HOME"
