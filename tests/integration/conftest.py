"""Fixtures for the integration tests that need an S3 store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest

from datasets.storage import S3Storage
from tests.s3rver import ACCESS_KEY, SECRET_ACCESS_KEY, S3Server, running_s3rver


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One s3rver for the session; boto3 finds its credentials the standard way (environment)."""
    with running_s3rver("custodian-test") as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        patch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        # Nothing from a developer's own AWS set-up may leak into the tests.
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        yield server


@pytest.fixture
def s3_storage(s3_server: S3Server) -> S3Storage:
    """A backend on the shared bucket, under a key prefix of its own so tests never collide."""
    return S3Storage(s3_server.bucket, region="us-east-1", endpoint_url=s3_server.endpoint_url,
                     addressing_style="path", key_prefix=f"test-{uuid4().hex}/")
