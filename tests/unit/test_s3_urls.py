"""Presigned S3 URLs, built offline: the user and the file name travel in the signed query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from config import load_settings
from datasets.storage import LocalStorage, make_storage
from datasets.storage.s3 import MAX_URL_SECONDS, USER_QUERY_PARAMETER, S3Storage, attachment


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> S3Storage:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    return S3Storage("genomes", region="eu-west-1", endpoint_url="https://s3.example.org",
                     addressing_style="path", key_prefix="custodian/")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize("name, header", [
    ("chr17.vcf.gz", 'attachment; filename="chr17.vcf.gz"'),
    ('a"b\\c.txt', "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"),
    ("x\r\nSet-Cookie: y", "attachment; filename=\"x__Set-Cookie: y\"; "
                           "filename*=UTF-8''x%0D%0ASet-Cookie%3A%20y"),
    ("résumé.tsv", "attachment; filename=\"r_sum_.tsv\"; filename*=UTF-8''r%C3%A9sum%C3%A9.tsv"),
])
def test_file_names_cannot_break_out_of_the_header(name: str, header: str) -> None:
    assert attachment(name) == header


def test_url_carries_key_user_and_file_name_in_the_signed_query(storage: S3Storage) -> None:
    url = storage.signed_url("phs000424/a b.vcf.gz", user="42", filename="a b.vcf.gz",
                             expires_at=datetime.now(UTC) + timedelta(minutes=15))
    assert urlsplit(url).path == "/genomes/custodian/phs000424/a%20b.vcf.gz"
    query = query_of(url)
    assert query[USER_QUERY_PARAMETER] == "42"
    assert query["response-content-disposition"] == 'attachment; filename="a b.vcf.gz"'
    assert query["X-Amz-Credential"].startswith("AKIDEXAMPLE/")
    assert query["X-Amz-Credential"].endswith("/eu-west-1/s3/aws4_request")
    assert 899 <= int(query["X-Amz-Expires"]) <= 900


@pytest.mark.parametrize("delta, seconds", [
    (timedelta(seconds=-30), 1), (timedelta(days=30), MAX_URL_SECONDS),
])
def test_lifetime_stays_within_what_sigv4_allows(
    storage: S3Storage, delta: timedelta, seconds: int
) -> None:
    url = storage.signed_url("k", user="1", filename="k", expires_at=datetime.now(UTC) + delta)
    assert query_of(url)["X-Amz-Expires"] == str(seconds)



def test_settings_choose_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    local = {"ENV": "demo", "INSTANCE_DIR": str(tmp_path)}
    assert isinstance(make_storage(load_settings({}, local)), LocalStorage)
    chosen = make_storage(load_settings({}, local | {"STORAGE_BACKEND": "s3", "S3_BUCKET": "data"}))
    assert isinstance(chosen, S3Storage) and chosen.bucket == "data"
