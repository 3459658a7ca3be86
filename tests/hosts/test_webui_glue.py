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

PROBE = """
import json, runpy, sys
sys.path[:0] = {paths!r}
glue = runpy.run_path({script!r})
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
status = TestClient(app).get("/wan-weave/v1/status").json()
glue["free_webui_vram"]()
for fn in registered["script_unloaded"]:
    fn()
print(json.dumps({{"title": title, "tab_id": tab_id, "ids": ids, "options": sorted(shared.opts.infos),
                  "sections": sorted({{str(i.section) for i in shared.opts.infos.values()}}), "status": status,
                  "calls": CALLS, "profile_default": shared.opts.data["wan_weave_profile"]}}))
"""


def test_the_tab_options_route_and_vram_hand_over(tmp_path):
    code = PROBE.format(
        paths=[str(ROOT / "tests" / "fake_webui"), str(ROOT)], script=str(ROOT / "scripts" / "wan_weave.py")
    )
    env = {**os.environ, "WAN_WEAVE_FAKE_MODELS_PATH": str(tmp_path / "models"),
           "WAN_WEAVE_FAKE_SCRIPT_PATH": str(tmp_path / "webui")}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert (seen["title"], seen["tab_id"]) == ("Wan Weave", "wan_weave")
    assert {"wan_weave_settings_file", "wan_weave_plan", "wan_weave_render", "wan_weave_video"} <= set(seen["ids"])
    assert seen["options"] == [
        "wan_weave_enhancer",
        "wan_weave_models_dir",
        "wan_weave_output_dir",
        "wan_weave_profile",
    ]
    assert seen["sections"] == ["('wan_weave', 'Wan Weave')"] and seen["profile_default"] == "auto"
    assert seen["status"]["models_dir"] == str(tmp_path / "models" / "wan")
    assert seen["calls"] == ["sd_models.unload_model_weights", "devices.torch_gc"]
