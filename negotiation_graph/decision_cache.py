"""A policy gate that asks its engine once per offer.

One negotiation evaluates the same terms many times (mapping the region, gating the path, each
COUNTER, the ACCEPT, the agreement). A decision is a function of the terms and the policy bundle,
so it is kept per (bundle hash, terms hash): a gate that reloads its bundle gets a new hash and
asks again, and nothing here can turn a deny into an allow.
"""

from __future__ import annotations

from negotiation_graph.ports import PolicyDecision, PolicyGate
from negotiation_graph.terms import ShareTerms


class DecisionCache:
    """Implements `PolicyGate` over `gate`; the gate must expose `bundle_sha256` (its policy's hash)."""

    def __init__(self, gate: PolicyGate, max_entries: int = 4096):
        self.gate = gate
        self.max_entries = max_entries
        self._decisions: dict[tuple[str, str], PolicyDecision] = {}

    @property
    def bundle_sha256(self) -> str:
        return self.gate.bundle_sha256  # type: ignore[attr-defined]

    def evaluate(self, terms: ShareTerms) -> PolicyDecision:
        key = (self.bundle_sha256, terms.sha256())
        decision = self._decisions.get(key)
        if decision is None:
            decision = self.gate.evaluate(terms)
            if len(self._decisions) >= self.max_entries:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def __getattr__(self, name: str):
        return getattr(self.gate, name)  # the wrapped gate's other methods (e.g. allowed_maskings)
