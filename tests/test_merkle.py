"""The Merkle tree against RFC 6962's published test vectors (the same tree as RFC 9162's),
and, for random sizes, every inclusion and consistency proof verifies while a tampered one
does not."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from infra import merkle

# The eight leaves of the reference vectors (Certificate Transparency's test data).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243")] + [
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (first size, second size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


def build(leaves: list[bytes]) -> tuple[merkle.NodeLookup, list[bytes]]:
    """Every perfect subtree, as the audit trail stores them; and each size's root."""
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = merkle.Frontier()
    roots = []
    for leaf in leaves:
        for level, index, value in frontier.append(merkle.leaf_hash(leaf)):
            nodes[level, index] = value
        roots.append(frontier.root())
    return (lambda level, index: nodes[level, index]), roots


def test_roots_and_proofs_match_the_reference_vectors() -> None:
    lookup, roots = build(LEAVES)
    assert [r.hex() for r in roots] == ROOTS
    assert [merkle.root(lookup, n).hex() for n in range(1, 9)] == ROOTS
    assert merkle.root(lookup, 0) == hashlib.sha256(b"").digest()
    for index, size, proof in INCLUSION:
        assert [p.hex() for p in merkle.inclusion_proof(lookup, index, size)] == proof
        leaf = merkle.leaf_hash(LEAVES[index])
        wanted = bytes.fromhex(ROOTS[size - 1])
        assert merkle.verify_inclusion(index, size, leaf, map(bytes.fromhex, proof), wanted)
    for first, second, proof in CONSISTENCY:
        assert [p.hex() for p in merkle.consistency_proof(lookup, first, second)] == proof
        a, b = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
        assert merkle.verify_consistency(first, second, a, b, [bytes.fromhex(p) for p in proof])
        assert not merkle.verify_consistency(first, second, b, a, [bytes.fromhex(p) for p in proof])


def flipped(proof: list[bytes], i: int) -> list[bytes]:
    return [bytes([p[0] ^ 8]) + p[1:] if j == i else p for j, p in enumerate(proof)]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_proof_of_a_random_tree_verifies_and_a_tampered_one_does_not(
    size: int, data: st.DataObject
) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    lookup, roots = build(leaves)
    index = data.draw(st.integers(0, size - 1))
    leaf = merkle.leaf_hash(leaves[index])
    proof = merkle.inclusion_proof(lookup, index, size)
    assert merkle.verify_inclusion(index, size, leaf, proof, roots[-1])
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"x"), proof, roots[-1])
    assert not merkle.verify_inclusion(index, size * 2, leaf, proof, roots[-1])
    for i in range(len(proof)):
        assert not merkle.verify_inclusion(index, size, leaf, flipped(proof, i), roots[-1])
    if proof:
        assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], roots[-1])
        assert not merkle.verify_inclusion(index, size, leaf, [*proof, proof[0]], roots[-1])

    first = data.draw(st.integers(1, size))
    old = roots[first - 1]
    consistency = merkle.consistency_proof(lookup, first, size)
    assert merkle.verify_consistency(first, size, old, roots[-1], consistency)
    for i in range(len(consistency)):
        tampered = flipped(consistency, i)
        assert not merkle.verify_consistency(first, size, old, roots[-1], tampered)
    if first < size:
        assert not merkle.verify_consistency(first, size, roots[-1], old, consistency)
        assert not merkle.verify_consistency(first, size, old, roots[-1], consistency[:-1])
        other = merkle.leaf_hash(b"rewritten")
        assert not merkle.verify_consistency(first, size, other, roots[-1], consistency)
