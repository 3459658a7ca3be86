"""FLF2V keyframes land on their exact time at any film rate: each clip's last model frame is the
next keyframe, its frames spread at a rate within two frames of the model's own."""

from __future__ import annotations

import json

import pytest

from movement import settings_from_mapping
from wan.plan.build import PlanOptions, build_plan, clip_fps
from wan.plan.plan_json import plan_from_dict, plan_to_json
from wan.plan.timeline import source_indices


def keyframed(fps: float, keys: list[int], max_frames: int):
    return settings_from_mapping({"max_frames": max_frames, "fps": fps, "seed": 1, "prompts": {"0": "a harbour"},
                                  "use_looper": True, "init_images": {str(k): f"k{k}.png" for k in keys}})  # fmt: skip


@pytest.mark.parametrize("fps", [23.976, 24, 25, 30, 60])
@pytest.mark.parametrize("gap_s", [50 / 24, 1.3, 3.1])
def test_every_keyframe_lands_on_its_time(fps, gap_s):
    gap = max(2, round(gap_s * fps))
    keys = [0, gap, 2 * gap + 1]
    plan = build_plan(keyframed(fps, keys, keys[-1] + 1), PlanOptions(mode="flf2v_keyframes"))
    assert [c.start_frame for c in plan.clips] == keys[:-1]
    for clip, key_at in zip(plan.clips, keys[1:]):
        rate = clip_fps(plan, clip)
        n = clip.num_frames
        assert (n - 1) % 4 == 0 and n <= plan.max_clip_frames
        # The last model frame shows the keyframe's own moment, to the floating-point digit.
        assert (n - 1) / rate == pytest.approx((key_at - clip.start_frame) / fps, abs=1e-9)
        # ... at a rate within two model frames of the model's 16 fps over the clip.
        assert abs(rate - plan.fps_model) * (key_at - clip.start_frame) / fps <= 2 + 1e-9
        shown = source_indices(clip.start_frame, clip.end_frame, fps, rate, 0)
        assert shown[0] == 0 and max(shown) <= n - 1
    last = plan.clips[-1]
    assert source_indices(last.start_frame, last.end_frame, fps, clip_fps(plan, last), 0)[-1] == last.num_frames - 1


def test_the_clip_rate_survives_plan_json():
    plan = build_plan(keyframed(24, [0, 50, 99], 100), PlanOptions(mode="flf2v_keyframes"))
    assert plan.clips[0].model_fps is not None
    again = plan_from_dict(json.loads(plan_to_json(plan)))
    assert [c.model_fps for c in again.clips] == [c.model_fps for c in plan.clips]
    # Plans written before the field existed read as the plan's rate.
    plain = build_plan(keyframed(24, [0, 50, 99], 100), PlanOptions(mode="t2v"))
    data = json.loads(plan_to_json(plain))
    for c in data["clips"]:
        c.pop("model_fps")
    old = plan_from_dict(data)
    assert all(c.model_fps is None for c in old.clips) and clip_fps(old, old.clips[0]) == old.fps_model
