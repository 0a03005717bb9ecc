#!/bin/sh
# The container's entrypoint: check every setting first, then serve with gunicorn, or run
# the command given instead (`flask --app app:create_app notify send`, `db upgrade`, ...).
# A missing or malformed setting stops it here with the message that names the variable
# (exit 78, EX_CONFIG), before a server starts that would fail on its first request.
set -eu
cd "${CUSTODIAN_HOME:-/opt/custodian/app}"
"${PYTHON:-python3}" - <<'PY'
import sys

from config import SettingsError, load_settings

try:
    load_settings()
except SettingsError as problem:
    print(f"custodian: refusing to start: {problem}", file=sys.stderr)
    sys.exit(78)
PY
if [ "$#" -eq 0 ]; then
    set -- gunicorn --config deploy/gunicorn.conf.py 'app:create_app()'
fi
exec "$@"
