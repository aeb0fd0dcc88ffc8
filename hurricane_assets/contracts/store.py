"""Contracts on disk: `<contracts>/<id>.json` (the typed record) beside `<id>.odcs.yaml` (the export),
in `$HURRICANE_HOME/contracts` or, with an S3 storage root, under `<root>/contracts` for every host."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from hurricane_assets import object_files
from hurricane_assets.catalog import Catalog
from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.contracts.odcs import export_odcs
from hurricane_assets.settings import hurricane_paths


class ContractNotFoundError(KeyError):
    pass


MAX_ID_LENGTH = 200  # a file name must stay under the file system's 255 bytes with its suffixes


class ContractStore:
    def __init__(self, folder: str | Path | None = None, *, catalog: Catalog | None = None):
        self._folder = Path(folder) if folder is not None else None
        self._catalog = catalog

    @property
    def folder(self) -> Path | str:
        return self._folder if self._folder is not None else hurricane_paths().contracts_root

    def _path(self, contract_id: str) -> Path | str:
        if "/" in contract_id or "\0" in contract_id or contract_id.startswith(".") or not contract_id:
            raise ValueError(f"contract id {contract_id[:60]!r} is not a valid file name")
        if len(contract_id.encode()) > MAX_ID_LENGTH:
            raise ValueError(f"contract id {contract_id[:40]!r}… is {len(contract_id.encode())} bytes long; "
                             f"ids have at most {MAX_ID_LENGTH}")
        return object_files.join(self.folder, f"{contract_id}.json")

    def save(self, contract: Contract) -> Path | str:
        """Write the record and its ODCS export; the export is validated before anything is written."""
        path = self._path(contract.contract_id)
        export_odcs(contract, catalog=self._catalog, path=object_files.join(self.folder, f"{contract.contract_id}.odcs.yaml"))
        object_files.write_text(path, contract.model_dump_json(indent=2))
        return path

    def get(self, contract_id: str) -> Contract:
        path = self._path(contract_id)
        try:
            text = object_files.read_text(path)
        except FileNotFoundError:
            raise ContractNotFoundError(f"no contract {contract_id!r} in {self.folder}") from None
        try:
            return Contract.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError(f"{path}: not a valid contract record: {exc.errors()[0]['msg']}") from None

    def list(self, *, status: ContractStatus | None = None) -> list[Contract]:
        # hidden files (editor backups, `.x.json` left by a copy) are not records
        names = [n for n in object_files.names(self.folder, ".json") if not n.startswith(".")]
        contracts = [self.get(name.removesuffix(".json")) for name in names]
        return [c for c in contracts if status is None or c.status is status]
