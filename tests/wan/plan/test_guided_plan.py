"""The plan picks a guided mode when the camera can reach the model, carries 4n+1 frames, and
starts a fresh chain at a cut."""

from __future__ import annotations

import pytest

from movement import settings_from_mapping
from wan.plan.build import PlanOptions, build_plan
from wan.plan.continuity import continuity_from


def settings(mode: str = "2D", **extra):
    return settings_from_mapping({"max_frames": 120, "fps": 24, "animation_mode": mode, "seed": 3,
                                  "prompts": {"0": "a harbour", "60": "a storm"}, **extra})  # fmt: skip


@pytest.mark.parametrize(
    ("available", "mode", "model"),
    [
        (("wan2.1-vace-1.3b", "wan2.1-t2v-1.3b"), "vace_guide", "wan2.1-vace-1.3b"),
        (("wan2.1-t2v-1.3b",), "v2v_guide", "wan2.1-t2v-1.3b"),
        (("wan2.1-t2v-14b",), "v2v_guide", "wan2.1-t2v-14b"),
        (("wan2.1-i2v-14b-480p",), "t2v", "wan2.1-t2v-1.3b"),  # nothing there serves a guide
        ((), "t2v", "wan2.1-t2v-1.3b"),
        (None, "t2v", "wan2.1-t2v-1.3b"),  # the folder was not looked at
    ],
)
def test_a_guided_mode_is_the_default_when_a_model_serving_it_is_present(available, mode, model):
    plan = build_plan(settings(), PlanOptions(available=available))
    assert (plan.mode, plan.model) == (mode, model)
    guided_notes = [n for n in plan.notes if "guide video" in n]
    assert bool(guided_notes) == mode.endswith("_guide")
    if guided_notes:
        assert model in guided_notes[0] and "--mode t2v" in guided_notes[0]


def test_a_named_model_that_serves_a_guide_gets_it_and_words_only_stay_available():
    assert build_plan(settings("3D"), PlanOptions(model="wan2.1-t2v-1.3b")).mode == "v2v_guide"
    assert build_plan(settings("3D"), PlanOptions(model="wan2.1-vace-14b")).mode == "vace_guide"
    assert build_plan(settings("3D"), PlanOptions(model="wan2.1-t2v-1.3b", mode="t2v")).mode == "t2v"
    # No camera, no guide: a still or video-input animation is not guided by default.
    assert build_plan(settings("None"), PlanOptions(model="wan2.1-t2v-1.3b")).mode == "t2v"


@pytest.mark.parametrize(("mode", "model", "overlap"), [
    ("t2v", "wan2.1-t2v-1.3b", 5), ("v2v_guide", "wan2.1-t2v-1.3b", 5), ("vace_guide", "wan2.1-vace-1.3b", 5),
    ("vace_continue", "wan2.1-vace-1.3b", 9),
])  # fmt: skip
def test_carried_frames_are_4n_plus_1_and_fill_whole_latents(mode, model, overlap):
    from wan.engine.carry import latent_frames

    plan = build_plan(settings(), PlanOptions(mode=mode, model=model, max_clip_frames=33))
    assert [c.overlap for c in plan.clips] == [0] + [overlap] * (len(plan.clips) - 1)
    assert all((c.num_frames - 1) % 4 == 0 for c in plan.clips)
    assert latent_frames(overlap) * 4 - 3 == overlap  # k latents hold exactly 4k - 3 frames
    # Across the prompt change at 60 the chain continues: the clip at 60 carries frames too.
    assert next(c for c in plan.clips if c.start_frame == 60).overlap == overlap


def test_short_clips_get_a_smaller_default_overlap_not_an_error():
    plan = build_plan(settings(), PlanOptions(mode="t2v", max_clip_frames=9))
    assert {c.overlap for c in plan.clips[1:]} == {1}


def test_a_cut_starts_a_clip_that_carries_nothing():
    plan = build_plan(settings(), PlanOptions(mode="t2v", continuity=continuity_from("standard", cuts=[30])))
    at_cut = next(c for c in plan.clips if c.start_frame == 30)
    assert at_cut.overlap == 0
    assert all(c.overlap == 5 for c in plan.clips if c.start_frame not in (0, 30))
