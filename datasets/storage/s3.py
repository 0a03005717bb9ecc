"""The production backend: objects in an S3 (or S3-compatible) bucket, URLs presigned with SigV4.

One boto3 client per process, built in the constructor and reused by every request: building
one costs milliseconds, a presign with a reused one a fraction of that. Credentials come from
boto3's standard chain (environment, shared files, instance role). Boto types stay in here.

Every URL carries ``x-custodian-user=<principal>`` in its query: the user's id, with
``-t<token id>`` when an API token asked for it (downloads/signed_urls.py). S3 ignores query
parameters that start with ``x-`` but writes them to its server access log, so the store's
own log names whom the URL was issued to; SigV4 signs every query parameter, so editing or
dropping it makes the store refuse the URL.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from datasets.catalogue.checksums import CHUNK, digest, file_chunks
from datasets.storage.base import ObjectNotFound, StorageUnavailable

USER_QUERY_PARAMETER = "x-custodian-user"
MAX_URL_SECONDS = 7 * 24 * 3600  # SigV4's limit for a presigned URL
# Our own GetObject parameter: a hook takes it out before boto validates the call.
_USER_PARAM = "CustodianUser"
PROBE_SECONDS = 2
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        addressing_style: str = "auto",
        key_prefix: str = "",
    ) -> None:
        self.bucket = bucket
        self.key_prefix = key_prefix
        session = boto3.session.Session()
        self._client = session.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )
        # Health checks answer within seconds, without retries: a hung store must not hold
        # a readiness probe, or the one request that re-checks it (health.py), for a minute.
        self._probe = session.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                connect_timeout=PROBE_SECONDS,
                read_timeout=PROBE_SECONDS,
                retries={"mode": "standard", "max_attempts": 1},
            ),
        )
        # Documented botocore events: the first runs before parameter validation, the second
        # just before SigV4 builds the canonical query it signs.
        self._client.meta.events.register("provide-client-params.s3.GetObject", _take_user)
        self._client.meta.events.register("before-sign.s3.GetObject", _add_user_to_query)

    def signed_url(self, key: str, *, user: str, expires_at: datetime, filename: str) -> str:
        # S3 counts a URL's life from its signing time, which boto takes from the system clock.
        seconds = math.ceil((expires_at - datetime.now(UTC)).total_seconds())
        with _translated(key):
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._object_key(key),
                    "ResponseContentDisposition": attachment(filename),
                    _USER_PARAM: user,
                },
                ExpiresIn=min(max(seconds, 1), MAX_URL_SECONDS),
            )
        return url

    def put_file(self, key: str, source: Path) -> None:
        """One PUT carrying Content-MD5 and SHA-256, so the store rejects bytes changed in transit.

        S3 takes at most 5 GB in one PUT; larger objects go in with the AWS CLI and are then
        registered with ``flask datasets import``.
        """
        sums = digest(file_chunks(source))
        with _translated(key), source.open("rb") as body:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self._object_key(key),
                Body=body,
                ContentMD5=_base64(sums.md5),
                ChecksumSHA256=_base64(sums.sha256),
            )

    def size_of(self, key: str) -> int:
        with _translated(key):
            head = self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        return int(head["ContentLength"])

    def read_chunks(self, key: str) -> Iterator[bytes]:
        with _translated(key):
            body = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))["Body"]
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        with _translated(key):
            try:
                answer = self._client.get_object(
                    Bucket=self.bucket,
                    Key=self._object_key(key),
                    Range=f"bytes={start}-{start + length - 1}",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                    return b""  # starts at or past the end: nothing there, as a file read
                raise
            data: bytes = answer["Body"].read()
        return data

    def list_objects(self, prefix: str) -> Iterator[tuple[str, int]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._object_key(prefix)
        )
        with _translated(prefix):
            for page in pages:  # S3 lists in UTF-8 binary key order, a page at a time
                for item in page.get("Contents", []):
                    yield item["Key"].removeprefix(self.key_prefix), int(item["Size"])

    def check(self) -> None:
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 bucket {self.bucket!r} is not usable: {exc}") from exc

    def _object_key(self, key: str) -> str:
        return self.key_prefix + key


def attachment(filename: str) -> str:
    """A Content-Disposition that cannot be broken out of: a plain quoted name, plus the
    exact name percent-encoded (RFC 6266) when it has quotes, controls or non-ASCII."""
    plain = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    if plain == filename:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _take_user(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if _USER_PARAM in params:
        context[_USER_PARAM] = params.pop(_USER_PARAM)


def _add_user_to_query(request: Any, **_: Any) -> None:
    user = request.context.get(_USER_PARAM)
    if user is not None:
        request.params[USER_QUERY_PARAMETER] = user


def _base64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """Boto's exceptions become ours: a missing object, or a store we cannot use now."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
            raise ObjectNotFound(key) from exc
        raise StorageUnavailable(f"S3 refused the request for {key!r}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"S3 is not usable for {key!r}: {exc}") from exc
