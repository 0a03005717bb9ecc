"""deploy/entrypoint.sh, run as the container would run it (outside a container: they do not
run here): no server without complete settings; a command given instead runs after the
same check; with no command it serves with gunicorn and the shipped config."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.ports import HeldPort
from tests.unit.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    # python3 and gunicorn found on PATH, as the image's PATH puts its venv first.
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "CUSTODIAN_HOME": str(ROOT),
        **settings,
    }


def production(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "storage").mkdir(exist_ok=True)
    return environment(
        tmp_path,
        **{
            **PRODUCTION,
            "CUSTODIAN_DATABASE_URL": f"sqlite:///{tmp_path / 'custodian.db'}",
            "CUSTODIAN_STORAGE_ROOT": str(tmp_path / "storage"),
        },
    )


def test_missing_settings_stop_it_before_any_server_naming_the_variable(tmp_path: Path) -> None:
    refused = subprocess.run(
        [str(ENTRYPOINT)],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 78
    assert refused.stderr.startswith("custodian: refusing to start: CUSTODIAN_")
    assert "is required but not set" in refused.stderr and "Traceback" not in refused.stderr
    settings = production(tmp_path)
    del settings["CUSTODIAN_AUDIT_SIGNING_KEY"]
    ran = subprocess.run(
        [str(ENTRYPOINT), "true"],
        env=settings,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 78 and "CUSTODIAN_AUDIT_SIGNING_KEY" in ran.stderr


def test_a_given_command_runs_after_the_check_and_no_command_serves(tmp_path: Path) -> None:
    settings = production(tmp_path)
    migrated = subprocess.run(
        [str(ENTRYPOINT), "flask", "--app", "app:create_app", "db", "upgrade"],
        env=settings,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    held = HeldPort()
    sock = held.listen()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        served = subprocess.Popen(
            [str(ENTRYPOINT)],
            env={**settings, "GUNICORN_BIND": f"fd://{sock.fileno()}", "WEB_CONCURRENCY": "1"},
            stdout=output,
            stderr=output,
            pass_fds=(sock.fileno(),),
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert served.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            try:
                ready = requests.get(f"{held.url}/readyz", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok", "storage": "ok", "audit": "ok", "audit_sequencer": "ok"
        }
    finally:
        served.terminate()
        served.wait(timeout=30)
        held.close()
    assert "Booting worker" in log.read_text()  # gunicorn, not another server
