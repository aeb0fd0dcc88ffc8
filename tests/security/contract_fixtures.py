"""What the contract, policy and approval attacks share: real shares on real Delta tables, and the
moves of an insider who can write `$HURRICANE_HOME` (edit a contract file, re-sign it with the
domains' keys found there, append to the ledger with them)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from hurricane_assets.contracts.contract import Contract, ContractStatus, LedgerRef, sign_contract
from hurricane_assets.delivery.deliver import deliver
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.synthetic import SyntheticConfig, generate_dataset

# the share-lifecycle fixtures of tests/hurricane_assets, reused (pytest finds them by name here)
from tests.hurricane_assets.conftest import share_catalog, share_gate, share_parts  # noqa: F401
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

PROD = (("payments", "transactions"), ("payments", "chargebacks"), ("customers", "profiles"), ("support", "tickets"))
PROD_CONFIG = SyntheticConfig(transactions=2000, seed=3, drift_days=30)  # as tests/hurricane_assets' share_prod_tables


@pytest.fixture(scope="session")
def prod_template(tmp_path_factory) -> Path:
    """The producers' prod tables, generated once per session (the attacks only need them to exist)."""
    root = tmp_path_factory.mktemp("security_prod")
    for domain, dataset in PROD:
        write_deltalake(str(root / "envs" / "prod" / domain / dataset), generate_dataset(PROD_CONFIG, domain, dataset))
    return root


@pytest.fixture
def share_prod_tables(prod_template, hurricane_home) -> SyntheticConfig:
    shutil.copytree(prod_template / "envs", hurricane_paths().home / "envs", dirs_exist_ok=True)
    return PROD_CONFIG


LIFECYCLE = ("gate", "signer", "ledger", "store")
DELIVERY = ("catalog", "gate", "signer", "ledger")


def signed(parts, terms=None, negotiation_id: str = "neg-1") -> Contract:
    outcome = sign_agreements([agreement_for(terms or fraud_terms(), parts["gate"], negotiation_id)],
                              **{k: parts[k] for k in LIFECYCLE})
    (contract,) = outcome.contracts
    return contract


def delivered(parts, terms=None) -> Contract:
    contract = signed(parts, terms)
    deliver(contract, **{k: parts[k] for k in DELIVERY})
    return contract


def contract_file(parts, contract: Contract) -> Path:
    return parts["store"].folder / f"{contract.contract_id}.json"


def edit_contract_file(parts, contract: Contract, edit) -> Contract:
    """The insider's move: change the stored JSON in place (no key needed); returns what the
    platform will now load."""
    path = contract_file(parts, contract)
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw, indent=2))
    return parts["store"].get(contract.contract_id)


def resign(parts, contract: Contract) -> Contract:
    """The insider who also read the domains' keys in `keys/`: a fresh, valid pair of signatures
    over the edited body, saved over the stored file."""
    bare = contract.model_copy(update={"signatures": ()})
    again = sign_contract(sign_contract(bare, "producer", parts["signer"]), "consumer", parts["signer"])
    parts["store"].save(again)
    return again


def victim_table(tmp_path: Path) -> str:
    """A Delta table outside the home that no contract names (another team's data)."""
    uri = str(tmp_path / "elsewhere" / "finance" / "ledger_book")
    write_deltalake(uri, pa.table({"account": ["a", "b", "c"], "balance": [1.0, 2.0, 3.0]}))
    return uri


def forge_active(parts, terms, negotiation_id: str = "neg-forged", now: datetime | None = None) -> Contract:
    """What `sign_agreements` did before approvals were enforced (and what an insider with both
    domains' keys can still do): propose, sign for both parties, record CONTRACT_SIGNED, save."""
    decision = parts["gate"].evaluate(terms)
    contract = Contract.propose(terms, negotiation_id=negotiation_id, policy_bundle_sha256=decision.bundle_sha256,
                                now=now or datetime.now(timezone.utc))
    contract = sign_contract(sign_contract(contract, "producer", parts["signer"]), "consumer", parts["signer"])
    contract = contract.transition(ContractStatus.active)
    receipt = parts["ledger"].append(
        entry_type=EntryType.CONTRACT_SIGNED, actor=f"agent:{terms.consumer}/consumer",
        payload={"contract_id": contract.contract_id, "agreement_sha256": contract.agreement_sha256,
                 "terms_sha256": terms.sha256()},
        negotiation_id=negotiation_id, contract_id=contract.contract_id)
    contract = contract.model_copy(update={"ledger": LedgerRef(seq=receipt.seq, entry_hash=receipt.entry_hash)})
    parts["store"].save(contract)
    return contract


def entry_types(parts) -> list[str]:
    return parts["ledger"].read(["entry_type"]).column("entry_type").to_pylist()
