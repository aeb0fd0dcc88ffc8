"""The platform's own policy check at signature time (`sharing/contracting.py`), removed or
inverted, must turn a test red (the graph's checks: tests/negotiation_graph/test_gate_mutants.py)."""

from __future__ import annotations

from functools import partial

import pytest

from tests.hurricane_assets.sharing import test_contracting
from tests.negotiation_graph.mutation import killed_by, mutants

MUTANTS = mutants("hurricane_assets.sharing.contracting", "sign_agreements")


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_signature_time_mutant_is_killed(mutant, share_parts):
    killers = [
        partial(test_contracting.test_policy_is_checked_again_at_signature, share_parts),
        partial(test_contracting.test_agreement_becomes_an_active_signed_recorded_exported_contract, share_parts),
    ]
    assert killed_by(mutant, killers) is not None, f"no test fails when {mutant.source} is {mutant.operator}d"


def test_the_signature_check_has_mutants():
    # decision.allowed where an approval is looked up, where signing is refused and in the reasons, and
    # the per-column d.allowed: each removed and inverted (every one is killed above)
    assert len(MUTANTS) == 8
