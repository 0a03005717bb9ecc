"""Under several workers, /metrics adds up what every worker process counted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, multiproc_dir: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True,
        env={"PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), "PATH": "/usr/bin:/bin"},
    ).stdout


def test_multiprocess_mode_sums_the_workers_counts(tmp_path: Path) -> None:
    for _worker in range(2):
        run("from core.metrics import count_signed_url_issued as c; c(); c()", tmp_path)
    scraped = run("from core.metrics import exposition; print(exposition()[0].decode())",
                  tmp_path)
    assert "custodian_signed_urls_issued_total 4.0" in scraped
