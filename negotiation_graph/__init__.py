"""The DH-NP negotiation protocol as a LangGraph state machine.

This package knows no Dagster, no Delta and no domain: it sees terms (`terms.py`), and the outside
world only through the ports in `ports.py` (policy gate, ledger, signer, directory, value estimator).
"""
