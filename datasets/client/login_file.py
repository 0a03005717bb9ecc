"""Where ``login`` keeps the service URL and the token: one JSON file only its owner can read."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "download.json"


class NotLoggedIn(Exception):
    """No usable login file: the message says what to run."""


@dataclass(frozen=True)
class Login:
    url: str
    token: str

    def __repr__(self) -> str:  # the token must not reach a log or a traceback
        return f"Login(url={self.url!r}, token=<hidden>)"


def config_path() -> Path:
    """``$XDG_CONFIG_HOME/custodian/download.json``; ``~/.config`` by default, APPDATA on
    Windows."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA")
    root = Path(base) if base else Path.home() / ".config"
    return root / "custodian" / FILE_NAME


def save(login: Login, path: Path | None = None) -> Path:
    """Written to a new file created 0600 and renamed over the old one, so it is never readable
    by others, not even for a moment."""
    target = path or config_path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".new")
    staging.unlink(missing_ok=True)
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"url": login.url, "token": login.token}, handle)
    os.replace(staging, target)
    return target


def load(path: Path | None = None) -> Login:
    target = path or config_path()
    try:
        stored = json.loads(target.read_text(encoding="utf-8"))
        return Login(url=str(stored["url"]), token=str(stored["token"]))
    except FileNotFoundError:
        raise NotLoggedIn("Not logged in: run `custodian-download login URL` first.") from None
    except (ValueError, KeyError, TypeError, OSError):
        raise NotLoggedIn(f"{target} is unreadable: run `custodian-download login URL` "
                          "again.") from None


def forget(path: Path | None = None) -> bool:
    target = path or config_path()
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True
