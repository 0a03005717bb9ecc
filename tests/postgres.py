"""A throwaway PostgreSQL cluster for the tests: initdb, start on a free port, stop after.

initdb and pg_ctl refuse to run as root, so as root they run as the postgres user.
PostgreSQL binds its port itself (it cannot be handed a socket), so a port another
process takes between our choosing it and the server binding it is met by choosing
again (``PORT_TRIES``), not by a failed test.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.ports import port_of, refusing_socket

PORT_TRIES = 5


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing: run `make system-packages`")
    return Path(found[-1])


def _run(args: list[str]) -> None:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True)


class PostgresCluster:
    def __init__(self, root: Path, *, durable: bool = False) -> None:
        self.root = root
        self.durable = durable
        self.data = root / "data"
        self.port = _unbound_port()
        self.bin = postgres_bin()
        self.started_once = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def init(self) -> None:
        _run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--no-locale", "--no-sync"])

    def start(self) -> None:
        """Start; the first start moves to another port while its port turns out taken (a
        restart keeps the port the service's URL names)."""
        for _ in range(PORT_TRIES - 1):
            try:
                self._start()
                break
            except subprocess.CalledProcessError:
                if self.started_once or not self._port_was_taken():
                    raise
                self.port = _unbound_port()
        else:
            self._start()
        self.started_once = True

    def _start(self) -> None:
        # Tests trade crash safety for speed; benchmarks measure the durable default.
        options = f"-k {self.root} -h 127.0.0.1 -p {self.port}"
        if not self.durable:
            options += " -c fsync=off"
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l",
              str(self.root / "log"), "-o", options, "start"])

    def _port_was_taken(self) -> bool:
        log = self.root / "log"
        return log.exists() and "could not bind" in log.read_text(errors="replace")

    def stop(self) -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])


@contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[PostgresCluster]:
    """A started cluster; stopped and deleted afterwards."""
    root = Path(tempfile.mkdtemp(prefix="custodian-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PostgresCluster(root, durable=durable)
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    copy = f' TEMPLATE "{template}"' if template else ""
    _administer(server_url, f'CREATE DATABASE "{name}"{copy}')
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _administer(server_url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _unbound_port() -> int:
    """A port the kernel had free a moment ago (bound on port 0, read back, released)."""
    with refusing_socket() as sock:
        return port_of(sock)
