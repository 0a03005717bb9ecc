"""The README's operator steps, run as written: each is a ```sh block after an HTML comment
``<!-- runbook: NAME ... -->``. The one change made is the server's address: the README's
``db-host`` becomes the test cluster's ``127.0.0.1:PORT``; libpq's PGHOST, PGPORT and PGUSER
say where the superuser is, as the README tells operators to set them."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.postgres import PostgresCluster, postgres_bin

ROOT = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"<!-- runbook: (?P<name>[\w-]+)[^>]*-->\s*```sh\n(?P<body>.*?)```", re.S)


def runbook(name: str) -> str:
    blocks = {m["name"]: m["body"] for m in _BLOCK.finditer((ROOT / "README.md").read_text())}
    if name not in blocks:
        raise AssertionError(f"README.md has no runbook block {name!r}: {sorted(blocks)}")
    return "\n".join(line.removeprefix("   ") for line in blocks[name].splitlines())


def production_environment(
    cluster: PostgresCluster, folder: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Step 1's settings of the README (production, local disk), and libpq's variables."""
    (folder / "storage").mkdir(exist_ok=True)
    return {
        "PATH": f"{postgres_bin()}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        f"{os.environ['PATH']}",
        "HOME": str(folder),
        "PYTHONPATH": str(ROOT),
        "PGHOST": "127.0.0.1",
        "PGPORT": str(cluster.port),
        "PGUSER": "postgres",
        "CUSTODIAN_SECRET_KEY": "s" * 48,
        "CUSTODIAN_URL_SIGNING_KEY": "u" * 48,
        "CUSTODIAN_DATA_KEY": "d" * 48,
        "CUSTODIAN_STORAGE_ROOT": str(folder / "storage"),
        "CUSTODIAN_PUBLIC_URL": "https://data.example.org",
        "CUSTODIAN_OIDC_DISCOVERY_URL": "https://idp.example.org/.well-known/openid-configuration",
        "CUSTODIAN_OIDC_CLIENT_ID": "custodian",
        "CUSTODIAN_OIDC_CLIENT_SECRET": "c" * 32,
        "CUSTODIAN_AUDIT_SIGNING_KEY": base64.b64encode(b"k" * 32).decode(),
        **(extra or {}),
    }


def run(
    script: str, env: Mapping[str, str], cluster: PostgresCluster, *, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    script = script.replace("db-host", f"127.0.0.1:{cluster.port}")
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def app_url(cluster: PostgresCluster, role: str, database: str = "custodian") -> str:
    return f"postgresql+psycopg://{role}@127.0.0.1:{cluster.port}/{database}"
