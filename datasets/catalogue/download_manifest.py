"""A dataset's files as a download manifest: the TSV ``custodian-download download
--manifest`` reads (its ``id`` column), with what a researcher checks a copy against.

Not the import manifest of manifest.py: that one registers stored objects, this one names
catalogued files for fetching them.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from datasets.catalogue.models import Dataset

COLUMNS = ("id", "name", "kind", "tier", "size", "sha256", "md5", "drs_uri")


def drs_uri(public_url: str, file_id: int) -> str:
    """The hostname-based DRS URI of a file (DRS object ids are the catalogue's file ids)."""
    return f"drs://{urlsplit(public_url).netloc}/{file_id}"


def manifest_filename(dataset: Dataset) -> str:
    return f"{dataset.accession}-manifest.tsv"


def download_manifest(dataset: Dataset, public_url: str) -> str:
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    out.writerow(COLUMNS)
    for data_file in dataset.live_files:
        out.writerow([data_file.id, data_file.name, data_file.kind, data_file.tier,
                      data_file.size, data_file.sha256, data_file.md5,
                      drs_uri(public_url, data_file.id)])
    return buffer.getvalue()
