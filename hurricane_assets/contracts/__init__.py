"""Signed share contracts, their lifecycle, their store and their ODCS v3.1.0 export."""

from hurricane_assets.contracts.contract import (
    Contract,
    ContractSignatureError,
    ContractStatus,
    IllegalTransitionError,
    LedgerRef,
    PartySignature,
    default_share_uri,
    sign_contract,
    verify_contract,
)
from hurricane_assets.contracts.odcs import OdcsError, export_odcs, import_odcs, odcs_path, to_odcs
from hurricane_assets.contracts.store import ContractNotFoundError, ContractStore

__all__ = [
    "Contract",
    "ContractNotFoundError",
    "ContractSignatureError",
    "ContractStatus",
    "ContractStore",
    "IllegalTransitionError",
    "LedgerRef",
    "OdcsError",
    "PartySignature",
    "default_share_uri",
    "export_odcs",
    "import_odcs",
    "odcs_path",
    "sign_contract",
    "to_odcs",
    "verify_contract",
]
