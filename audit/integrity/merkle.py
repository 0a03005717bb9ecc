"""RFC 6962 Merkle trees over the audit events: roots, audit paths, consistency proofs.

Standard library only, like audit/log/chain.py: the offline verifier runs this very module.

A node is addressed as (level, index): level 0 holds the leaf hashes, and node (level, index)
covers leaves [index * 2**level, (index + 1) * 2**level). Only complete nodes are ever
stored; every other subtree the RFC algorithms need is folded from them, so a proof costs
O(log n) node look-ups however large the log grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import methodcaller

EMPTY_ROOT = hashlib.sha256(b"").digest()
NodeSource = Callable[[int, int], bytes]
NodeKey = tuple[int, int]


# The prefixes keep a leaf from ever being read as an interior node (RFC 6962 §2.1).
LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"
_CONCAT, _DIGEST = bytes.__add__, methodcaller("digest")


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Level by level, promoting an odd last node: n - 1 hashes and no recursion."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # node_hash over each pair, mapped in C: this loop is most of a tree's cost.
        prefixed = map(_CONCAT, repeat(NODE_PREFIX), level[0::2])
        paired = list(map(_DIGEST, map(hashlib.sha256, map(_CONCAT, prefixed, level[1::2]))))
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Frontier:
    """The complete subtrees covering leaves [0, size): all that is needed to grow the tree.

    Appending a leaf merges equal-sized subtrees, and the merges are exactly the interior
    nodes that just became complete, which the caller may store for later proofs.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        levels = [level for level, _ in decompose(0, size)]
        if len(levels) != len(hashes):
            raise ValueError(f"a tree of {size} leaves has {len(levels)} frontier nodes")
        self.size = size
        self._stack = list(zip(levels, hashes, strict=True))

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the interior nodes it completed as (level, index, hash)."""
        return self._push(0, leaf)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Add many leaf hashes at once: each largest aligned run of 2**k of them is folded
        level by level (``root_of``) and added as one complete subtree, which is several
        times faster than appending them one by one. The nodes completed are not returned."""
        done = 0
        while done < len(leaves):
            # A subtree of 2**level leaves may start only at a multiple of 2**level.
            level = (len(leaves) - done).bit_length() - 1
            if self.size:
                level = min(level, (self.size & -self.size).bit_length() - 1)
            width = 1 << level
            self._push(level, root_of(leaves[done:done + width]))
            done += width

    def _push(self, level: int, subtree: bytes) -> list[tuple[int, int, bytes]]:
        self._stack.append((level, subtree))
        self.size += 1 << level
        completed = []
        while len(self._stack) > 1 and self._stack[-1][0] == self._stack[-2][0]:
            level, right = self._stack.pop()
            _, left = self._stack.pop()
            merged = node_hash(left, right)
            self._stack.append((level + 1, merged))
            completed.append((level + 1, (self.size >> (level + 1)) - 1, merged))
        return completed

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            root = node_hash(left, root)
        return root


def decompose(start: int, end: int) -> list[NodeKey]:
    """The complete nodes covering [start, end), largest first.

    Holds for every subtree the RFC algorithms visit, whose start is a multiple of a power
    of two at least as large as the subtree.
    """
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def subtree_hash(start: int, end: int, node: NodeSource) -> bytes:
    """MTH(D[start:end]) folded right to left from its complete nodes."""
    nodes = decompose(start, end)
    digest = node(*nodes[-1])
    for key in reversed(nodes[:-1]):
        digest = node_hash(node(*key), digest)
    return digest


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 §2.1.1, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path = []
    start, end = 0, size
    while end - start > 1:
        split = _split(end - start)
        if index < start + split:
            path.append(subtree_hash(start + split, end, node))
            end = start + split
        else:
            path.append(subtree_hash(start, start + split, node))
            start += split
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, node: NodeSource) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 6962 §2.1.2; empty when there is nothing to prove."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"a tree of {old_size} leaves cannot precede one of {new_size}")
    if old_size in (0, new_size):
        return []
    proof = []
    start, end, remaining, whole = 0, new_size, old_size, True
    while remaining != end - start:
        split = _split(end - start)
        if remaining <= split:
            proof.append(subtree_hash(start + split, end, node))
            end = start + split
        else:
            proof.append(subtree_hash(start, start + split, node))
            start += split
            remaining -= split
            whole = False
    if not whole:
        proof.append(subtree_hash(start, end, node))
    proof.reverse()
    return proof


def nodes_needed(build: Callable[[NodeSource], object]) -> set[NodeKey]:
    """The nodes a proof reads: which ones depends on sizes only, never on hash values.

    Lets a database-backed caller fetch them all in one query before building the proof.
    """
    needed: set[NodeKey] = set()

    def record(level: int, index: int) -> bytes:
        needed.add((level, index))
        return EMPTY_ROOT

    build(record)
    return needed


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Iterable[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            digest = node_hash(digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2; an empty tree is a prefix of every tree."""
    if not 0 <= old_size <= new_size:
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
    old_digest = new_digest = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_digest = node_hash(sibling, old_digest)
            new_digest = node_hash(sibling, new_digest)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            new_digest = node_hash(new_digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_digest == old_root and new_digest == new_root


def _split(size: int) -> int:
    """The largest power of two smaller than size (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)
