"""panva's oidc-provider (OpenID Certified), run from tests/node, and a user who signs in there.

An independent provider proves what the embedded one cannot: that the service talks to a
standards-compliant provider it did not write, which checks PKCE and client secrets itself.
It keeps its sessions in memory, so each test starts its own, on a port held for it
(tests/ports.py: it inherits the listening socket), and stops it by its PID.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.html_forms import forms_in
from tests.ports import held

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "oidc_provider.mjs"
START_SECONDS = 15


@dataclass
class NodeProvider:
    port: int
    client_id: str
    client_secret: str
    redirect_uri: str
    log_path: Path
    institution: str = "Example University"
    passport: str | None = None  # JSON list of visas for userinfo's ga4gh_passport_v1
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> None:
        if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("oidc-provider is not installed: run `make test` "
                               "(or `npm install` in tests/node)")
        listening = held(self.port).listen()
        env = {**os.environ, "OP_PORT": str(self.port), "OP_FD": str(listening.fileno()),
               "OP_CLIENT_ID": self.client_id,
               "OP_CLIENT_SECRET": self.client_secret, "OP_REDIRECT_URI": self.redirect_uri,
               "OP_INSTITUTION": self.institution,
               **({"OP_PASSPORT": self.passport} if self.passport else {})}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(["node", str(SCRIPT)], cwd=NODE_DIR, env=env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            pass_fds=(listening.fileno(),))
        self._wait_for_discovery()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        held(self.port).down()

    def _wait_for_discovery(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {self.log_path.read_text()}")
            try:
                if requests.get(self.discovery_url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:  # the socket queues us until it serves
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oidc-provider did not answer in {START_SECONDS} s")


def authorize(browser: requests.Session, start_url: str, login: str, callback_url: str) -> str:
    """Start sign-in at `start_url` and play the user at the provider's login and consent pages.

    Stops where the provider sends the browser back, and returns that callback URL, so a
    test can deliver it as it is or tampered with.
    """
    response = browser.get(start_url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(f"{callback_url}?"):
                return target
            response = browser.get(target, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, response.text
        form = forms_in(response.text, response.url)[0]
        if "login" in form.fields:
            form.fields.update(login=login, password="any password")
        response = browser.post(form.action, data=form.fields, allow_redirects=False,
                                timeout=10)
    raise AssertionError(f"the provider never sent the browser back to {callback_url}")
