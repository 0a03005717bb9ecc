"""The S3 backend against a store that enforces SigV4: the store itself refuses bad URLs."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import botocore.auth
import pytest
import requests

from datasets.storage import ObjectNotFound, S3Storage, StorageUnavailable
from datasets.storage.s3 import USER_QUERY_PARAMETER
from tests.ports import HeldPort
from tests.s3rver import S3Server

CONTENT = b"##fileformat=VCFv4.2\n" + bytes(range(256)) * 64
KEY = "phs000424/genotypes/chr17.vcf.gz"
OTHER_KEY = "phs000424/genotypes/chr1.vcf.gz"


@pytest.fixture
def stored(s3_storage: S3Storage, tmp_path: Path) -> S3Storage:
    for key, content in ((KEY, CONTENT), (OTHER_KEY, b"another donor's genotypes")):
        source = tmp_path / key.rsplit("/", 1)[-1]
        source.write_bytes(content)
        s3_storage.put_file(key, source)
    return s3_storage


def sign(
    storage: S3Storage,
    *,
    key: str = KEY,
    user: str = "7",
    seconds: int = 300,
    filename: str = "chr17.vcf.gz",
) -> str:
    return storage.signed_url(
        key, user=user, filename=filename, expires_at=datetime.now(UTC) + timedelta(seconds=seconds)
    )


def edited(url: str, *, path: str | None = None, drop: str | None = None, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: value for name, value in parse_qsl(parts.query) if name != drop}
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, path or parts.path, urlencode(query), ""))


def assert_refused(url: str, reason: str) -> None:
    response = requests.get(url, timeout=10)
    assert response.status_code == 403, response.text
    assert reason in response.text


def test_signed_url_returns_the_exact_bytes_under_the_file_name(stored: S3Storage) -> None:
    response = requests.get(sign(stored), timeout=10)
    assert response.status_code == 200, response.text
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(CONTENT).digest()
    assert response.headers["Content-Disposition"] == 'attachment; filename="chr17.vcf.gz"'


@pytest.mark.parametrize(
    "change",
    [
        {"path": "other object"},
        {"X-Amz-Expires": "604800"},
        {"X-Amz-Date": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")},
        {USER_QUERY_PARAMETER: "8"},
        {"drop": USER_QUERY_PARAMETER},
        {"response-content-disposition": 'attachment; filename="setup.exe"'},
        {"X-Amz-Signature": "0" * 64},
    ],
    ids=["path", "expiry", "date", "user", "user-removed", "file-name", "signature"],
)
def test_any_edit_to_the_url_is_refused_by_the_store(
    stored: S3Storage, change: dict[str, str]
) -> None:
    url = sign(stored)
    if change.get("path"):
        other = urlsplit(sign(stored, key=OTHER_KEY)).path
        assert requests.get(edited(url, path=other), timeout=10).status_code == 403
        return
    assert_refused(edited(url, **change), "SignatureDoesNotMatch")


def signed_in_the_past(
    storage: S3Storage, monkeypatch: pytest.MonkeyPatch, *, ago: timedelta, seconds: int
) -> str:
    """A URL whose SigV4 signing time is ``ago`` in the past, valid ``seconds`` from then.

    boto takes the signing time from botocore.auth's clock; moving that clock back gives a
    URL as old as we like at once, where sleeping past a one-second URL depends on how
    busy the machine is (the store's own clock is the real one).
    """
    signed_at = datetime.now(UTC) - ago
    monkeypatch.setattr(
        botocore.auth,
        "get_current_datetime",
        lambda remove_tzinfo=True: signed_at.replace(tzinfo=None),
    )
    url = sign(storage, seconds=seconds)  # the backend asks boto for that many seconds
    monkeypatch.undo()
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Date"] == signed_at.strftime("%Y%m%dT%H%M%SZ")
    assert query["X-Amz-Expires"] == str(seconds)
    return url


def test_expired_url_is_refused_by_the_store(
    stored: S3Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signed ten minutes ago: for five minutes it is long dead, for fifteen still good.
    dead = signed_in_the_past(stored, monkeypatch, ago=timedelta(minutes=10), seconds=300)
    assert_refused(dead, "Request has expired")
    alive = signed_in_the_past(stored, monkeypatch, ago=timedelta(minutes=10), seconds=900)
    assert requests.get(alive, timeout=10).status_code == 200


def test_url_signed_with_a_wrong_secret_is_refused(
    s3_server: S3Server, stored: S3Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-key")
    forger = S3Storage(
        s3_server.bucket,
        region="us-east-1",
        endpoint_url=s3_server.endpoint_url,
        addressing_style="path",
        key_prefix=stored.key_prefix,
    )
    assert_refused(sign(forger), "SignatureDoesNotMatch")


def test_size_and_bytes_of_a_stored_object(stored: S3Storage) -> None:
    assert stored.size_of(KEY) == len(CONTENT)
    assert b"".join(stored.read_chunks(KEY)) == CONTENT


def test_missing_object_is_object_not_found(stored: S3Storage) -> None:
    with pytest.raises(ObjectNotFound):
        stored.size_of("phs000424/missing.vcf.gz")
    with pytest.raises(ObjectNotFound):
        b"".join(stored.read_chunks("phs000424/missing.vcf.gz"))


def test_objects_live_under_the_key_prefix(s3_server: S3Server, stored: S3Storage) -> None:
    # s3rver serves unsigned GETs, which shows where the object really is.
    raw = requests.get(
        f"{s3_server.endpoint_url}/{s3_server.bucket}/{stored.key_prefix}{KEY}", timeout=10
    )
    assert raw.status_code == 200 and raw.content == CONTENT


def test_check_passes_on_a_live_bucket(s3_storage: S3Storage) -> None:
    s3_storage.check()


def test_check_fails_cleanly_for_a_missing_bucket(s3_server: S3Server) -> None:
    storage = S3Storage(
        "no-such-bucket",
        region="us-east-1",
        endpoint_url=s3_server.endpoint_url,
        addressing_style="path",
    )
    with pytest.raises(StorageUnavailable, match="no-such-bucket"):
        storage.check()


def test_check_fails_cleanly_when_the_store_is_down(s3_server: S3Server) -> None:
    nothing_listens = HeldPort()  # bound, never listening: connections are refused
    storage = S3Storage(
        s3_server.bucket,
        region="us-east-1",
        endpoint_url=nothing_listens.url,
        addressing_style="path",
    )
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="Could not connect"):
        storage.check()
    assert time.monotonic() - started < 15
    nothing_listens.close()


def test_listing_a_prefix_names_keys_without_the_key_prefix(stored: S3Storage) -> None:
    assert list(stored.list_objects("phs000424/genotypes/")) == [
        (OTHER_KEY, len(b"another donor's genotypes")),
        (KEY, len(CONTENT)),
    ]
    assert list(stored.list_objects("phs000424/genotypes/chr17")) == [(KEY, len(CONTENT))]
    assert list(stored.list_objects("elsewhere/")) == []
