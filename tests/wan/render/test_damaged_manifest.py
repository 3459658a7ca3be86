"""A damaged manifest.json (or frames file) never gets a traceback: resume reuses only intact clips,
and a file that is not a manifest is one line and exit 2."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings

from movement import load_settings
from movement.errors import WanWeaveError
from tests.conftest import EXAMPLES, wan
from tests.damaged import damaged, dump
from wan.plan.build import PlanOptions, build_plan
from wan.render.request import RenderOptions, RenderRequest
from wan.render.resume import load_frames, read_manifest, reusable_clips
from wan.render.run import run_request


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished preview render of three clips, its folder and plan."""
    plan = build_plan(load_settings(EXAMPLES / "greenhouse_2d.txt"),
                      PlanOptions(width=64, height=48, max_clip_frames=33))  # fmt: skip
    folder = tmp_path_factory.mktemp("render") / "out"
    run_request(RenderRequest(plan, str(folder), RenderOptions(preset="ultrafast")), log=lambda m: None)
    return folder, (folder / "plan.json").read_text()  # the plan as rendered (its prompts filled in)


def _manifest(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_the_fixture_has_clips_to_reuse(finished):
    folder, plan_json = finished
    reuse = reusable_clips(str(folder), plan_json)
    assert len(reuse) >= 3 and all(load_frames(str(folder), e) is not None for e in reuse.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=damaged({"status": "done", "clips": [{"index": 0, "frames": 33, "frames_file": "x",
                                                                 "frames_bytes": 1, "frames_sha256": "a"}],
                                   "options": {"engine": "preview", "crf": 18}}))  # fmt: skip
def test_any_damaged_manifest_is_reused_safely_or_refused(finished, tmp_path_factory, data):
    folder, plan_json = finished
    work = tmp_path_factory.mktemp("m")
    shutil.copy(folder / "plan.json", work / "plan.json")
    real = _manifest(folder)
    # Damage grafted onto the real manifest half the time, so entries point at real frames files.
    manifest = {**real, **data} if isinstance(data, dict) and data.get("status") == "done" else data
    (work / "manifest.json").write_text(dump(manifest))
    (work / "clips").symlink_to(folder / "clips")
    try:
        reuse = reusable_clips(str(work), plan_json)
        for entry in reuse.values():
            load_frames(str(work), entry)
        saved = read_manifest(str(work)) or {}
        RenderOptions.from_dict(saved.get("options", {}))
    except WanWeaveError:
        pass


def test_a_frames_file_named_outside_the_folder_is_never_read(finished, tmp_path):
    folder, _ = finished
    entry = {**_manifest(folder)["clips"][0], "frames_file": "../../../etc/passwd"}
    assert load_frames(str(folder), entry) is None


@pytest.mark.parametrize("text", ["[1, 2]", '{"clips": 7}', '{"clips": [{"index": "0"}]}', '{"options": [1]}',
                                  '{"options": {"crf": "x"}}', "{", '{"clips": [{"index": 99999999999}]}'])  # fmt: skip
def test_resume_with_a_damaged_manifest_is_one_line(finished, tmp_path, text):
    folder, _ = finished
    work = tmp_path / "out"
    shutil.copytree(folder, work)
    (work / "manifest.json").write_text(text)
    result = wan("resume", work)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "manifest.json" in result.stderr and "\n" not in result.stderr.strip()


def test_resume_regenerates_a_damaged_frames_file(finished, tmp_path):
    folder, _ = finished
    work = tmp_path / "out"
    shutil.copytree(folder, work)
    frames = sorted((work / "clips").glob("*.frames.npz"))[1]
    frames.write_bytes(b"PK\x03\x04 not a zip")
    result = wan("resume", work)
    assert result.returncode == 0, result.stderr
    assert "missing or damaged; generating it again" in result.stdout + result.stderr
