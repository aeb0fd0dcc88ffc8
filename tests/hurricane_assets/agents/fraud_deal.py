"""The fraud model's need agreed and contracted through an exchange's agents, checked the same way
whatever carries the agents (in process or over HTTP)."""

from hurricane_assets.contracts.contract import verify_contract
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.negotiation_runtime import run_negotiation
from hurricane_assets.policy.gate import CedarPolicyGate
from hurricane_assets.sharing.contracting import sign_agreements
from negotiation_graph.context import fixed_clock
from tests.hurricane_assets.test_negotiation_runtime import T0, fraud_need


def agree_and_contract_fraud_need(exchange):
    """Negotiate the fraud need through `exchange`, sign its agreements into contracts; asserts that
    every message and both signatures of every contract verify, each by its own domain's key.
    Returns (negotiation result, signing outcome)."""
    result = run_negotiation(fraud_need(), clock=fixed_clock(T0), exchange=exchange)
    assert result.outcome.status == "agreed"
    assert {f"{a.producer}.{a.dataset}" for a in result.agreements} == {"payments.transactions", "customers.profiles"}
    for message in result.transcript:  # every message signed by its sender's domain, verifiably
        assert message.signature.signer == message.sender.removeprefix("agent:").split("/")[0]
        exchange.signer.verify(message.canonical(), message.signature)
    outcome = sign_agreements(result.agreements, gate=CedarPolicyGate(), signer=exchange.signer,
                              ledger=exchange.ledger, store=ContractStore())
    assert len(outcome.contracts) == 2 and not outcome.refused
    for contract in outcome.contracts:
        verify_contract(contract, exchange.signer)
        assert sorted(s.block.signer for s in contract.signatures) == sorted([contract.producer, contract.consumer])
    return result, outcome
