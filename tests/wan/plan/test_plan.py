from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movement import load_settings, settings_from_mapping
from tests.conftest import EXAMPLES
from wan.plan.build import PlanOptions, build_plan
from wan.plan.errors import PlanError
from wan.plan.plan_json import plan_from_dict, plan_to_dict, plan_to_json
from wan.plan.registry import MODELS, get_model
from wan.plan.seeds import clip_seeds
from wan.plan.timeline import frames_4n1, model_index, source_indices


def make_settings(max_frames=240, fps=24, prompts=None, **extra):
    data = {
        "max_frames": max_frames,
        "fps": fps,
        "animation_mode": "3D",
        "W": 832,
        "H": 480,
        "seed": 7,
        "prompts": prompts or {"0": "a harbour"},
        "translation_z": "0: (1)",
        **extra,
    }
    return settings_from_mapping(data, source="/x/film_settings.txt")


@st.composite
def timelines(draw):
    fps = draw(st.sampled_from([8, 12, 15, 23.976, 24, 25, 29.97, 30, 48, 50, 60]) | st.integers(8, 60))
    max_frames = draw(st.integers(1, 10_000))
    keys = draw(st.lists(st.integers(1, max(1, max_frames - 1)), max_size=12, unique=True))
    prompts = {"0": "start", **{str(k): f"prompt {k}" for k in keys if k < max_frames}}
    model = draw(st.sampled_from(["wan2.1-t2v-1.3b", "wan2.2-ti2v-5b", "wan2.1-vace-1.3b"]))
    spec = get_model(model)
    limit = draw(st.sampled_from([f for f in (17, 33, 49, 81, 121) if f <= spec.max_frames]))
    overlap = draw(st.integers(0, min(8, limit - 5)))
    return fps, max_frames, prompts, model, limit, overlap


@settings(max_examples=120, deadline=None)
@given(timelines())
def test_clips_cover_the_timeline_exactly(case):
    fps, max_frames, prompts, model, limit, overlap = case
    plan = build_plan(
        make_settings(max_frames, fps, prompts),
        PlanOptions(model=model, max_clip_frames=limit, overlap=overlap),
    )
    clips = plan.clips
    # Contiguous and covering: exactly max_frames output frames.
    assert clips[0].start_frame == 0 and clips[-1].end_frame == max_frames
    assert all(a.end_frame == b.start_frame for a, b in zip(clips, clips[1:]))
    # Each prompt starts exactly at its own output frame.
    starts = {c.start_frame for c in clips}
    assert {int(k) for k in prompts} <= starts
    for c in clips:
        assert ((c.num_frames - 1) % 4 == 0 and 5 <= c.num_frames <= limit) or c.num_frames == 1
        assert c.num_frames <= limit
        assert c.overlap == (overlap if c.index else 0)
        # The model frames cover the clip's time: every output frame has a source frame...
        sources = source_indices(c.start_frame, c.end_frame, plan.fps_out, plan.fps_model, c.overlap)
        assert len(sources) == c.end_frame - c.start_frame
        assert sources[0] == c.overlap and max(sources) < c.num_frames
        # ...no more than one 4-frame latent group is wasted (round up, then trim)...
        assert c.num_frames == frames_4n1(max(sources) + 1)
        # ...and the source frame is the nearest in time (no drift, whatever the clip index).
        for offset, k in enumerate(sources):
            assert abs((k - c.overlap) / plan.fps_model - offset / plan.fps_out) <= 0.5 / plan.fps_model + 1e-9


@settings(max_examples=60, deadline=None)
@given(timelines())
def test_plan_json_round_trips(case):
    fps, max_frames, prompts, model, limit, overlap = case
    plan = build_plan(
        make_settings(max_frames, fps, prompts), PlanOptions(model=model, max_clip_frames=limit, overlap=overlap)
    )
    assert plan_from_dict(json.loads(plan_to_json(plan))) == plan


def test_defaults():
    plan = build_plan(make_settings())
    assert (plan.mode, plan.model, plan.fps_model, plan.fps_out) == ("t2v", "wan2.1-t2v-1.3b", 16, 24.0)
    assert (plan.width, plan.height, plan.steps) == (832, 480, 50)
    with_init = make_settings(use_init=True, init_image="start.png")
    plan = build_plan(with_init)
    assert (plan.mode, plan.model, plan.overlap) == ("i2v_chain", "wan2.1-i2v-14b-480p", 1)


def test_five_second_prompt_at_24fps_is_81_model_frames():
    plan = build_plan(make_settings(240, 24, {"0": "a", "120": "b"}), PlanOptions(mode="t2v", overlap=0))
    assert [(c.start_frame, c.end_frame, c.num_frames) for c in plan.clips] == [(0, 120, 81), (120, 240, 81)]
    # Carrying 5 frames leaves 76 new ones per clip: each 5 s prompt takes two clips.
    carried = build_plan(make_settings(240, 24, {"0": "a", "120": "b"}), PlanOptions(mode="t2v"))
    assert [c.overlap for c in carried.clips] == [0, 5, 5, 5] and carried.clips[2].start_frame == 120


def test_long_spans_split_evenly_within_the_limit():
    plan = build_plan(make_settings(600, 24, {"0": "a"}))
    lengths = [c.end_frame - c.start_frame for c in plan.clips]
    assert sum(lengths) == 600 and max(lengths) - min(lengths) <= 1
    assert all(c.num_frames <= 81 for c in plan.clips)


def test_per_clip_prompt_movement_strength_seed():
    s = make_settings(
        120,
        24,
        {"0": "calm sea --neg fog", "60": "storm"},
        strength_schedule="0: (0.7), 60: (0.4)",
        seed_behavior="fixed",
        rotation_3d_y="0: (0), 59: (0), 60: (1)",
        animation_prompts_positive="",
        animation_prompts_negative="",
    )
    first, second = build_plan(s).clips
    assert (first.prompt, first.negative_prompt, second.prompt) == ("calm sea", "fog", "storm")
    assert (first.strength, second.strength) == (0.7, 0.4)
    assert first.seed == second.seed == 7
    assert "dolly in" in first.movement and "pan right" in second.movement
    assert 0 < first.motion_strength < second.motion_strength <= 1


@pytest.mark.parametrize(
    ("behavior", "iter_n", "expected"),
    [
        ("iter", 1, [10, 11, 12, 13, 14]),
        ("iter", 2, [10, 11, 11, 12, 12]),  # Deforum's count: the first seed lasts one step
        ("fixed", 1, [10] * 5),
        ("ladder", 1, [10, 12, 11, 13, 12]),
        ("alternate", 1, [10, 11, 10, 11, 10]),
    ],
)
def test_seed_behaviours(behavior, iter_n, expected):
    assert list(clip_seeds(behavior, 10, 5, iter_n=iter_n)) == expected


def test_random_and_schedule_seeds():
    a = clip_seeds("random", 10, 4)
    assert a == clip_seeds("random", 10, 4) and len(set(a)) == 4 and a[0] == 10
    assert clip_seeds("schedule", 0, 3, start_frames=[0, 5, 9], schedule=[100 + i for i in range(10)]) == (
        100,
        105,
        109,
    )
    s = make_settings(100, 10, {"0": "a", "50": "b"}, seed_behavior="schedule", seed_schedule="0: (5), 50: (99)")
    assert [c.seed for c in build_plan(s, PlanOptions(mode="t2v", overlap=0)).clips] == [5, 99]


def test_size_policy_keeps_aspect_at_native_area():
    s = settings_from_mapping({"max_frames": 10, "W": 512, "H": 512, "prompts": {"0": "a"}})
    plan = build_plan(s, PlanOptions(seed=1))
    assert plan.width % 16 == 0 and plan.height % 16 == 0 and plan.width == plan.height
    assert plan.width * plan.height <= 832 * 480 and plan.notes
    plan = build_plan(s, PlanOptions(seed=1, model="wan2.2-ti2v-5b"))
    assert plan.width % 32 == 0 and plan.height % 32 == 0


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (PlanOptions(model="wan9"), "unknown model"),
        (PlanOptions(mode="t2v", model="wan2.1-i2v-14b-480p"), "cannot render mode"),
        (PlanOptions(width=833, height=480), "multiple of 16"),
        (PlanOptions(width=1280, height=720), "too large"),
        (PlanOptions(width=832), "both --width and --height"),
        (PlanOptions(max_clip_frames=80), "4n+1"),
        (PlanOptions(max_clip_frames=121), "4n+1 between 5 and 81"),
        (PlanOptions(overlap=80), "overlap"),
        (PlanOptions(steps=0), "steps"),
    ],
)
def test_impossible_options_say_what_to_change(options, fragment):
    with pytest.raises(PlanError, match=re.escape(fragment)):
        build_plan(make_settings(), options)


def test_seed_minus_one_needs_a_drawn_seed():
    with pytest.raises(PlanError, match="seed"):
        build_plan(make_settings(seed=-1))


def test_edited_plan_renders_the_edit_and_broken_edits_are_refused():
    plan = build_plan(make_settings(240, 24, {"0": "a", "120": "b"}))
    data = plan_to_dict(plan)
    data["clips"][1]["user_prompt"] = "my own words"
    edited = plan_from_dict(data)
    assert edited.clips[1].effective_prompt == "my own words"
    broken = plan_to_dict(plan)
    broken["clips"][1]["start_frame"] = 100
    with pytest.raises(PlanError, match="clip 1"):
        plan_from_dict(broken)
    broken = plan_to_dict(plan)
    broken["clips"][0]["num_frames"] = 80
    with pytest.raises(PlanError, match="4n\\+1"):
        plan_from_dict(broken)
    broken = plan_to_dict(plan)
    broken["clips"][0]["seed"] = "7"
    with pytest.raises(PlanError, match="'seed' must be int"):
        plan_from_dict(broken)


def test_registry_facts_are_consistent():
    for m in MODELS:
        assert (m.max_frames - 1) % 4 == 0
        assert m.native_size[0] % m.size_multiple == 0 and m.native_size[1] % m.size_multiple == 0
        assert m.native_area <= m.max_area


def test_model_index_rounds_to_nearest():
    assert [model_index(o, 24, 16) for o in range(4)] == [0, 1, 1, 2]


def guided(max_frames=240, images=None, **extra):
    images = images if images is not None else {"0": "a.png", "100": "b.png", "200": "c.png", "max_f": "d.png"}
    return make_settings(
        max_frames, 24, {"0": "a", "96": "b"}, use_looper=True, init_images=json.dumps(images), **extra
    )


def test_flf2v_clips_run_between_keyframe_images():
    plan = build_plan(guided(), PlanOptions(mode="flf2v_keyframes"))
    assert plan.model == "wan2.1-flf2v-14b-720p"
    assert [(c.start_frame, c.end_frame, c.overlap) for c in plan.clips] == [(0, 100, 0), (100, 200, 0), (200, 240, 0)]
    assert any("96" in n for n in plan.notes)  # the prompt key inside a clip is said, not hidden


@pytest.mark.parametrize(
    ("images", "fragment"),
    [
        ({}, "needs keyframe images"),
        ({"0": "a.png", "100": "b.png"}, "at the last frame"),
        ({"0": "a.png", "max_f": "b.png"}, "apart"),
    ],
)
def test_flf2v_without_usable_keyframes_says_what_to_add(images, fragment):
    with pytest.raises(PlanError, match=fragment):
        build_plan(guided(images=images), PlanOptions(mode="flf2v_keyframes"))


def test_the_flf2v_checkpoint_is_not_offered_for_i2v_chain():
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    with pytest.raises(PlanError, match="i2v_chain"):
        build_plan(settings, PlanOptions(model="wan2.1-flf2v-14b-720p", mode="i2v_chain"))


def test_a_tiny_folder_name_as_the_model_says_which_model_to_plan_with():
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    with pytest.raises(PlanError, match="test folder") as info:
        build_plan(settings, PlanOptions(model="wan2.1-t2v-tiny"))
    assert "plan with wan2.1-t2v-1.3b or wan2.1-t2v-14b" in info.value.one_line()
