"""Names of variants and genes as people and GTEx files write them, read into one form."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

# GTEx v8 ids: chr1_13550_G_A_b38; v7 wrote 1_13550_G_A_b37. Stored chromosomes always carry
# "chr", so either spelling of a query finds the same rows.
VARIANT_ID = re.compile(
    r"(?:chr)?([0-9]{1,2}|X|Y|M|MT)_([0-9]{1,10})_([ACGTN*]+)_([ACGTN*]+)_b3[78]", re.IGNORECASE)
_CHROM_POS = re.compile(r"(?:chr)?([0-9]{1,2}|X|Y|M|MT):([0-9]{1,10})", re.IGNORECASE)
_ENSEMBL_GENE = re.compile(r"ENS[A-Z]*G[0-9]{11}(\.[0-9]+)?(_PAR_Y)?", re.IGNORECASE)
SYMBOL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._@/-]{0,63}"
_SYMBOL = re.compile(SYMBOL_PATTERN)
MAX_POSITION = 2**31 - 1


class Locus(NamedTuple):
    """A variant's position, and its full id when the query named one."""

    chrom: str
    pos: int
    variant_id: str | None


def variant_locus(text: str) -> Locus:
    """The locus of a variant id (``chr1_123_A_G_b38``) or ``chrom:pos``; ValueError if neither."""
    if match := VARIANT_ID.fullmatch(text):
        return Locus(chromosome(match[1]), _position(match[2]), text)
    if match := _CHROM_POS.fullmatch(text):
        return Locus(chromosome(match[1]), _position(match[2]), None)
    raise ValueError(f"{text!r} is neither a variant id like chr1_13550_G_A_b38 nor chrom:pos "
                     "like chr1:13550")


def is_ensembl_gene_id(text: str) -> bool:
    return _ENSEMBL_GENE.fullmatch(text) is not None


def is_gene_symbol(text: str) -> bool:
    return _SYMBOL.fullmatch(text) is not None


def symbol_key(symbol: str | None) -> str | None:
    """How gene suggestions compare symbols: case does not matter (c1orf112 finds C1orf112)."""
    return None if symbol is None else symbol.upper()


def stable_gene_id(gene_id: str) -> str:
    """ENSG00000141510.16 -> ENSG00000141510: versions change between releases, the id does not."""
    return gene_id.split(".", 1)[0].upper()


@functools.cache
def chromosome(name: str) -> str:
    """With the "chr" prefix GTEx b38 writes; cached, since every row of an import asks."""
    name = name.upper()
    return "chrM" if name == "MT" else f"chr{name}"


def _position(digits: str) -> int:
    pos = int(digits)
    if not 1 <= pos <= MAX_POSITION:
        raise ValueError(f"position {digits} is out of range")
    return pos
