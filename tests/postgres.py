"""A throwaway PostgreSQL cluster for the tests: initdb, start on a free port, stop after.

initdb and pg_ctl refuse to run as root, so as root they run as the postgres user.
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

from tests.conftest import free_port


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing: run `make system-packages`")
    return Path(found[-1])


def _run(args: list[str]) -> None:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True)


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yields a server URL without a database name; stops and deletes the cluster after."""
    bin_dir = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="custodian-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = free_port()
    _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
          "-E", "UTF8", "--no-locale", "--no-sync"])
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
          f"-k {root} -h 127.0.0.1 -p {port} -c fsync=off", "start"])
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
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
