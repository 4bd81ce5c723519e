"""A Merkle tree in the manner of RFC 9162 (Certificate Transparency 2.0), section 2.1.

Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right). Proofs are
built from a lookup of *perfect* subtree hashes (`NodeLookup(level, index)`: the subtree of
2**level leaves starting at leaf index * 2**level), which is what the audit trail stores;
the verifiers are pure and need nothing but the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

NodeLookup = Callable[[int, int], bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The compact range [0, size): one perfect subtree per set bit of size. Appending a leaf
    reports every perfect subtree it completes, so a store can keep them all."""

    def __init__(self, size: int = 0, nodes: dict[int, bytes] | None = None) -> None:
        self.size = size
        self.nodes = dict(nodes or {})  # level -> hash of the pending left subtree

    @staticmethod
    def levels(size: int) -> list[tuple[int, int]]:
        """(level, index) of the frontier's subtrees for a tree of this size."""
        return [(lv, (size >> lv) - 1) for lv in range(size.bit_length()) if size >> lv & 1]

    def append(self, hashed_leaf: bytes) -> list[tuple[int, int, bytes]]:
        index, level, current = self.size, 0, hashed_leaf
        made = [(0, index, current)]
        while index & 1:
            current = node_hash(self.nodes.pop(level), current)
            level, index = level + 1, index >> 1
            made.append((level, index, current))
        self.nodes[level] = current
        self.size += 1
        return made

    def root(self) -> bytes:
        if self.size == 0:
            return EMPTY_ROOT
        result: bytes | None = None
        for level in sorted(self.nodes):  # smallest subtree on the right
            result = self.nodes[level] if result is None else node_hash(self.nodes[level], result)
        assert result is not None
        return result


def subtree(lookup: NodeLookup, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range starting on a subtree boundary of the full tree."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return lookup(level, start >> level)
    k = _split(n)
    return node_hash(lookup((k.bit_length() - 1), start // k), subtree(lookup, start + k, end))


def root(lookup: NodeLookup, size: int) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree(lookup, 0, size)


def inclusion_proof(lookup: NodeLookup, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree(lookup, start + k, end))
            end = start + k
        else:
            path.append(subtree(lookup, start, start + k))
            start += k
    return path[::-1]


def consistency_proof(lookup: NodeLookup, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 2.1.4.1."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    proof: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree(lookup, start + k, end))
            end = start + k
        else:
            proof.append(subtree(lookup, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(subtree(lookup, start, end))
    return proof[::-1]


def verify_inclusion(
    index: int, size: int, hashed_leaf: bytes, proof: Iterable[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, hashed_leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2; a tree of 0 is consistent with any, and one of equal size only with
    the same root and an empty proof."""
    if first > second or first < 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
