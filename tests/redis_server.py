"""A real Redis for the tests that share rate limits between instances: Debian's
redis-server on a Unix socket of its own (no TCP port to race for), nothing saved, stopped
by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


@contextmanager
def running_redis() -> Iterator[str]:
    """Yields the URL of a fresh server, in the ``redis+unix://`` form the limits library
    and redis-py both read."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: run `make system-packages`")
    root = Path(tempfile.mkdtemp(prefix="custodian-redis-"))
    unix_socket = root / "redis.sock"
    pidfile = root / "redis.pid"
    subprocess.run([binary, "--port", "0", "--unixsocket", str(unix_socket), "--save", "",
                    "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pidfile),
                    "--dir", str(root), "--logfile", str(root / "log")], check=True)
    url = f"redis+unix://{unix_socket}"
    try:
        _wait_until_answering(url)
        yield url
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_answering(url: str) -> None:
    client = redis.Redis(unix_socket_path=url.removeprefix("redis+unix://"))
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()
