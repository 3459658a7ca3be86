"""One render request, one path: the assets are read once, every engine is an `Engine`."""

from __future__ import annotations

import json

import cv2
import pytest

from movement import load_settings
from tests.conftest import EXAMPLES
from wan.engine.assets import read_assets
from wan.engine.preview import PreviewEngine
from wan.engine.protocol import Engine
from wan.plan.build import PlanOptions, build_plan, plan_with_seed
from wan.render.request import EnhanceOptions, RenderOptions, RenderRequest
from wan.render.run import run_request


@pytest.fixture
def counted_reads(monkeypatch):
    """Every image file the process opens with OpenCV, by path."""
    reads: list[str] = []
    real = cv2.imread

    def imread(path, *args):
        reads.append(str(path))
        return real(path, *args)

    monkeypatch.setattr(cv2, "imread", imread)
    return reads


def test_a_render_reads_each_of_its_images_once(tmp_path, counted_reads):
    # Guided Images keyframes (three files), the template enhancer asking for images, the preview
    # engine, the joiner and the seam meter: each file is opened once for the whole render.
    plan = build_plan(load_settings(EXAMPLES / "lighthouse_keyframes.txt"),
                      PlanOptions(width=64, height=48, mode="flf2v_keyframes"))  # fmt: skip
    request = RenderRequest(plan, str(tmp_path / "out"), RenderOptions(preset="ultrafast"),
                            EnhanceOptions("template", None))  # fmt: skip
    run_request(request, log=lambda m: None)
    assert sorted(p.rsplit("/", 1)[-1] for p in counted_reads) == [
        "harbour_day.png", "harbour_dusk.png", "harbour_night.png"
    ]  # fmt: skip


def test_an_init_image_is_read_once_and_shared(tmp_path, counted_reads):
    plan = plan_with_seed(load_settings(EXAMPLES / "lighthouse_init.txt"), PlanOptions(width=64, height=48))
    run_request(RenderRequest(plan, str(tmp_path / "out"), RenderOptions(preset="ultrafast")), log=lambda m: None)
    assert len(counted_reads) == 1
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["warnings"] == []


def test_the_preview_and_the_wan_engine_are_engines(tiny_models):
    from wan.engine.wan_engine import WanEngine

    settings = load_settings(EXAMPLES / "harbor_3d.txt")
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2))
    assets = read_assets(plan, settings)
    assert isinstance(PreviewEngine(plan, settings, assets), Engine)
    assert isinstance(WanEngine(plan, str(tiny_models), assets, log=lambda m: None), Engine)
    assert not isinstance(object(), Engine)
