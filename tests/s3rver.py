"""A real S3 store for the tests: s3rver (npm), which enforces SigV4 signatures and expiry.

moto would answer the same API but accepts tampered and expired presigned URLs, so it cannot
prove that the store refuses them. Started from tests/node/s3rver.js on a socket bound here
(tests/ports.py), stopped by its PID. Its credentials are fixed: S3RVER / S3RVER.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.ports import HeldPort

NODE_DIR = Path(__file__).resolve().parent / "node"
ACCESS_KEY = "S3RVER"
SECRET_ACCESS_KEY = "S3RVER"  # s3rver's fixed, documented credential
START_SECONDS = 20


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    # Stops the store mid-test (an outage); its port then refuses connections.
    stop: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)


@contextmanager
def running_s3rver(bucket: str) -> Iterator[S3Server]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@20minutes" / "s3rver").is_dir():
        raise RuntimeError("node or the npm test servers are missing: run `make test` once")
    root = Path(tempfile.mkdtemp(prefix="custodian-s3-"))
    port = HeldPort()
    listening = port.listen()
    with (root / "stderr").open("w") as stderr:
        process = subprocess.Popen(
            [node, "s3rver.js", str(listening.fileno()), str(root / "data"), bucket],
            cwd=NODE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            pass_fds=(listening.fileno(),),
        )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        port.down()

    try:
        endpoint = port.url
        _wait_until_answering(endpoint, process, root / "stderr")
        yield S3Server(endpoint, bucket, stop)
    finally:
        if process.poll() is None:
            stop()
        port.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_answering(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"s3rver exited at start: {log.read_text()[-2000:]}")
        try:
            requests.get(endpoint, timeout=1)
            return
        except requests.RequestException:  # the socket queues us until it serves
            time.sleep(0.05)
    raise RuntimeError(f"s3rver did not answer within {START_SECONDS} s")
