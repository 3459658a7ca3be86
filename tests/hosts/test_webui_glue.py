"""scripts/wan_weave.py inside a stand-in WebUI (tests/fake_webui/modules), with the host's real
gradio (4.40 and 3.41.2: tools/test.py runs this file in both stacks): the tab registers, the
options exist, the route mounts, the checkpoint leaves the GPU before a render."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytest.importorskip("gradio")
pytest.importorskip("fastapi")

# How each host loads scripts/wan_weave.py. Forge keeps every extension folder on sys.path; A1111
# (modules/scripts.py, load_scripts) puts the folder first only while the file loads, then restores
# the old list: the callbacks run later, without it.
LOADERS = {
    "forge": "sys.path[:0] = [{ext!r}]\nglue = runpy.run_path({script!r})\n",
    "a1111": (
        "syspath = sys.path\n"
        "try:\n"
        "    sys.path = [{ext!r}] + sys.path\n"
        "    spec = importlib.util.spec_from_file_location('wan_weave.py', {script!r})\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    glue = vars(module)\n"
        "finally:\n"
        "    sys.path = syspath\n"
    ),
}
PROBE = """
import importlib.util, json, runpy, sys
sys.path[:0] = [{fake!r}]
{load}
from modules import CALLS, script_callbacks, shared
registered = script_callbacks.registered
for fn in registered["ui_settings"]:
    fn()
(blocks, title, tab_id), = registered["ui_tabs"][0]()
ids = sorted(c.get("props", {{}}).get("elem_id") or "" for c in blocks.config["components"])
from fastapi import FastAPI
from fastapi.testclient import TestClient
app = FastAPI()
for fn in registered["app_started"]:
    fn(None, app)
client = TestClient(app)
answer = client.get("/wan-weave/v1/status")
jobs = client.get("/wan-weave/v1/jobs")
glue["free_webui_vram"]()
for fn in registered["script_unloaded"]:
    fn()
print(json.dumps({{"title": title, "tab_id": tab_id, "ids": ids, "options": sorted(shared.opts.infos),
                  "sections": sorted({{str(i.section) for i in shared.opts.infos.values()}}),
                  "status": [answer.status_code, answer.json() if answer.status_code == 200 else None],
                  "jobs": jobs.status_code, "calls": CALLS, "profile_default": shared.opts.data["wan_weave_profile"]}}))
"""


def probe(tmp_path, loader: str, cmd_opts: dict, **env) -> dict:
    code = PROBE.format(fake=str(ROOT / "tests" / "fake_webui"),
                        load=LOADERS[loader].format(ext=str(ROOT), script=str(ROOT / "scripts" / "wan_weave.py")))  # fmt: skip
    env = {**os.environ, "WAN_WEAVE_FAKE_MODELS_PATH": str(tmp_path / "models"), "PYTHONPATH": "",
           "WAN_WEAVE_FAKE_SCRIPT_PATH": str(tmp_path / "webui"), "WAN_WEAVE_FAKE_CMD_OPTS": json.dumps(cmd_opts),
           **env}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("loader", ["forge", "a1111"])
def test_the_tab_options_and_routes_appear_however_the_host_loads_scripts(tmp_path, loader):
    seen = probe(tmp_path, loader, {"api": True})
    assert (seen["title"], seen["tab_id"]) == ("Wan Weave", "wan_weave")
    assert {"wan_weave_settings_file", "wan_weave_plan", "wan_weave_render", "wan_weave_video"} <= set(seen["ids"])
    assert seen["options"] == [
        "wan_weave_enhancer",
        "wan_weave_models_dir",
        "wan_weave_output_dir",
        "wan_weave_profile",
    ]
    assert seen["sections"] == ["('wan_weave', 'Wan Weave')"] and seen["profile_default"] == "auto"
    assert seen["status"] == [200, {"version": seen["status"][1]["version"], "models_dir": str(tmp_path / "models" / "wan")}]
    assert seen["jobs"] == 200


def test_the_routes_follow_the_webuis_api_flags(tmp_path):
    assert probe(tmp_path, "a1111", {})["status"][0] == 404  # no --api: no routes
    guarded = probe(tmp_path, "a1111", {"api": True, "api_auth": "me:secret"})
    assert guarded["status"][0] == 401 and guarded["jobs"] == 401  # --api-auth: every route, /status too


@pytest.mark.parametrize(("host", "loaded", "calls"), [
    ("a1111", False, []),  # nothing loaded: nothing to unload, and shared.sd_model (which would load one) is not read
    ("a1111", True, ["sd_models.unload_model_weights(model)", "devices.torch_gc"]),
    ("forge", False, ["sd_models.unload_model_weights", "devices.torch_gc"]),  # Forge's unload never loads
])  # fmt: skip
def test_the_webuis_checkpoint_leaves_the_gpu_only_if_it_is_loaded(tmp_path, host, loaded, calls):
    env = {"WAN_WEAVE_FAKE_HOST": host, **({"WAN_WEAVE_FAKE_LOADED": "1"} if loaded else {})}
    assert probe(tmp_path, host, {"api": True}, **env)["calls"] == calls
