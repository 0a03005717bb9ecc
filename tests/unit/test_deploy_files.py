"""What deploy/ ships and this machine can check without running containers: the systemd
units pass ``systemd-analyze verify``, the compose file parses and names every part, the
Containerfile builds on Debian's Python as a user that is not root, and every command the
schedules run is one the app has. (Containers do not run here: RECIPES.md.)"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from app import create_app
from config import load_settings
from tests.unit.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
JOBS = {
    "notify-send": "notify send",
    "notify-remind": "notify remind",
    "audit-checkpoint": "audit checkpoint",
}


def assert_app_has(command: str) -> None:
    group, name = command.split()
    found = create_app(load_settings(PRODUCTION)).cli.get_command(None, group)  # type: ignore[arg-type]
    assert found is not None and name in found.commands, command  # type: ignore[attr-defined]


def test_systemd_units_verify_with_the_paths_of_this_checkout(tmp_path: Path) -> None:
    """The units name /opt/custodian/{venv,app}; here those are this checkout and its venv,
    so that verify also finds every program the units start."""
    env_file = tmp_path / "custodian.env"
    env_file.write_text("CUSTODIAN_ENV=production\n")
    for unit in (DEPLOY / "systemd").iterdir():
        text = (
            unit.read_text()
            .replace("/opt/custodian/venv/bin", str(Path(sys.executable).parent))
            .replace("/opt/custodian/app", str(ROOT))
            .replace("/etc/custodian/custodian.env", str(env_file))
        )
        (tmp_path / unit.name).write_text(text)
    units = sorted(
        str(path) for pattern in ("*.service", "*.timer") for path in tmp_path.glob(pattern)
    )
    assert len(units) == 7
    checked = subprocess.run(
        ["systemd-analyze", "verify", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_each_job_has_a_timer_and_runs_a_command_the_app_has() -> None:
    for job, command in JOBS.items():
        service = (DEPLOY / "systemd" / f"custodian-{job}.service").read_text()
        timer = (DEPLOY / "systemd" / f"custodian-{job}.timer").read_text()
        assert "OnCalendar=" in timer and "Type=oneshot" in service
        assert re.search(
            rf"^ExecStart=.*/entrypoint\.sh .*flask --app app:create_app "
            rf"{command}$",
            service,
            re.M,
        ), job
        assert_app_has(command)


def test_compose_file_names_the_whole_trial_and_its_jobs() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "minio", "bucket", "keycloak", "migrate", "app", *JOBS}
    assert services["app"]["build"]["dockerfile"] == "deploy/Containerfile"
    migrate = " ".join(services["migrate"]["command"])
    assert "db upgrade" in migrate and "db grant-app-role custodian_app" in migrate
    assert "custodian:" in services["migrate"]["environment"]["CUSTODIAN_DATABASE_URL"]
    assert "custodian_app:" in services["app"]["environment"]["CUSTODIAN_DATABASE_URL"]
    for job, command in JOBS.items():
        assert f"flask --app app:create_app {command};" in " ".join(services[job]["command"])
        assert_app_has(command)
    for source in ("postgres-init.sql", "keycloak-realm.json"):
        assert (DEPLOY / "compose" / source).is_file()


def test_containerfile_uses_debian_python_a_plain_user_and_the_entrypoint() -> None:
    lines = [line.strip() for line in (DEPLOY / "Containerfile").read_text().splitlines()]
    assert next(line for line in lines if line.startswith("FROM")) == (
        "FROM docker.io/library/debian:bookworm-slim"
    )
    text = "\n".join(lines)
    assert "python3 python3-venv" in text and "pip install" in text
    assert "USER custodian" in text and "useradd --system --uid 10001" in text
    assert 'ENTRYPOINT ["/opt/custodian/app/deploy/entrypoint.sh"]' in text
    for line in lines:
        if line.startswith("COPY "):
            for source in shlex.split(line)[1:-1]:
                assert (ROOT / source).exists(), source
