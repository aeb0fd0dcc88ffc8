"""The witness on its own (C2SP tlog-witness semantics): what it cosigns, what it refuses, what it keeps."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from hurricane_assets.identity import KeyRing
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.ledger.checkpoint import sign_checkpoint
from hurricane_assets.ledger.merkle import MerkleLevels
from hurricane_assets.ledger.witness import Witness, WitnessConflict, WitnessRefusal, verify_cosignature

ORIGIN = "data-hurricane.ledger/00112233aabbccdd"


def leaves(n: int, salt: str = "") -> list[bytes]:
    return [hashlib.sha256(f"{salt}{i}".encode()).digest() for i in range(n)]


def note(tree: MerkleLevels, size: int, origin: str = ORIGIN) -> str:
    return sign_checkpoint(origin, size, tree.root(size), KeyRing()).note


@pytest.fixture
def tree() -> MerkleLevels:
    return MerkleLevels(leaves(40))


def test_cosigns_a_consistent_extension_and_keeps_only_the_latest(tree):
    witness = Witness("payments", clock=lambda: 1_780_000_000)
    line = witness.add_checkpoint(note(tree, 10), 0, [])
    body = f"{ORIGIN}\n10\n{base64.b64encode(tree.root(10)).decode()}\n"
    assert line.startswith("\u2014 datahurricane-witness-payments ")
    assert verify_cosignature(body, line, "payments", KeyRing().registry) == 1_780_000_000
    witness.add_checkpoint(note(tree, 37), 10, tree.consistency_proof(10, 37))
    copy = witness.latest(ORIGIN)
    assert copy.tree_size == 37 and copy.root_b64 == base64.b64encode(tree.root(37)).decode()
    assert len(list(witness.folder.glob("*.json"))) == 1  # one copy per log: the latest
    assert witness.folder == witness.folder.parents[1] / "payments" / "witness"


def test_cosignature_does_not_verify_for_another_witness_or_body(tree):
    line = Witness("payments").add_checkpoint(note(tree, 10), 0, [])
    body = f"{ORIGIN}\n10\n{base64.b64encode(tree.root(10)).decode()}\n"
    registry = KeyRing().registry
    with pytest.raises(EnvelopeError):
        verify_cosignature(body, line, "risk", registry)
    with pytest.raises(EnvelopeError, match="does not verify"):
        verify_cosignature(body.replace("\n10\n", "\n11\n"), line, "payments", registry)


def test_wrong_old_size_is_a_conflict_carrying_the_size_it_holds(tree):
    witness = Witness("risk")
    witness.add_checkpoint(note(tree, 10), 0, [])
    with pytest.raises(WitnessConflict) as conflict:
        witness.add_checkpoint(note(tree, 20), 5, tree.consistency_proof(5, 20))
    assert conflict.value.size == 10


def test_rollback_and_fork_are_refused_and_leave_the_copy_unchanged(tree):
    witness = Witness("risk")
    witness.add_checkpoint(note(tree, 20), 0, [])
    before = witness.latest(ORIGIN)
    with pytest.raises(WitnessRefusal, match="smaller"):
        witness.add_checkpoint(note(tree, 15), 20, [])
    forked = MerkleLevels(leaves(20) + leaves(20, salt="fork"))
    assert forked.root(20) == tree.root(20)  # same history up to 20, different after
    witness.add_checkpoint(note(tree, 30), 20, tree.consistency_proof(20, 30))
    with pytest.raises(WitnessRefusal, match="fork or rewrite"):
        witness.add_checkpoint(note(forked, 30), 30, [])  # same size, other root
    with pytest.raises(WitnessRefusal, match="fork or rewrite"):
        witness.add_checkpoint(note(forked, 35), 30, forked.consistency_proof(30, 35))
    rewritten = MerkleLevels(leaves(40, salt="rewrite"))
    with pytest.raises(WitnessRefusal, match="fork or rewrite"):
        witness.add_checkpoint(note(rewritten, 40), 30, rewritten.consistency_proof(30, 40))
    assert witness.latest(ORIGIN).tree_size == 30 and before.tree_size == 20


def test_checkpoint_not_signed_by_the_log_key_is_refused(tree):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hurricane_assets.identity.keys import DomainKey

    class ForeignRing:
        def key(self, identity):
            return DomainKey("system", Ed25519PrivateKey.generate())

    forged = sign_checkpoint(ORIGIN, 10, tree.root(10), ForeignRing()).note
    with pytest.raises(WitnessRefusal, match="registered system key"):
        Witness("support").add_checkpoint(forged, 0, [])
    tampered = note(tree, 10).replace(base64.b64encode(tree.root(10)).decode(), base64.b64encode(tree.root(9)).decode())
    with pytest.raises(WitnessRefusal):
        Witness("support").add_checkpoint(tampered, 0, [])
    with pytest.raises(WitnessRefusal, match="unknown log origin"):
        Witness("support").add_checkpoint(note(tree, 10, origin="someone-else/log"), 0, [])
    assert Witness("support").latest(ORIGIN) is None


def test_each_log_has_its_own_copy(tree):
    witness = Witness("marketing")
    other = "data-hurricane.ledger/ffeeddccbbaa9988"
    witness.add_checkpoint(note(tree, 12), 0, [])
    witness.add_checkpoint(note(MerkleLevels(leaves(5, "x")), 5, origin=other), 0, [])
    assert sorted(witness.origins()) == sorted([ORIGIN, other])
    assert json.loads(next(iter(witness.folder.glob("*.json"))).read_text())["origin"] in (ORIGIN, other)
