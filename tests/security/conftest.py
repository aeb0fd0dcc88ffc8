"""A ledger as the platform writes it in a contract's life, for the attacks in this folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hurricane_assets.ledger import EntryType, Ledger, LedgerAppend
from tests.trust_keys import home_at, install_keys

STORY = [
    ("NEGOTIATION_STARTED", "system:ledger"),
    ("OFFER", "agent:payments/producer"),
    ("COUNTER", "agent:risk/consumer"),
    ("ACCEPTED", "agent:payments/producer"),
    ("AGREEMENT", "system:ledger"),
    ("CONTRACT_SIGNED", "agent:payments/producer"),
    ("DELIVERED", "system:ledger"),
    ("LINEAGE_EMITTED", "system:ledger"),
]


def write_story(ledger: Ledger, contract: int) -> None:
    """One negotiation and its contract, one commit per entry (as the graph's nodes append)."""
    for step, (entry_type, actor) in enumerate(STORY):
        ledger.append(
            entry_type=entry_type,
            actor=actor,
            payload={"step": step, "terms_sha256": f"{contract:02d}{step:062d}"},
            negotiation_id=f"neg-{contract}",
            contract_id=f"contract-{contract}" if entry_type in ("CONTRACT_SIGNED", "DELIVERED") else None,
        )


def build_story() -> None:
    """Three contracts (24 entries, 24 commits), then two revocations among 13 trailing commits."""
    ledger = Ledger()
    for contract in range(3):
        write_story(ledger, contract)
    tail = [LedgerAppend(entry_type=EntryType.MESSAGE, actor="agent:risk/consumer", payload={"i": i}) for i in range(11)]
    tail.insert(3, LedgerAppend(entry_type=EntryType.REVOKED, actor="system:ledger", payload={"contract": 0}, contract_id="contract-0"))
    tail.insert(8, LedgerAppend(entry_type=EntryType.REVOKED, actor="system:ledger", payload={"contract": 1}, contract_id="contract-1"))
    for entry in tail:
        ledger.append(**entry.model_dump())
    assert len(ledger) == 37


@pytest.fixture(scope="session")
def story_template(tmp_path_factory) -> Path:
    """The story written once, in a home with the test process's keys (tests/trust_keys.py)."""
    home = tmp_path_factory.mktemp("story_home")
    with home_at(home):
        install_keys(home)
        build_story()
    return home


@pytest.fixture
def story_ledger(story_template, hurricane_home) -> Ledger:
    """This test's home holds the story: ledger, the log's checkpoints, every witness's copy, keys."""
    shutil.copytree(story_template, hurricane_home, dirs_exist_ok=True)
    return Ledger()
