"""The REST API over real HTTP on 127.0.0.1, against the standalone app: auth, bad bodies, path
traversal, the models list, and two concurrent submissions that run one after the other."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request

from tests.conftest import EXAMPLES
from tests.hosts.conftest import API_AUTH

GOOD = "Basic " + base64.b64encode(":".join(API_AUTH).encode()).decode()


def call(app, method: str, path: str, body=None, auth: str | None = GOOD, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"{app[0]}/wan-weave/v1{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def settings(frames: int = 30) -> dict:
    data = json.loads((EXAMPLES / "greenhouse_2d.txt").read_text())
    data.update(max_frames=frames, prompts={"0": "a glass greenhouse", "15": "orchids opening"})
    return data


OPTIONS = {"engine": "wan", "width": 64, "height": 48, "steps": 2}


def wait_done(app, job_id: int, timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        _status, job = call(app, "GET", f"/jobs/{job_id}")
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_auth_is_required_and_checked(app):
    assert call(app, "GET", "/jobs", auth=None)[0] == 401
    assert call(app, "GET", "/jobs", auth="Basic " + base64.b64encode(b"tester:wrong").decode())[0] == 401
    assert call(app, "GET", "/jobs", auth="Bearer nonsense")[0] == 401
    status, models = call(app, "GET", "/models")
    assert status == 200 and "wan2.1-t2v-tiny" in {m["name"] for m in models["models"]}


def test_bad_bodies_are_refused_with_reasons(app):
    assert call(app, "POST", "/jobs", raw=b"{not json")[0] == 400
    status, body = call(app, "POST", "/jobs", raw=b'{"settings": {}, "pad": "' + b"x" * (1 << 20) + b'"}')
    assert status == 413 and "payload larger" in body["error"]
    status, body = call(app, "POST", "/jobs", {"settings": settings(), "options": {"steps": "many"}})
    assert status == 422 and "invalid job" in body["error"]
    status, body = call(app, "POST", "/jobs", {"settings": {**settings(), "translation_x": "0: (1+"}})
    assert status == 422 and "translation_x" in body["error"]
    assert call(app, "GET", "/jobs/99999")[0] == 404


def test_two_concurrent_jobs_run_one_after_the_other_inside_the_output_root(app):
    answers = []

    def submit(name):
        answers.append(call(app, "POST", "/jobs", {"name": name, "settings": settings(), "options": OPTIONS}))

    threads = [threading.Thread(target=submit, args=(n,)) for n in ("../../escape", "second job")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in answers] == [202, 202], answers
    jobs = [wait_done(app, i) for i in sorted(body["job_id"] for _, body in answers)]
    assert [j["state"] for j in jobs] == ["done", "done"], jobs
    assert {j["name"] for j in jobs} == {"escape", "second-job"}  # sanitised: nothing outside the root
    out = app[1]
    assert all((out / j["name"] / "manifest.json").is_file() for j in jobs)
    spans = []
    for j in jobs:
        manifest = json.loads((out / j["name"] / "manifest.json").read_text())
        assert manifest["status"] == "done" and len(j["clips"]) == len(manifest["clips"])
        spans.append(
            ((out / j["name"] / "plan.json").stat().st_mtime, (out / j["name"] / "manifest.json").stat().st_mtime)
        )
    (_a_start, a_end), (b_start, _b_end) = sorted(spans)
    assert a_end <= b_start  # never interleaved on the GPU
    request = urllib.request.Request(f"{app[0]}{jobs[0]['output_url']}", headers={"Authorization": GOOD})
    with urllib.request.urlopen(request, timeout=30) as response:
        status, video = response.status, response.read()
    assert status == 200 and video[4:8] == b"ftyp"


def test_openapi_schema_is_published(app):
    with urllib.request.urlopen(f"{app[0]}/openapi.json", timeout=30) as response:
        schema = json.loads(response.read())
    assert {"/wan-weave/v1/jobs", "/wan-weave/v1/jobs/{job_id}", "/wan-weave/v1/models"} <= set(schema["paths"])
