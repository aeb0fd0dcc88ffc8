"""Contracts on disk: `<contracts>/<id>.json` (the typed record) beside `<id>.odcs.yaml` (the export)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from hurricane_assets.catalog import Catalog
from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.contracts.odcs import export_odcs
from hurricane_assets.settings import hurricane_paths


class ContractNotFoundError(KeyError):
    pass


class ContractStore:
    def __init__(self, folder: str | Path | None = None, *, catalog: Catalog | None = None):
        self._folder = Path(folder) if folder is not None else None
        self._catalog = catalog

    @property
    def folder(self) -> Path:
        return self._folder if self._folder is not None else hurricane_paths().contracts

    def _path(self, contract_id: str) -> Path:
        if "/" in contract_id or contract_id.startswith("."):
            raise ValueError(f"contract id {contract_id!r} is not a valid file name")
        return self.folder / f"{contract_id}.json"

    def save(self, contract: Contract) -> Path:
        """Write the record and its ODCS export; the export is validated before anything is written."""
        path = self._path(contract.contract_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        export_odcs(contract, catalog=self._catalog, path=self.folder / f"{contract.contract_id}.odcs.yaml")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(contract.model_dump_json(indent=2))
        os.replace(tmp, path)
        return path

    def get(self, contract_id: str) -> Contract:
        path = self._path(contract_id)
        if not path.exists():
            raise ContractNotFoundError(f"no contract {contract_id!r} in {self.folder}")
        try:
            return Contract.model_validate_json(path.read_text())
        except ValidationError as exc:
            raise ValueError(f"{path}: not a valid contract record: {exc.errors()[0]['msg']}") from None

    def list(self, *, status: ContractStatus | None = None) -> list[Contract]:
        if not self.folder.exists():
            return []
        contracts = [self.get(p.stem) for p in sorted(self.folder.glob("*.json"))]
        return [c for c in contracts if status is None or c.status is status]
