"""Reading a manifest: every malformed line is reported with its number; good lines parse."""

from __future__ import annotations

import pytest

from datasets.catalogue.manifest import ManifestProblem, parse_manifest
from datasets.catalogue.models import FileKind, Tier

HEADER = "location\tkind\ttier\tdataset\tsize\tsha256\tmd5"
SHA = "ab" * 32
MD5 = "cd" * 16
GOOD = f"phs1/a.vcf.gz\tgenotype\tcontrolled\tphs1.c1\t10\t{SHA}\t{MD5}"


def problems_of(text: str) -> list[ManifestProblem]:
    return parse_manifest(text)[1]


def test_good_lines_parse_in_any_column_order_with_optional_columns() -> None:
    text = (f"description\tMD5\tsha256\tsize\tdataset\ttier\tkind\tlocation\tname\n"
            f"Chr 17 calls\t{MD5.upper()}\t{SHA}\t10\tphs1.c1\tcontrolled\tGenotype\t"
            f"phs1/a.vcf.gz\tchr17.vcf.gz\n\n"
            f"\t{MD5}\t{SHA}\t0\tphs1.open\topen\tsummary\tphs1/b.tsv\t\n")
    rows, problems = parse_manifest(text)
    assert problems == []
    assert [(row.line, row.dataset) for row in rows] == [(2, "phs1.c1"), (4, "phs1.open")]
    first, second = (row.record for row in rows)
    assert (first.key, first.name, first.kind, first.tier, first.size, first.md5) == (
        "phs1/a.vcf.gz", "chr17.vcf.gz", FileKind.GENOTYPE, Tier.CONTROLLED, 10, MD5)
    assert first.description == "Chr 17 calls"
    assert (second.name, second.description, second.size) == ("b.tsv", "", 0)


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("location\tkind\n", "lacks the column(s) tier, dataset, size, sha256, md5"),
    (HEADER + "\tchecksum\n" + GOOD + "\tx\n", "unknown column(s) 'checksum'"),
    (HEADER + "\tkind\n", "repeats the column(s) kind"),
    (HEADER + "\n", "lists no files"),
])
def test_bad_headers_are_reported_on_line_1(text: str, fragment: str) -> None:
    problems = problems_of(text)
    assert [problem.line for problem in problems] == [1]
    assert fragment in problems[0].message


@pytest.mark.parametrize("line, fragment", [
    (GOOD.replace("genotype", "rna"), "kind 'rna' is not one of genotype, expression"),
    (GOOD.replace("controlled", "secret"), "tier 'secret' is not one of open, controlled"),
    (GOOD.replace("phs1.c1", ""), "dataset (the consent group's accession) is empty"),
    (GOOD.replace("\t10\t", "\t10kb\t"), "size must be a whole number of bytes, got '10kb'"),
    (GOOD.replace("\t10\t", "\t-1\t"), "size must be a whole number"),
    (GOOD.replace(SHA, "ab" * 31), "sha256 must be 64 hexadecimal digits"),
    (GOOD.replace(MD5, "zz" * 16), "md5 must be 32 hexadecimal digits"),
    (GOOD.replace("phs1/a.vcf.gz", ""), "location (the storage key) is empty"),
    (GOOD.replace("phs1/a.vcf.gz", "/etc/passwd"), "must be a relative key"),
    (GOOD.replace("phs1/a.vcf.gz", "phs1/../../x"), "must be a relative key"),
    (GOOD.replace("phs1/a.vcf.gz", "phs1//a"), "must be a relative key"),
    (GOOD.replace("phs1/a.vcf.gz", "phs1/a\x00b"), "control characters"),
    (GOOD.replace("phs1/a.vcf.gz", "d/" * 512 + "a"), "longer than 1024"),
    (GOOD + "\textra", "expected 7 tab-separated fields, found 8"),
    ("phs1/a.vcf.gz genotype controlled", "expected 7 tab-separated fields, found 1"),
])
def test_each_malformed_line_is_reported_with_its_number(line: str, fragment: str) -> None:
    rows, problems = parse_manifest(f"{HEADER}\n{GOOD.replace('a.vcf', 'z.vcf')}\n{line}\n")
    assert [problem.line for problem in problems] == [3], problems
    assert fragment in problems[0].message
    assert [row.line for row in rows] == [2]


def test_a_location_listed_twice_names_both_lines() -> None:
    problems = problems_of(f"{HEADER}\n{GOOD}\n{GOOD.replace('genotype', 'clinical')}\n")
    assert problems == [ManifestProblem(3, "location 'phs1/a.vcf.gz' is already listed on line 2")]


def test_every_bad_line_is_reported_not_just_the_first() -> None:
    text = (f"{HEADER}\n{GOOD}\nnonsense\n{GOOD.replace('genotype', 'rna')}\n\t\t\t\t\t\t\n"
            f"{GOOD.replace('a.vcf', 'b.vcf').replace(SHA, 'no').replace('10', 'ten')}\n")
    assert [problem.line for problem in problems_of(text)] == [3, 4, 6, 6]
