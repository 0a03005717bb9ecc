"""The local backend's signed URLs: any change to path, expiry or user breaks them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from datasets.storage.local import InvalidSignature, LocalStorage

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "a.vcf.gz").write_bytes(b"data")
    (tmp_path.parent / "outside.txt").write_text("secret")
    return LocalStorage(tmp_path, b"k" * 32, "http://127.0.0.1:5000")


def parts(url: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(url)
    return split.path, dict(parse_qsl(split.query))


def test_issued_url_verifies(storage: LocalStorage) -> None:
    path, query = parts(
        storage.signed_url(
            "study/a.vcf.gz", user="7", expires_at=NOW + timedelta(minutes=5), filename="a"
        )
    )
    storage.verify("GET", path, query["expires"], query["user"], query["signature"], NOW)


# A fixed vector, computed outside this code, so that a change to what is signed or how
# (which would void every URL already handed out, and any client that checks them) fails:
#   printf 'GET\n/storage/study/a%%20b.vcf.gz\n1767225900\n7-t3' \
#     | openssl dgst -sha256 -hmac kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
VECTOR_SIGNATURE = "38ef994d3dee10ee667b01e6d5f5145aa9dd3e4124e4a21f29a2e3981919e76f"
VECTOR_URL = (
    "http://127.0.0.1:5000/storage/study/a%20b.vcf.gz?expires=1767225900&user=7-t3"
    f"&signature={VECTOR_SIGNATURE}"
)


def test_the_signature_matches_a_fixed_hmac_vector(storage: LocalStorage) -> None:
    url = storage.signed_url(
        "study/a b.vcf.gz",
        user="7-t3",
        filename="a b.vcf.gz",
        expires_at=NOW + timedelta(minutes=5),
    )
    assert url == VECTOR_URL
    storage.verify(
        "GET", "/storage/study/a%20b.vcf.gz", "1767225900", "7-t3", VECTOR_SIGNATURE, NOW
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("path", "/storage/study/b.vcf.gz"),
        ("expires", "9999999999"),
        ("user", "8"),
        ("method", "PUT"),
        ("signature", "0" * 64),
        ("signature", ""),
    ],
)
def test_any_change_breaks_the_signature(storage: LocalStorage, field: str, value: str) -> None:
    path, query = parts(
        storage.signed_url(
            "study/a.vcf.gz", user="7", expires_at=NOW + timedelta(minutes=5), filename="a"
        )
    )
    values = {"method": "GET", "path": path, **query, field: value}
    with pytest.raises(InvalidSignature, match=r"^signature does not match$"):
        storage.verify(
            values["method"],
            values["path"],
            values["expires"],
            values["user"],
            values["signature"],
            NOW,
        )


def test_expired_url_is_refused(storage: LocalStorage) -> None:
    path, query = parts(
        storage.signed_url(
            "study/a.vcf.gz", user="7", expires_at=NOW + timedelta(minutes=5), filename="a"
        )
    )
    with pytest.raises(InvalidSignature, match=r"^the URL has expired$"):
        storage.verify(
            "GET",
            path,
            query["expires"],
            query["user"],
            query["signature"],
            NOW + timedelta(minutes=5),
        )


def test_url_signed_by_another_key_is_refused(storage: LocalStorage, tmp_path: Path) -> None:
    other = LocalStorage(tmp_path, b"x" * 32, "http://127.0.0.1:5000")
    path, query = parts(
        other.signed_url(
            "study/a.vcf.gz", user="7", expires_at=NOW + timedelta(minutes=5), filename="a"
        )
    )
    with pytest.raises(InvalidSignature):
        storage.verify("GET", path, query["expires"], query["user"], query["signature"], NOW)


@pytest.mark.parametrize(
    "key",
    [
        "../outside.txt",
        "study/../../outside.txt",
        "/etc/passwd",
        "study",
        "study/missing.vcf.gz",
        "study/./../../outside.txt",
    ],
)
def test_keys_outside_the_root_or_without_a_file_resolve_to_nothing(
    storage: LocalStorage, key: str
) -> None:
    assert storage.resolve(key) is None


def test_key_inside_the_root_resolves(storage: LocalStorage) -> None:
    found = storage.resolve("study/a.vcf.gz")
    assert found is not None and found.read_bytes() == b"data"


def test_put_file_refuses_keys_that_escape(storage: LocalStorage, tmp_path: Path) -> None:
    source = tmp_path / "study" / "a.vcf.gz"
    with pytest.raises(ValueError, match="escapes"):
        storage.put_file("../../evil", source)


def test_special_characters_in_keys_round_trip(storage: LocalStorage) -> None:
    url = storage.signed_url(
        "study/a b&c.txt", user="1", expires_at=NOW + timedelta(minutes=1), filename="x"
    )
    path, query = parts(url)
    assert path == "/storage/" + quote("study/a b&c.txt")
    storage.verify("GET", path, query["expires"], query["user"], query["signature"], NOW)


def test_urls_signed_with_a_previous_key_verify_during_rotation(tmp_path: Path) -> None:
    old = LocalStorage(tmp_path, b"o" * 32, "http://127.0.0.1:5000")
    rotated = LocalStorage(tmp_path, b"n" * 32, "http://127.0.0.1:5000", previous_keys=[b"o" * 32])
    path, query = parts(
        old.signed_url(
            "study/a.vcf.gz", user="7", expires_at=NOW + timedelta(minutes=5), filename="a"
        )
    )
    rotated.verify("GET", path, query["expires"], query["user"], query["signature"], NOW)
    fresh_path, fresh = parts(
        rotated.signed_url(
            "study/a.vcf.gz", user="7", expires_at=NOW + timedelta(minutes=5), filename="a"
        )
    )
    with pytest.raises(InvalidSignature):
        old.verify("GET", fresh_path, fresh["expires"], fresh["user"], fresh["signature"], NOW)


def test_listing_a_prefix_stays_inside_the_root(storage: LocalStorage) -> None:
    (storage.root / "study" / "b.tsv").write_bytes(b"xy")
    assert list(storage.list_objects("study/")) == [("study/a.vcf.gz", 4), ("study/b.tsv", 2)]
    assert list(storage.list_objects("study/b")) == [("study/b.tsv", 2)]
    assert list(storage.list_objects("st")) == [("study/a.vcf.gz", 4), ("study/b.tsv", 2)]
    assert list(storage.list_objects("../")) == []
    assert list(storage.list_objects("nothing/")) == []
