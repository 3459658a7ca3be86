"""The REST API over real HTTP on 127.0.0.1, against the standalone app: auth, bad bodies, path
traversal, the models list, and two concurrent submissions that run one after the other."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

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


def test_openapi_schema_is_published_to_those_with_credentials(app):
    for path in ("/openapi.json", "/"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{app[0]}{path}", timeout=30)
        assert refused.value.code == 401
    request = urllib.request.Request(f"{app[0]}/openapi.json", headers={"Authorization": GOOD})
    with urllib.request.urlopen(request, timeout=30) as response:
        schema = json.loads(response.read())
    assert {"/wan-weave/v1/jobs", "/wan-weave/v1/jobs/{job_id}", "/wan-weave/v1/models"} <= set(schema["paths"])


def test_hostile_requests_get_4xx_not_500(app):
    assert call(app, "GET", "/jobs", auth="Basic " + "é" * 8)[0] == 401  # non-ASCII credentials
    assert call(app, "GET", "/jobs", auth="Basic !!!not-base64")[0] == 401
    assert call(app, "GET", f"/jobs/{2**70}")[0] == 422
    assert call(app, "DELETE", "/jobs/0")[0] == 422
    deep = b'{"settings": ' + b"[" * 990 + b"]" * 990 + b"}"
    status, body = call(app, "POST", "/jobs", raw=deep)
    assert status in (400, 422) and body["error"], body  # refused with a reason, never a 500


def test_a_jobs_files_come_only_from_the_inputs_folder(app):
    out = app[1]
    for key, value in (("init_image", "/etc/hostname"), ("init_image", "../../x.png"), ("soundtrack_path", "/etc/passwd")):
        data = {**settings(), "use_init": True, key: value, "add_soundtrack": "File" if key == "soundtrack_path" else "None"}
        status, body = call(app, "POST", "/jobs", {"name": "peek", "settings": data, "options": OPTIONS})
        assert status == 422 and key in body["error"] and "inputs/" in body["error"], body
    from movement import load_settings
    from wan.plan.build import PlanOptions, build_plan
    from wan.plan.plan_json import plan_to_dict

    plan = plan_to_dict(build_plan(load_settings(EXAMPLES / "greenhouse_2d.txt"), PlanOptions(width=64, height=48)))
    plan_status, plan_body = call(app, "POST", "/jobs", {"plan": {**plan, "name": "../../outside/x"}})
    assert plan_status == 422 and "name" in plan_body["error"], plan_body
    assert not (out.parent / "outside").exists()
    # A file in <root>/inputs, named relative to it, is read.
    import cv2
    import numpy as np

    (out / "inputs").mkdir(exist_ok=True)
    cv2.imwrite(str(out / "inputs" / "start.png"), np.full((48, 64, 3), 200, np.uint8))
    data = {**settings(10), "use_init": True, "init_image": "start.png"}
    status, body = call(app, "POST", "/jobs", {"name": "from-inputs", "settings": data,
                                                "options": {**OPTIONS, "engine": "preview"}})  # fmt: skip
    assert status == 202, body
    job = wait_done(app, body["job_id"])
    assert job["state"] == "done", job
    manifest = json.loads((out / "from-inputs" / "manifest.json").read_text())
    assert manifest["warnings"] == []  # the init image was found and used, not a test card
