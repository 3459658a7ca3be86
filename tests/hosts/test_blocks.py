"""The tab builds and serves under the installed gradio: 4.40 (Forge, standalone) in .venv-ui and
3.41.2 (A1111) in .venv310; tools/test.py runs this file in both."""

from __future__ import annotations

import json
import urllib.request

import pytest

gr = pytest.importorskip("gradio")

from ui.tab import UIConfig, build_blocks  # noqa: E402

IDS = ("wan_weave_settings_file", "wan_weave_plan", "wan_weave_preview", "wan_weave_enhance", "wan_weave_render",
       "wan_weave_cancel", "wan_weave_progress", "wan_weave_video", "wan_weave_error")  # fmt: skip


def test_the_tab_builds_with_its_element_ids_and_serves(tmp_path):
    blocks = build_blocks(UIConfig(models_dir=str(tmp_path / "models"), out_root=str(tmp_path / "out")))
    ids = {c.get("props", {}).get("elem_id") for c in blocks.config["components"]}
    assert set(IDS) <= ids
    assert len(blocks.config["dependencies"]) >= 10  # loads, re-plans, preview, enhance, render, cancel
    blocks.queue()
    _, url, _ = blocks.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True,
                              show_api=False, allowed_paths=[str(tmp_path)])  # fmt: skip
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/config", timeout=30) as response:
            served = json.loads(response.read())
        assert set(IDS) <= {c.get("props", {}).get("elem_id") for c in served["components"]}
        assert served["version"].startswith(gr.__version__[:4])
    finally:
        blocks.close()
        blocks.wan_weave_worker.close()
