"""Helpers of the htsget tests: the demo's indexed files, a ticket's blocks put together (from
the app's own /storage/ routes or over HTTP), and what pysam finds in a file by region."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pysam
from flask.testing import FlaskClient
from sqlalchemy import select

from datasets.catalogue.models import DataFile
from tests.conftest import DemoInstance

HTSGET = "/ga4gh/htsget/v1"
SUFFIXES = {"VCF": ".vcf.gz", "BAM": ".bam", "CRAM": ".cram"}
pysam.set_verbosity(0)  # reading a slice without an index is the point: no warnings


def indexed_files(demo: DemoInstance) -> dict[str, DataFile]:
    """The demo's indexed files by name."""
    with demo.app.extensions["custodian.session_factory"]() as session:
        return {f.name: f for f in session.scalars(
            select(DataFile).where(DataFile.index_key.is_not(None)).order_by(DataFile.id))}


def vcf_and_bams(demo: DemoInstance) -> tuple[DataFile, list[DataFile]]:
    files = indexed_files(demo)
    vcfs = [f for f in files.values() if f.data_format == "VCF"]
    bams = [f for f in files.values() if f.data_format == "BAM"]
    assert len(vcfs) == 1 and len(bams) == 3
    return vcfs[0], bams


def crams(demo: DemoInstance) -> list[DataFile]:
    found = [f for f in indexed_files(demo).values() if f.data_format == "CRAM"]
    assert len(found) == 1
    return found


def stored_path(demo: DemoInstance, key: str) -> Path:
    path: Path | None = demo.app.extensions["custodian.storage"].resolve(key)
    assert path is not None
    return path


def block_bytes(entry: dict[str, Any], get: Callable[[str, dict[str, str]], bytes]) -> bytes:
    url: str = entry["url"]
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    return get(url, entry.get("headers", {}))


def through_app(client: FlaskClient) -> Callable[[str, dict[str, str]], bytes]:
    """GET a local-backend URL through the test client, as a client would over HTTP."""
    def get(url: str, headers: dict[str, str]) -> bytes:
        parts = urlsplit(url)
        answer = client.get(f"{parts.path}?{parts.query}", headers=headers)
        assert answer.status_code == (206 if "Range" in headers else 200), answer.status_code
        data: bytes = answer.get_data()
        return data
    return get


def assemble(ticket: dict[str, Any], get: Callable[[str, dict[str, str]], bytes]) -> bytes:
    return b"".join(block_bytes(entry, get) for entry in ticket["htsget"]["urls"])


def records(path: Path, data_format: str) -> list[str]:
    """Every record of a file read straight through, without any index, as comparable text."""
    if data_format == "VCF":
        with pysam.VariantFile(str(path)) as vcf:
            return [str(r) for r in vcf]
    with pysam.AlignmentFile(str(path), check_sq=False) as bam:
        return [r.to_string() for r in bam.fetch(until_eof=True)]


def overlapping(path: Path, data_format: str, contig: str, start: int, end: int,
                index: Path) -> list[str]:
    """What a direct pysam query of the whole file gives for a region."""
    if data_format == "VCF":
        with pysam.VariantFile(str(path), index_filename=str(index)) as vcf:
            return [str(r) for r in vcf.fetch(contig, start, end)]
    with pysam.AlignmentFile(str(path), index_filename=str(index)) as bam:
        return [r.to_string() for r in bam.fetch(contig, start, end)]
