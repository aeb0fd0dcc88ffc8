import hashlib

from hurricane_assets.ledger.merkle import (
    MerkleFrontier,
    MerkleLevels,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
)


def test_frontier_root_matches_rfc6962_tree_hash_at_every_size():
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(70)]
    frontier = MerkleFrontier()
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == merkle_root(leaves[:size])
    levels = MerkleLevels(leaves)
    assert all(levels.root(size) == merkle_root(leaves[:size]) for size in range(71))
    restored = MerkleFrontier.from_json(frontier.to_json())
    assert restored.root() == frontier.root() and restored.size == 70


def test_three_leaf_tree_is_left_heavy():
    a, b, c = (hashlib.sha256(x).digest() for x in (b"a", b"b", b"c"))
    expected = node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))
    assert merkle_root([a, b, c]) == expected


def test_grown_tree_and_consistency_proofs_at_every_pair_of_sizes():
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(40)]
    tree = MerkleLevels(leaves[:3])
    tree.extend(leaves[3:17])
    tree.extend(leaves[17:])
    for old in range(41):
        for new in range(old, 41):
            assert tree.root(new) == merkle_root(leaves[:new])
            proof = tree.consistency_proof(old, new)
            assert verify_consistency(old, new, tree.root(old), tree.root(new), proof), (old, new)
            if 0 < old < new:
                # a different old root, or a changed proof node, does not verify
                assert not verify_consistency(old, new, hashlib.sha256(b"other").digest(), tree.root(new), proof)
                bent = [hashlib.sha256(b"x").digest(), *proof[1:]]
                assert not verify_consistency(old, new, tree.root(old), tree.root(new), bent)


def test_consistency_proof_matches_rfc6962_example():
    # RFC 6962 2.1.3: the proof from the 3-leaf tree to the 7-leaf tree is [c, d, g, l]
    d = [hashlib.sha256(bytes([x])).digest() for x in b"0123456"]
    tree = MerkleLevels(d)
    a, b, c, dd, e, f, j = (leaf_hash(x) for x in d)
    g, h, i = node_hash(a, b), node_hash(c, dd), node_hash(e, f)
    k, l = node_hash(g, h), node_hash(i, j)
    assert tree.consistency_proof(3, 7) == [c, dd, g, l]
    assert tree.root(7) == node_hash(k, l)
