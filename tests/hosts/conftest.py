"""The standalone app as a user starts it (a real process on 127.0.0.1), with the tiny models;
its generation worker runs in WAN_WEAVE_WORKER_PYTHON (.venv: torch, diffusers)."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

WORKER = os.environ.get("WAN_WEAVE_WORKER_PYTHON", sys.executable)
API_AUTH = ("tester", "s3cret")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    models = tmp_path_factory.mktemp("ui-models")
    made = subprocess.run([WORKER, "-m", "wan", "make-tiny-models", str(models)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert made.returncode == 0, made.stderr
    out = tmp_path_factory.mktemp("out")
    port = free_port()
    log = open(tmp_path_factory.mktemp("log") / "app.log", "w+")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wan", "ui", "--port", str(port), "--models", str(models), "--out", str(out),
         "--worker-python", WORKER, "--api-auth", ":".join(API_AUTH)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # The page first, then the API, mounted right after. With credentials: the auth middleware
    # answers 401 to everything, mounted or not, so only a 200 says the routes are there.
    token = base64.b64encode(":".join(API_AUTH).encode()).decode()
    ready = urllib.request.Request(url + "/wan-weave/v1/models", headers={"Authorization": f"Basic {token}"})
    for _ in range(240):
        try:
            urllib.request.urlopen(ready, timeout=2)
            break
        except urllib.error.HTTPError:
            time.sleep(0.5)
        except OSError:
            assert proc.poll() is None, Path(log.name).read_text()
            time.sleep(0.5)
    else:
        raise AssertionError(f"the app's API did not come up: {Path(log.name).read_text()[-2000:]}")
    yield url, out
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
