"""RFC 6962 Merkle tree hashes over entry hashes, computed incrementally.

A frontier holds the roots of the perfect subtrees that make up the first n leaves (largest
first); the tree hash of any prefix size is a right fold over it, so a verifier streaming 100k
leaves gets every checkpoint's root in one pass.
"""

from __future__ import annotations

import hashlib

_sha256 = hashlib.sha256


def leaf_hash(entry_hash: bytes) -> bytes:
    return _sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = _sha256(b"").digest()


class MerkleFrontier:
    def __init__(self, size: int = 0, subtrees: list[tuple[int, bytes]] | None = None):
        self.size = size
        self.subtrees: list[tuple[int, bytes]] = list(subtrees or [])  # (height, hash), largest first

    def append(self, entry_hash: bytes) -> None:
        height, node = 0, leaf_hash(entry_hash)
        subtrees = self.subtrees
        while subtrees and subtrees[-1][0] == height:
            node = node_hash(subtrees.pop()[1], node)
            height += 1
        subtrees.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        if not self.subtrees:
            return EMPTY_ROOT
        root = self.subtrees[-1][1]
        for _, left in reversed(self.subtrees[:-1]):
            root = node_hash(left, root)
        return root

    def to_json(self) -> dict:
        return {"size": self.size, "subtrees": [[h, node.hex()] for h, node in self.subtrees]}

    @classmethod
    def from_json(cls, data: dict) -> MerkleFrontier:
        return cls(data["size"], [(h, bytes.fromhex(node)) for h, node in data["subtrees"]])


class MerkleLevels:
    """Every perfect subtree over a list of leaves, level by level, so the RFC 6962 root of any
    prefix is a fold over at most log2(n) stored nodes, and so are consistency proofs. Built with
    list comprehensions: the verifier's 100k-leaf case costs about two SHA-256 calls per leaf.
    `extend` adds leaves in O(new) (the log keeps one tree and grows it after each commit)."""

    def __init__(self, entry_hashes: list[bytes] | None = None):
        self.levels: list[list[bytes]] = [[]]
        self.extend(entry_hashes or [])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def extend(self, entry_hashes: list[bytes]) -> None:
        sha256 = _sha256
        self.levels[0].extend([sha256(b"\x00" + h).digest() for h in entry_hashes])
        height = 0
        while len(self.levels[height]) > 1:
            if height + 1 == len(self.levels):
                self.levels.append([])
            lower, upper = self.levels[height], self.levels[height + 1]
            upper.extend(
                [sha256(b"\x01" + lower[2 * i] + lower[2 * i + 1]).digest() for i in range(len(upper), len(lower) // 2)]
            )
            height += 1

    def root(self, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        if size > len(self.levels[0]):
            raise ValueError(f"tree has {len(self.levels[0])} leaves, not {size}")
        return self._range(0, size)

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for ranges the RFC 6962 recursion produces (start aligned to the split)."""
        size = end - start
        if size & (size - 1) == 0:  # a perfect subtree: stored
            height = size.bit_length() - 1
            return self.levels[height][start >> height]
        k = 1 << (size - 1).bit_length() - 1  # largest power of two below size
        return node_hash(self._range(start, start + k), self._range(start + k, end))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 6962 §2.1.2 PROOF(m, D[n]): the nodes a witness needs to check that the tree of
        `old_size` leaves is a prefix of the tree of `new_size` leaves."""
        if not 0 <= old_size <= new_size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {new_size} in a tree of {self.size}")
        if old_size == 0 or old_size == new_size:
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._range(start, end)]
        k = 1 << (n - 1).bit_length() - 1
        if m <= k:
            return self._subproof(m, start, start + k, complete) + [self._range(start + k, end)]
        return self._subproof(m - k, start + k, end, False) + [self._range(start, start + k)]


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does `proof` show the tree (old_size, old_root) is a prefix of (new_size, new_root)?"""
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def merkle_root(entry_hashes: list[bytes]) -> bytes:
    """The RFC 6962 tree hash, recursively (the reference the frontier is tested against)."""
    n = len(entry_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(entry_hashes[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(merkle_root(entry_hashes[:k]), merkle_root(entry_hashes[k:]))
