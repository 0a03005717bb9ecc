"""The Merkle tree agrees with RFC 6962 read literally, and its proofs check as RFC 9162 says.

The reference below is the RFC's recursive definitions transcribed as they are written,
independent of audit/integrity/merkle.py's level-by-level and stored-node code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.integrity import merkle


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return _sha(b"\x00" + leaves[0])
    k = _k(len(leaves))
    return _sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [mth(leaves)]
    k = _k(len(leaves))
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


class StoredTree:
    """Complete nodes as the service stores them: built leaf by leaf through a Frontier."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
        self.nodes = {(0, i): digest for i, digest in enumerate(self.hashes)}
        self.frontier = merkle.Frontier()
        for digest in self.hashes:
            for level, position, node in self.frontier.append(digest):
                self.nodes[(level, position)] = node

    def node(self, level: int, position: int) -> bytes:
        return self.nodes[(level, position)]


# Leaves of the certificate-transparency test suite; roots computed from the RFC above.
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_known_answers(size: int) -> None:
    leaves = CT_LEAVES[:size]
    assert mth(leaves).hex() == CT_ROOTS[size - 1]
    assert merkle.root_of([merkle.leaf_hash(leaf) for leaf in leaves]).hex() == CT_ROOTS[size - 1]
    assert StoredTree(leaves).frontier.root().hex() == CT_ROOTS[size - 1]


def test_the_empty_tree_has_the_hash_of_nothing() -> None:
    assert merkle.root_of([]) == merkle.Frontier().root() == _sha(b"")


def test_leaves_and_nodes_are_hashed_apart() -> None:
    """Domain separation: a leaf holding two hashes is not the node over them."""
    left, right = _sha(b"a"), _sha(b"b")
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


@given(leaf_lists)
def test_every_way_of_building_the_root_agrees_with_the_rfc(leaves: list[bytes]) -> None:
    tree = StoredTree(leaves)
    assert merkle.root_of(tree.hashes) == tree.frontier.root() == mth(leaves)


@given(leaf_lists, st.data())
def test_a_frontier_restored_from_stored_nodes_grows_the_same_tree(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = StoredTree(leaves)
    start = data.draw(st.integers(0, len(leaves)))
    restored = merkle.Frontier(start, [tree.node(*key) for key in merkle.decompose(0, start)])
    completed = []
    for digest in tree.hashes[start:]:
        completed += restored.append(digest)
    assert restored.root() == mth(leaves)
    assert all(tree.node(level, position) == node for level, position, node in completed)


@given(leaf_lists, st.data())
def test_a_frontier_extended_in_runs_has_the_rfc_root_at_every_step(
    leaves: list[bytes], data: st.DataObject
) -> None:
    """Runs of any length, from any size: aligned subtrees folded at once, as the offline
    verifier adds a batch of events."""
    frontier, added = merkle.Frontier(), 0
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    while added < len(leaves):
        run = data.draw(st.integers(1, len(leaves) - added))
        frontier.extend(hashes[added:added + run])
        added += run
        assert frontier.size == added
        assert frontier.root() == mth(leaves[:added])


@given(leaf_lists, st.data())
def test_inclusion_proofs_are_the_rfc_paths_and_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = StoredTree(leaves)
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, tree.node)
    assert proof == path(index, leaves)
    assert merkle.verify_inclusion(index, size, tree.hashes[index], proof, mth(leaves))


@given(leaf_lists, st.data())
def test_consistency_proofs_are_the_rfc_proofs_and_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = StoredTree(leaves)
    new = len(leaves)
    old = data.draw(st.integers(0, new))
    proof = merkle.consistency_proof(old, new, tree.node)
    assert proof == ([] if old in (0, new) else subproof(old, leaves, True))
    assert merkle.verify_consistency(old, new, mth(leaves[:old]), mth(leaves), proof)


@given(leaf_lists, st.data())
def test_an_inclusion_proof_fails_for_another_leaf_root_or_position(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = StoredTree(leaves)
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, tree.node)
    root, leaf = mth(leaves), tree.hashes[index]
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, root)
    assert not merkle.verify_inclusion(index, size, leaf, proof, _sha(b"another root"))
    assert not merkle.verify_inclusion(size, size, leaf, proof, root)
    if proof:
        assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], root)
        altered = [*proof[:-1], _sha(b"x")]
        assert not merkle.verify_inclusion(index, size, leaf, altered, root)


@given(leaf_lists, st.data())
def test_a_consistency_proof_fails_when_either_tree_was_changed(
    leaves: list[bytes], data: st.DataObject
) -> None:
    new = len(leaves)
    old = data.draw(st.integers(1, new))
    proof = merkle.consistency_proof(old, new, StoredTree(leaves).node)
    changed = data.draw(st.integers(0, new - 1))
    forked = [*leaves[:changed], leaves[changed] + b"!", *leaves[changed + 1:]]
    old_root, new_root = mth(leaves[:old]), mth(leaves)
    assert not merkle.verify_consistency(old, new, old_root, mth(forked), proof)
    if changed < old:
        assert not merkle.verify_consistency(old, new, mth(forked[:old]), new_root, proof)
    if proof:
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not merkle.verify_consistency(new, old - 1, new_root, old_root, proof)


LEAVES_1000 = [i.to_bytes(2, "big") for i in range(1000)]


@pytest.mark.parametrize("build, expected", [
    (lambda node: merkle.inclusion_proof(617, 1000, node), path(617, LEAVES_1000)),
    (lambda node: merkle.consistency_proof(300, 1000, node), subproof(300, LEAVES_1000, True)),
], ids=["inclusion", "consistency"])
def test_proofs_read_only_the_nodes_they_announce(
    build: Callable[[merkle.NodeSource], list[bytes]], expected: list[bytes]
) -> None:
    """What lets the service fetch a proof's nodes in one query, O(log n) of them."""
    tree = StoredTree(LEAVES_1000)
    announced = {key: tree.nodes[key] for key in merkle.nodes_needed(build)}
    assert len(announced) <= 2 * 10
    assert build(lambda level, position: announced[(level, position)]) == expected


def test_proofs_refuse_positions_outside_the_tree() -> None:
    tree = StoredTree([b"a", b"b"])
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(2, 2, tree.node)
    with pytest.raises(ValueError, match="cannot precede"):
        merkle.consistency_proof(3, 2, tree.node)
