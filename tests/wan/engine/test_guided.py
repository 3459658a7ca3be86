"""What reaches the pipeline in the guided modes and the latent continuation, on tiny random models:
the camera guide and its mask, Deforum's strength as the pipeline's own knob (and the steps it
runs), and the carried frames' latents re-imposed before every step the model takes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from movement import build_schedules, settings_from_mapping
from movement.camera import CameraPath
from tests.spy import spy
from wan.engine.carry import LatentCarry, encode
from wan.engine.guided import GRAY, v2v_strength, vace_scale
from wan.engine.wan_engine import WanEngine
from wan.media.guide import model_times
from wan.plan.build import PlanOptions, build_plan
from wan.plan.continuity import continuity_from

pytest.importorskip("diffusers")
W, H = 64, 48


def settings(strength: str = "0: (0.65)", **extra):
    return settings_from_mapping({
        "max_frames": 20, "fps": 16, "animation_mode": "2D", "W": W, "H": H, "seed": 5,
        "prompts": {"0": "a lighthouse at night"}, "translation_x": "0: (1.5)", "zoom": "0: (1)",
        "strength_schedule": strength, **extra,
    })  # fmt: skip


def plan_of(s, mode: str, steps: int = 10, **options):
    return build_plan(s, PlanOptions(mode=mode, width=W, height=H, steps=steps, max_clip_frames=13,
                                     continuity=continuity_from("off"), **options))  # fmt: skip


def engine(plan, s, tiny_models):
    return WanEngine(plan, str(tiny_models), settings=s, log=lambda m: None)


def test_vace_guide_hands_the_camera_guide_mask_and_strength_to_the_pipeline(tiny_models, monkeypatch):
    from diffusers import WanVACEPipeline

    s = settings(strength="0: (0.65), 7: (0.3)")
    plan = plan_of(s, "vace_guide", steps=2)
    assert [c.overlap for c in plan.clips] == [0, 5, 5] and all((c.num_frames - 1) % 4 == 0 for c in plan.clips)
    calls = spy(monkeypatch, WanVACEPipeline, "__call__")
    eng = engine(plan, s, tiny_models)
    for clip in plan.clips[:2]:
        eng.render_clip(clip)
    still, first, second = (kwargs for _, kwargs, _ in calls)
    assert still["num_frames"] == 1 and "video" not in still  # no init image: the camera starts from a still
    path = CameraPath(build_schedules(s), W, H)
    clip = plan.clips[1]
    video = [np.asarray(f) for f in second["video"]]
    carried = video[: clip.overlap]
    times = model_times(clip.start_frame, clip.overlap, clip.num_frames, plan.fps_out, plan.fps_model)
    for k in range(clip.overlap, clip.num_frames):
        m = path.matrix_between(times[clip.overlap - 1], times[k])
        moved = cv2.warpPerspective(carried[-1], m, (W, H), borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.warpPerspective(np.ones((H, W), np.uint8), m, (W, H), flags=cv2.INTER_NEAREST) > 0
        np.testing.assert_array_equal(video[k][inside], moved[inside])
        assert (video[k][~inside] == GRAY).all() and (~inside).any()  # the uncovered strip is "no content"
    masks = [np.asarray(m) for m in second["mask"]]
    assert all((m == 0).all() for m in masks[: clip.overlap]) and all((m == 255).all() for m in masks[clip.overlap :])
    # Deforum's strength at each clip's start becomes VACE's conditioning scale.
    assert first["conditioning_scale"] == pytest.approx(vace_scale(0.65)) == pytest.approx(1.0)
    assert second["conditioning_scale"] == pytest.approx(vace_scale(0.3)) == pytest.approx(0.3 / 0.65)
    inputs = eng.report().inputs
    assert inputs[1]["start"] == "carried" and inputs[1]["carried"] == 5 and inputs[1]["latent_frames"] == 2


@pytest.mark.parametrize(("strength", "steps_run"), [(0.3, 7), (0.8, 2)])
def test_v2v_guide_runs_the_share_of_the_schedule_deforums_strength_leaves(tiny_models, strength, steps_run):
    """Deforum keeps `strength` of the warped frame, so video-to-video re-runs 1 - strength of the
    schedule: the number of denoising steps the pipeline actually takes shows it."""
    s = settings(strength=f"0: ({strength})", use_init=False)
    plan = plan_of(s, "v2v_guide")
    eng = engine(plan, s, tiny_models)
    eng.render_clip(plan.clips[0])  # the first clip starts from a still, then follows the guide
    seen = []
    eng.render_clip(plan.clips[1], on_step=lambda clip, step, steps: seen.append((step, steps)))
    assert int(10 * v2v_strength(strength)) == steps_run
    assert seen == [(i + 1, steps_run) for i in range(steps_run)]
    assert eng.report().inputs[1]["pipeline_strength"] == pytest.approx(1 - strength)


def test_carried_latents_are_reimposed_before_each_step_and_reach_the_transformer(tiny_models, monkeypatch):
    s = settings()
    plan = plan_of(s, "t2v")
    clip0, clip1 = plan.clips[:2]
    assert clip1.overlap == 5
    eng = engine(plan, s, tiny_models)
    frames0 = eng.render_clip(clip0)
    carried = eng.carried(clip1)
    injected = []
    real = LatentCarry.__call__

    def recording(self, pipe, step, timestep, callback_kwargs):
        out = real(self, pipe, step, timestep, callback_kwargs)
        injected.append((step, out["latents"][:, :, :2].clone()))  # the pipeline pops it from the dict
        return out

    monkeypatch.setattr(LatentCarry, "__call__", recording)
    seen_inputs = []
    hook = eng.pipe.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: seen_inputs.append(kwargs["hidden_states"][:, :, :2].clone()), with_kwargs=True
    )
    try:
        eng.render_clip(clip1)
    finally:
        hook.remove()
    # The carried frames are the previous clip's own frames at the moments this clip repeats.
    assert all(any((c == f).all() for f in frames0) for c in carried)
    known = encode(eng.pipe, carried)
    assert known.shape[2] == 2  # 5 frames fill two latents exactly
    sigmas = eng.pipe.scheduler.sigmas
    carry_until = 10 - 2
    assert len(injected) == 10
    per_step = len(seen_inputs) // 10  # the transformer runs once per step (twice with guidance)
    for step, latents in injected:
        if step + 1 > carry_until:
            continue
        sigma = float(sigmas[step + 1])
        noise = torch.randn(known.shape, generator=torch.Generator().manual_seed(clip1.seed + 1))
        torch.testing.assert_close(latents, (1 - sigma) * known + sigma * noise, rtol=1e-4, atol=1e-4)
        # ... and the next step's transformer input starts from exactly those latents.
        torch.testing.assert_close(seen_inputs[(step + 1) * per_step].float(), latents.float(), rtol=1e-3, atol=1e-3)
    assert eng.report().inputs[1]["injected_sigmas"] == pytest.approx([float(sigmas[i + 1]) for i in range(carry_until)],
                                                                       abs=1e-4)  # fmt: skip


def test_a_cut_starts_a_fresh_chain(tiny_models):
    s = settings()
    plan = build_plan(s, PlanOptions(mode="t2v", width=W, height=H, steps=2, max_clip_frames=13,
                                     continuity=continuity_from("off", cuts=[10])))  # fmt: skip
    cut = next(c for c in plan.clips if c.start_frame == 10)
    assert cut.overlap == 0
    eng = engine(plan, s, tiny_models)
    for clip in plan.clips:
        eng.render_clip(clip)
        if clip is cut:
            break
    assert eng.carried(cut) == [] and "latent_frames" not in eng.report().inputs[cut.index]


def test_carried_frames_are_pulled_toward_the_anchor_before_they_condition(tiny_models):
    """Drift is corrected before the frames go back into the model, so it cannot compound there."""
    from wan.engine.assets import RenderAssets

    s = settings()
    plan = build_plan(s, PlanOptions(mode="t2v", width=W, height=H, steps=2, max_clip_frames=13))  # standard joins
    anchor = np.full((H, W, 3), 120, np.uint8)
    eng = WanEngine(plan, str(tiny_models), RenderAssets(anchor=anchor), settings=s, log=lambda m: None)
    drifted = [np.clip(np.full((H, W, 3), 120) + np.array([40, 10, -30]), 0, 255).astype(np.uint8) for _ in range(13)]
    eng.continue_from(plan.clips[0], drifted)
    carried = eng.carried(plan.clips[1])
    assert len(carried) == 5
    before = np.abs(drifted[0].astype(int) - anchor).mean()
    after = np.abs(carried[0].astype(int) - anchor).mean()
    assert after < 0.9 * before  # pulled by the standard preset's anchor weight, not left as made


def test_with_a_reference_image_the_carried_latents_skip_vaces_reference_slot(tiny_models, tmp_path, monkeypatch):
    """VACE puts its reference image's latent first and drops it at the end: the carried latents
    belong after it, and the reference slot is the pipeline's own."""
    from wan.engine.assets import read_assets

    image = np.full((H, W, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "init.png"), image)
    s = settings(use_init=True, init_image=str(tmp_path / "init.png"))
    plan = plan_of(s, "vace_guide")
    eng = WanEngine(plan, str(tiny_models), read_assets(plan, s), settings=s, log=lambda m: None)
    eng.render_clip(plan.clips[0])
    seen = []
    real = LatentCarry.__call__

    def recording(self, pipe, step, timestep, callback_kwargs):
        before = callback_kwargs["latents"].clone()
        out = real(self, pipe, step, timestep, callback_kwargs)
        seen.append((step, before, out["latents"].clone(), self))
        return out

    monkeypatch.setattr(LatentCarry, "__call__", recording)
    eng.render_clip(plan.clips[1])
    step, before, after, carry = seen[0]
    assert carry.offset == 1 and carry.known.shape[2] == 2
    torch.testing.assert_close(after[:, :, 0], before[:, :, 0])  # the reference image's slot: untouched
    sigma = float(eng.pipe.scheduler.sigmas[step + 1])
    torch.testing.assert_close(after[:, :, 1:3], (1 - sigma) * carry.known + sigma * carry.noise)
