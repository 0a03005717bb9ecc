"""``python -m audit.verify EXPORT --public-key PEM``: the documented command of the
stand-alone verifier (audit/integrity/offline_verifier.py), kept at this name for the
auditors' scripts that call it."""

import sys

from audit.integrity.offline_verifier import main

if __name__ == "__main__":
    sys.exit(main())
