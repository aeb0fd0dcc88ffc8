"""Contracts on disk: `<contracts>/<id>.json` (the typed record) beside `<id>.odcs.yaml` (the export),
in `$HURRICANE_HOME/contracts` or, with an S3 storage root, under `<root>/contracts` for every host."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hurricane_assets import object_files
from hurricane_assets.catalog import Catalog
from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.contracts.odcs import export_odcs
from hurricane_assets.settings import hurricane_paths

log = logging.getLogger(__name__)


class ContractNotFoundError(KeyError):
    pass


class UnreadableContract(ValueError):
    """A file in the contracts folder that is not the contract record its name says."""

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class ContractListing:
    contracts: list[Contract]
    unreadable: list[UnreadableContract]  # skipped, each naming its file and why


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
        except UnicodeDecodeError:
            raise UnreadableContract(path, "not a valid contract record: not UTF-8 text") from None
        try:
            contract = Contract.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]  # no values: a record may hold terms
            field = ".".join(map(str, first["loc"]))
            raise UnreadableContract(path, f"not a valid contract record: {field + ': ' if field else ''}{first['msg']} "
                                           f"({exc.error_count()} error(s))") from None
        if contract.contract_id != contract_id:  # a copied or renamed file would be read as another contract
            raise UnreadableContract(path, f"holds contract {contract.contract_id!r}, not {contract_id!r}")
        return contract

    def scan(self, *, status: ContractStatus | str | None = None) -> ContractListing:
        """Every readable contract (of `status`, if given) and every file that is not one. One bad
        file must not hide the others: the sweep, the delivery sensor and `contracts list` go on
        with the rest and report it."""
        # "active" from Python listed nothing (an identity test against the enum); an unknown name is a ValueError
        status = ContractStatus(status) if status is not None else None
        contracts, unreadable = [], []
        # hidden files (editor backups, `.x.json` left by a copy) are not records
        for name in (n for n in object_files.names(self.folder, ".json") if not n.startswith(".")):
            try:
                contract = self.get(name.removesuffix(".json"))
            except ContractNotFoundError:
                continue  # removed since the folder was listed
            except UnreadableContract as exc:
                unreadable.append(exc)
                continue
            except (ValueError, OSError) as exc:  # a name that is no contract id; a file that cannot be opened
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                unreadable.append(UnreadableContract(object_files.join(self.folder, name), reason))
                continue
            if status is None or contract.status is status:
                contracts.append(contract)
        return ContractListing(contracts, unreadable)

    def list(self, *, status: ContractStatus | str | None = None) -> list[Contract]:
        """The readable contracts; a file that is not one is logged and skipped (`scan` returns them)."""
        listing = self.scan(status=status)
        for bad in listing.unreadable:
            log.warning("skipped %s", bad)
        return listing.contracts
