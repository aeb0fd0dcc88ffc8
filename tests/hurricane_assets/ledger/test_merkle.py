import hashlib

from hurricane_assets.ledger.merkle import MerkleFrontier, MerkleLevels, leaf_hash, merkle_root, node_hash


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
