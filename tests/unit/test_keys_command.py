"""``flask keys generate`` runs where nothing is configured yet: no settings, no database.

It is a Flask plugin command (pyproject's ``flask.commands`` entry point), which Flask finds
without building the app. The test runs the real ``flask`` executable in an empty
environment, with that entry point read from pyproject.toml and put in a distribution of
its own, so that it holds before the package is reinstalled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from config import load_settings
from tests.unit.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def plugin_distribution(folder: Path) -> Path:
    """A dist-info declaring pyproject's Flask plugin commands, as an installed one does."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())
    commands = declared["project"]["entry-points"]["flask.commands"]
    info = folder / "custodian_commands-0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: custodian-commands\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[flask.commands]\n" + "".join(f"{name} = {target}\n" for name, target in commands.items())
    )
    return folder


def run_flask(args: list[str], tmp_path: Path, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of ours in the environment: no CUSTODIAN_*, no FLASK_APP.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": f"{plugin_distribution(tmp_path)}{os.pathsep}{ROOT}",
    }
    return subprocess.run(
        [str(FLASK), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_generate_needs_no_settings_even_where_the_app_cannot_start(
    tmp_path: Path,
) -> None:
    # In the checkout, with --app naming the factory: building the app would fail
    # (production needs CUSTODIAN_DATABASE_URL and the rest), so the command must not build it.
    first = run_flask(["--app", "app:create_app", "keys", "generate"], tmp_path, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    second = run_flask(["keys", "generate"], tmp_path, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    key, other = first.stdout.strip(), second.stdout.strip()
    assert key != other and len(key) >= 64
    assert (
        load_settings({**PRODUCTION, "CUSTODIAN_URL_SIGNING_KEY": key}).url_signing_key
        == key.encode()
    )


def test_the_app_itself_still_refuses_to_start_without_settings(tmp_path: Path) -> None:
    refused = run_flask(["--app", "app:create_app", "db", "upgrade"], tmp_path, cwd=ROOT)
    assert refused.returncode != 0
    assert "SettingsError: CUSTODIAN_" in refused.stderr and "is required" in refused.stderr
