"""Domains as separate principals: each domain's agent holds its own key and policy; the exchange
routes signed envelopes to it and holds no domain key (issue 10, item 1).

`agent.py` is the domain side, `exchange.py` the exchange side (signer, witnesses and ledger that
go through the agents), `client.py` the transports (in process, or A2A over HTTP), `server.py` one
agent as an A2A HTTP service.
"""
