"""The WAN engine on tiny random models: real diffusers loading and sampling, on the CPU, no weights."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from movement import load_settings
from tests.conftest import EXAMPLES, wan
from wan.engine.assets import read_assets
from wan.engine.errors import EngineError
from wan.engine.wan_engine import WanEngine
from wan.media.video import probe, read_frames
from wan.models.discovery import ModelNotFoundError, classify, discover, find_model
from wan.plan.build import PlanOptions, build_plan
from wan.plan.continuity import continuity_from
from wan.plan.negative import CAMERA_SHAKE, SHOT_CHANGE, WAN_NEGATIVE

pytest.importorskip("diffusers")


def test_tiny_model_is_recognised_by_its_configs(tiny_models, tmp_path):
    by_family = {m.family: m for m in discover(str(tiny_models))}
    assert by_family["wan2.1-i2v"].pipeline == "WanImageToVideoPipeline"
    found = by_family["wan2.1-t2v"]
    assert (found.family, found.size, found.pipeline) == ("wan2.1-t2v", "tiny", "WanPipeline")
    assert found.serves("wan2.1-t2v-1.3b") and found.serves("wan2.1-t2v-14b")
    assert not found.serves("wan2.1-i2v-14b-480p")
    # The folder name does not matter: a renamed copy is recognised the same way.
    renamed = tmp_path / "whatever"
    os.rename(found.path, renamed)
    try:
        assert classify(str(renamed)).family == "wan2.1-t2v"
    finally:
        os.rename(renamed, found.path)


def test_models_command(tiny_models, tmp_path):
    listed = json.loads(wan("models", "--models", tiny_models, "--json").stdout)
    from wan.testing.tiny_models import TINY_MODELS

    assert sorted(m["name"] for m in listed["models"]) == sorted(TINY_MODELS)
    empty = wan("models", "--models", tmp_path / "none")
    assert (
        empty.returncode == 0 and "no WAN models" in empty.stdout and "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in empty.stdout
    )


def test_missing_or_wrong_family_model_is_a_typed_error(tiny_models, tmp_path):
    only_t2v = tmp_path / "models"
    only_t2v.mkdir()
    os.symlink(tiny_models / "wan2.1-t2v-tiny", only_t2v / "some-folder")
    with pytest.raises(ModelNotFoundError) as info:
        find_model(str(only_t2v), "wan2.1-i2v-14b-480p")
    assert "wan2.1-t2v-tiny" in str(info.value) and str(only_t2v) in str(info.value)
    assert "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers" in str(info.value)
    assert find_model(str(tiny_models), "wan2.1-i2v-14b-720p").family == "wan2.1-i2v"


def pipeline_calls(monkeypatch) -> list[dict]:
    """Records what reaches the diffusers pipeline, clip by clip (images as arrays, the VACE mask
    as "known" flags): the engine itself keeps no copy of a render's frames."""
    seen: list[dict] = []
    real = WanEngine._call_with_recovery

    def recording(self, clip, kwargs):
        call = {"clip": clip.index, **{k: v for k, v in kwargs.items() if k not in ("video", "mask")}}
        for key in ("image", "last_image"):
            if key in kwargs:
                call[key] = np.asarray(kwargs[key])
        if "video" in kwargs:
            call["mask"] = [np.asarray(m).max() == 0 for m in kwargs["mask"]]
            call["known"] = [np.asarray(f) for f, k in zip(kwargs["video"], call["mask"]) if k]
        if "reference_images" in kwargs:
            call["reference"] = np.asarray(kwargs["reference_images"][0])
        seen.append(call)
        return real(self, clip, kwargs)

    monkeypatch.setattr(WanEngine, "_call_with_recovery", recording)
    return seen


def tiny_plan(seed: int = 5, frames: int = 24):
    settings = load_settings(EXAMPLES / "harbor_3d.txt")
    # No carried frames: the pinned slice below is clip 0 of this layout.
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, seed=seed, max_clip_frames=17, overlap=0))
    return plan


def test_same_seed_same_frames_other_seed_different(tiny_models):
    plan = tiny_plan()
    clip = plan.clips[0]
    first = WanEngine(plan, str(tiny_models), log=lambda m: None).render_clip(clip)
    again = WanEngine(plan, str(tiny_models), log=lambda m: None).render_clip(clip)
    assert len(first) == clip.num_frames and first[0].shape == (48, 64, 3) and first[0].dtype == np.uint8
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    other = WanEngine(tiny_plan(seed=6), str(tiny_models), log=lambda m: None).render_clip(tiny_plan(seed=6).clips[0])
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_unknown_memory_profile_is_refused(tiny_models):
    plan = tiny_plan()
    with pytest.raises(EngineError, match="unknown memory profile 'turbo'"):
        WanEngine(plan, str(tiny_models), profile="turbo")


def test_render_with_the_wan_engine_end_to_end(tiny_models, tmp_path):
    args = ["render", EXAMPLES / "harbor_3d.txt", "--engine", "wan", "--models", tiny_models, "--width", "64",
            "--height", "48", "--steps", "2", "--seed", "3", "--preset", "ultrafast"]  # fmt: skip
    first = wan(*args, "--out", tmp_path / "a")
    assert first.returncode == 0, first.stderr
    info = probe(str(tmp_path / "a" / "harbor_3d.mp4"))
    assert (info.frames, info.fps, info.width, info.height) == (240, 24.0, 64, 48)
    assert info.seconds == pytest.approx(10.0, abs=0.05)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    # The tiny VACE model serves a guided mode: the 3D camera reaches it as a guide, with the tiny depth model.
    plan = json.loads((tmp_path / "a" / "plan.json").read_text())
    assert plan["mode"] == "vace_guide" and manifest["model_path"].endswith("wan2.1-vace-tiny")
    assert manifest["engine"] == "wan" and manifest["depth"].endswith("depth-anything-tiny")
    assert manifest["status"] == "done" and [c["index"] for c in manifest["clips"]] == list(range(len(plan["clips"])))
    assert manifest["adherence"]["guide"]["clips"] == len(plan["clips"]) and manifest["guide_seams"]["boundaries"]
    assert all(c["inputs"]["conditioning_scale"] > 0 for c in manifest["clips"])
    assert manifest["profile"] == "cpu" and "no GPU" in manifest["profile_reason"]
    for entry in manifest["clips"]:
        clip_info = probe(str(tmp_path / "a" / entry["file"]))
        assert clip_info.frames == entry["frames"] and clip_info.fps == 16.0
        assert entry["seed"] >= 0 and entry["seconds"] > 0
    second = wan(*args, "--out", tmp_path / "b")
    assert second.returncode == 0, second.stderr
    a, b = read_frames(str(tmp_path / "a" / "harbor_3d.mp4"))[0], read_frames(str(tmp_path / "b" / "harbor_3d.mp4"))[0]
    assert len(a) == len(b) == 240 and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_wan_engine_without_models_is_one_line(tmp_path):
    result = wan("render", EXAMPLES / "harbor_3d.txt", "--engine", "wan", "--models", tmp_path, "--out", tmp_path / "o")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "no folder for wan2.1-t2v-1.3b" in result.stderr


def i2v_setup(tmp_path, init: bool = True):
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (220, 40, 40)
    image[:, 32:] = (40, 40, 220)
    cv2.imwrite(str(tmp_path / "init.png"), image[..., ::-1])
    data = json.loads((EXAMPLES / "harbor_3d.txt").read_text())
    data.update(use_init=init, init_image="init.png")
    (tmp_path / "settings.txt").write_text(json.dumps(data))
    settings = load_settings(tmp_path / "settings.txt")
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, seed=9, max_clip_frames=17, mode="i2v_chain"))
    return image, settings, plan


def test_carried_frame_is_the_one_just_before_the_clip():
    from wan.engine.wan_engine import carried_frame_index
    from wan.plan.build import Clip

    previous = Clip(0, 0, 120, 81, 0, "a", "", "", 0.0, 1, 0.5)
    clip = Clip(1, 120, 240, 81, 1, "b", "", "", 0.0, 2, 0.5)
    # 120 output frames at 24 fps = 5 s = model frame 80 at 16 fps; one model frame earlier is 79.
    assert carried_frame_index(previous, clip, 24, 16) == 79


def test_i2v_chain_hands_each_clip_the_previous_clips_frame(tiny_models, tmp_path, monkeypatch):
    image, settings, plan = i2v_setup(tmp_path)
    engine = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None)
    assert engine.model.family == "wan2.1-i2v"
    calls = pipeline_calls(monkeypatch)
    first = engine.render_clip(plan.clips[0])
    second = engine.render_clip(plan.clips[1])
    assert len(second) == plan.clips[1].num_frames
    assert np.array_equal(calls[0]["image"], image)  # the init image, already frame-sized
    from wan.engine.wan_engine import carried_frame_index

    k = carried_frame_index(plan.clips[0], plan.clips[1], plan.fps_out, plan.fps_model)
    assert np.array_equal(calls[1]["image"], first[k])  # the frame's own pixels, never re-read from a lossy file
    assert calls[0]["negative_prompt"].endswith(CAMERA_SHAKE + WAN_NEGATIVE)  # Wan 2.1 I2V's default


def test_i2v_chain_without_init_image_is_refused(tiny_models, tmp_path):
    _, settings, plan = i2v_setup(tmp_path, init=False)
    with pytest.raises(EngineError, match="init image"):
        WanEngine(plan, str(tiny_models), read_assets(plan, settings))


def test_vace_continuation_knows_the_previous_tail(tiny_models, tmp_path, monkeypatch):
    image, settings, _ = i2v_setup(tmp_path)
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, seed=4, mode="vace_continue", overlap=4,
                                            continuity=continuity_from("off")))  # exact carried frames: no colour pull
    engine = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None)
    assert engine.model.family == "wan2.1-vace"
    calls = pipeline_calls(monkeypatch)
    first = engine.render_clip(plan.clips[0])
    engine.render_clip(plan.clips[1])
    # Clip 0 starts from the init image as a known frame; clip 1 knows clip 0's last 4 frames (mask 0).
    assert len(calls[0]["known"]) == 1 and np.array_equal(calls[0]["known"][0], image)
    from wan.engine.wan_engine import carried_frame_indices

    indices = carried_frame_indices(plan.clips[0], plan.clips[1], plan.fps_out, plan.fps_model, 4)
    assert indices == list(range(indices[0], indices[0] + 4))
    assert all(np.array_equal(a, first[k]) for a, k in zip(calls[1]["known"], indices))
    assert calls[1]["mask"] == [True] * 4 + [False] * (plan.clips[1].num_frames - 4)
    # The init image is every clip's reference image.
    assert all(np.array_equal(call["reference"], image) for call in calls)


def test_cancel_keeps_finished_clips_and_says_where_it_stopped(tiny_models, tmp_path):
    import threading

    from wan.render.errors import RenderCancelled
    from wan.render.request import RenderOptions
    from wan.render.runner import render

    plan = tiny_plan()
    cancel = threading.Event()
    steps: list[dict] = []

    def progress(event: dict) -> None:
        steps.append(event)
        if event["clip"] == 1:
            cancel.set()  # the user presses Cancel while clip 1 renders

    out = tmp_path / "out"
    options = RenderOptions(engine="wan", preset="ultrafast", models_dir=str(tiny_models))
    with pytest.raises(RenderCancelled):
        render(plan, str(out), options, log=lambda m: None, cancel=cancel, progress=progress)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "cancelled" and manifest["stopped_at_clip"] == 1
    assert [c["index"] for c in manifest["clips"]] == [0]
    assert probe(str(out / manifest["clips"][0]["file"])).frames == plan.clips[0].num_frames
    assert not (out / f"{plan.name}.mp4").exists() and not list(out.glob("*.partial*"))
    assert {"clip", "clips", "step", "steps", "eta"} <= set(steps[0]) and steps[0]["steps"] == plan.steps
    done = [e for e in steps if e["event"] == "clip_done"]
    assert [e["clip"] for e in done] == [0] and done[0]["file"].endswith("clip_000.mp4")


@pytest.mark.parametrize(
    ("model", "mode", "fps_model"),
    [
        ("wan2.1-t2v-1.3b", "t2v", 16),
        ("wan2.1-i2v-14b-480p", "i2v_chain", 16),
        ("wan2.1-vace-1.3b", "vace_continue", 16),
        ("wan2.2-ti2v-5b", "t2v", 24),
        ("wan2.2-ti2v-5b", "i2v_chain", 24),
        ("wan2.2-t2v-a14b", "t2v", 16),
        ("wan2.2-i2v-a14b", "i2v_chain", 16),
    ],
)
def test_every_family_renders_end_to_end(tiny_models, tmp_path, model, mode, fps_model):
    _, _, _ = i2v_setup(tmp_path)
    data = json.loads((tmp_path / "settings.txt").read_text())
    data.update(max_frames=30, fps=15, prompts={"0": "a red door", "15": "a blue door"})
    (tmp_path / "short.txt").write_text(json.dumps(data))
    out = tmp_path / "out"
    result = wan("render", tmp_path / "short.txt", "--engine", "wan", "--models", tiny_models, "--model", model,
                 "--mode", mode, "--width", "64", "--height", "64", "--steps", "2", "--out", out, "--preset", "ultrafast")  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = probe(str(out / "short.mp4"))
    assert (info.frames, info.fps, info.width, info.height) == (30, 15.0, 64, 64)
    assert info.seconds == pytest.approx(2.0, abs=0.05)
    manifest = json.loads((out / "manifest.json").read_text())
    plan = json.loads((out / "plan.json").read_text())
    assert manifest["status"] == "done" and plan["fps_model"] == fps_model
    assert [c["frames"] for c in manifest["clips"]] == [c["num_frames"] for c in plan["clips"]]


def test_two_experts_get_both_guidance_scales(tiny_models, monkeypatch):
    settings = load_settings(EXAMPLES / "harbor_3d.txt")
    plan = build_plan(settings, PlanOptions(model="wan2.2-t2v-a14b", width=64, height=48, steps=4, seed=1))
    engine = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None)
    assert engine.model.family == "wan2.2-t2v-a14b"
    calls = pipeline_calls(monkeypatch)
    engine.render_clip(plan.clips[0])
    assert calls[0]["guidance_scale_2"] == plan.guidance_2 == 3.0


def test_download_says_clearly_when_offline(tmp_path):
    # Tests never touch the network: HF_HUB_OFFLINE=1 is set for every wan() call.
    result = wan("models", "download", "wan2.1-t2v-1.3b", "--models", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "HF_HUB_OFFLINE" in result.stderr and str(tmp_path / "wan2.1-t2v-1.3b") in result.stderr


def test_one_set_of_weights_serves_text_and_image_to_video(tiny_models, tmp_path):
    _, settings, _ = i2v_setup(tmp_path)
    plan = build_plan(
        settings, PlanOptions(model="wan2.2-ti2v-5b", mode="i2v_chain", width=64, height=64, steps=2, seed=1)
    )
    engine = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None)
    assert engine.model.pipeline == "WanPipeline"  # what the folder says
    engine.render_clip(plan.clips[0])
    assert engine.pipeline_class == "WanImageToVideoPipeline" and engine.pipe.config["expand_timesteps"]


def test_flf2v_flies_from_keyframe_to_keyframe(tiny_models, tmp_path, monkeypatch):
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
    for i, colour in enumerate(colours):
        cv2.imwrite(str(tmp_path / f"k{i}.png"), np.full((48, 64, 3), colour[::-1], np.uint8))
    data = json.loads((EXAMPLES / "harbor_3d.txt").read_text())
    data.update(
        use_looper=True, init_images=json.dumps({"0": "k0.png", "100": "k1.png", "200": "k2.png", "max_f": "k0.png"})
    )
    (tmp_path / "flf.txt").write_text(json.dumps(data))
    settings = load_settings(tmp_path / "flf.txt")
    plan = build_plan(settings, PlanOptions(mode="flf2v_keyframes", width=64, height=48, steps=2, seed=2))
    engine = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None)
    assert engine.model.family == "wan2.1-flf2v"
    calls = pipeline_calls(monkeypatch)
    for clip in plan.clips[:2]:
        assert len(engine.render_clip(clip)) == clip.num_frames
    first, second = calls
    assert tuple(first["image"][0, 0]) == colours[0] and tuple(first["last_image"][0, 0]) == colours[1]
    assert tuple(second["image"][0, 0]) == colours[1] and tuple(second["last_image"][0, 0]) == colours[2]
    assert first["negative_prompt"].endswith(SHOT_CHANGE + CAMERA_SHAKE + WAN_NEGATIVE)


def test_the_plans_shift_reaches_the_scheduler(tiny_models):
    settings = load_settings(EXAMPLES / "harbor_3d.txt")
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, seed=1, shift=7.5))
    engine = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None)
    engine.render_clip(plan.clips[0])
    assert engine.pipe.scheduler.config.flow_shift == 7.5
    default = build_plan(settings, PlanOptions(width=64, height=48, steps=2, seed=1))
    again = WanEngine(default, str(tiny_models), read_assets(default, settings), log=lambda m: None)
    again._load()
    assert again.pipe.scheduler.config.flow_shift == default.shift == 5.0  # Wan2.1 generate.py's default


def test_the_users_negative_goes_on_top_of_wans_default(tiny_models, write_settings, monkeypatch):
    data = json.loads((EXAMPLES / "greenhouse_2d.txt").read_text())
    data["animation_prompts_negative"] = "blurry, watermark"
    settings = load_settings(write_settings(data))
    plan = build_plan(settings, PlanOptions(width=64, height=48, steps=2, seed=1))
    engine = WanEngine(plan, str(tiny_models), log=lambda m: None)
    calls = pipeline_calls(monkeypatch)
    engine.render_clip(plan.clips[0])
    assert plan.clips[0].negative_prompt == "blurry, watermark"
    assert calls[0]["negative_prompt"] == "blurry, watermark，" + WAN_NEGATIVE  # T2V: no prefix


def test_out_of_memory_mid_denoising_frees_reloads_and_gives_the_same_frames(tiny_models, monkeypatch):
    """The fault strikes inside the transformer's first call (after the noise was drawn), as a
    real one does. The retry must not hold the failed pipeline while it reloads, and must render
    what a clean run renders (the same noise)."""
    import gc
    import weakref

    from wan.engine import faults, wan_engine
    from wan.models.loading import PipelineCache

    plan = tiny_plan()
    clip = plan.clips[0]
    clean = WanEngine(plan, str(tiny_models), log=lambda m: None, cache=PipelineCache()).render_clip(clip)
    monkeypatch.setenv("WAN_WEAVE_FAULT", f"oom@{clip.index}")
    monkeypatch.setattr(faults, "_fired", set())
    engine = WanEngine(plan, str(tiny_models), log=lambda m: None, cache=PipelineCache())
    engine._load()
    failed = weakref.ref(engine.pipe)
    alive_at_reload = []
    real_load = wan_engine.load_pipeline

    def load_after_checking(*args, **kwargs):
        gc.collect()
        alive_at_reload.append(failed() is not None)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(wan_engine, "load_pipeline", load_after_checking)
    recovered = engine.render_clip(clip)
    assert alive_at_reload == [False]  # freed before the weights were read again
    assert len(engine.attempts[clip.index]) == 1 and "injected" in engine.attempts[clip.index][0]["error"]
    assert all(np.array_equal(a, b) for a, b in zip(recovered, clean))


def test_the_low_profile_streams_the_encoders_too(tiny_models):
    """`low`'s estimate leaves the ~11 GB UMT5 encoder out: the placement must really offload it.
    Group offloading runs on the CPU as well (onload = the CPU here, the GPU on a user's card)."""
    import torch
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    from wan.engine.wan_engine import _place

    plan = tiny_plan()
    engine = WanEngine(plan, str(tiny_models), log=lambda m: None)
    clean = engine.render_clip(plan.clips[0])
    pipe = engine.pipe
    _place(pipe, torch, "low", True, onload="cpu")
    assert _is_group_offload_enabled(pipe.transformer) and _is_group_offload_enabled(pipe.text_encoder)
    assert not _is_group_offload_enabled(pipe.vae) and pipe.vae.use_tiling
    again = WanEngine(plan, str(tiny_models), log=lambda m: None)
    again.pipe = pipe
    offloaded = again.render_clip(plan.clips[0])
    assert max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(clean, offloaded)) <= 2


# diffusers' own habit (expected_slice): a few pixels of a fixed tiny render, written down once. A
# dependency upgrade that changes what the pipeline computes (the scheduler, the attention, the VAE,
# the negative prompt we send) fails here instead of passing unnoticed. Regenerate them only for a
# change you meant.
EXPECTED_SLICE = [[[139, 136, 136, 136], [139, 137, 137, 137], [139, 137, 137, 137]],
                  [[111, 109, 112, 111], [95, 104, 105, 106], [91, 109, 108, 108]]]  # fmt: skip


def test_a_slice_of_the_tiny_t2v_output_is_pinned(tiny_models):
    plan = tiny_plan()
    frames = WanEngine(plan, str(tiny_models), log=lambda m: None).render_clip(plan.clips[0])
    got = np.array([frames[0][::16, ::16, 0], frames[-1][::16, ::16, 1]]).astype(int)
    assert np.abs(got - np.array(EXPECTED_SLICE)).max() <= 3, got.tolist()
