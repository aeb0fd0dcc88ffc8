from datetime import datetime, timezone

import pytest

from hurricane_assets.contracts import Contract, sign_contract
from hurricane_assets.identity import Signer
from negotiation_graph.terms import Predicate, RowFilter, ShareTerms


@pytest.fixture
def terms():
    return ShareTerms(
        producer="payments",
        consumer="risk",
        dataset="transactions",
        columns={"txn_id": "none", "customer_id": "tokenize", "amount": "none", "device_id": "tokenize", "card_number": "drop", "event_ts": "none"},
        row_filter=RowFilter(all_of=(Predicate(column="channel", op="in", values=("online", "wallet")),), since_days=90),
        purpose="fraud_detection",
        environment="preprod",
        freshness_hours=24,
        retention_days=90,
        term_days=90,
    )


@pytest.fixture
def signer():
    return Signer()


@pytest.fixture
def signed(terms, signer):
    contract = Contract.propose(
        terms, negotiation_id="neg-42", policy_bundle_sha256="ab" * 32, now=datetime.now(timezone.utc)
    )
    return sign_contract(sign_contract(contract, "producer", signer), "consumer", signer)
