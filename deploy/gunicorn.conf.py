"""gunicorn settings for Custodian: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

The test suite serves with this same file (tests/gunicorn_service.py), so what ships is
what is tested. Command-line options override it (the tests bind their own socket).
Environment: GUNICORN_BIND (default 0.0.0.0:8000), WEB_CONCURRENCY (workers, read by
gunicorn itself; default below), GUNICORN_THREADS, PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two sync workers per core is gunicorn's advice for I/O-bound apps; each holds its own
# database pool (README: instances x workers x (pool + overflow) < max_connections).
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 60  # a signed-URL request takes milliseconds; a stuck worker is replaced
graceful_timeout = 30
keepalive = 5
# Each worker builds the app itself: nothing (a database pool, a boto3 client) is shared
# across a fork.
preload_app = False

accesslog = "-"
# %(U)s is the path alone: signed URLs and OIDC callbacks carry secrets in the query string,
# which never reaches the log (%(r)s, gunicorn's default, would write it down).
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
)
errorlog = "-"


def on_starting(server: Any) -> None:
    """prometheus_client's multiprocess files must start empty, or a restart would add the
    dead workers' old counts to the new ones."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker gone: its live gauges stop counting (its counters stay summed in)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
