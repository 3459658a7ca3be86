"""The plan's post block: parsed from --post, checked, carried losslessly through plan.json."""

from __future__ import annotations

import dataclasses
import json

import pytest

from movement import load_settings
from tests.conftest import EXAMPLES
from wan.plan.build import PlanOptions, build_plan
from wan.plan.errors import PlanError
from wan.plan.plan_json import plan_from_dict, plan_to_dict, plan_to_json
from wan.plan.post import Post, parse_post, post_text


def test_parse_post_reads_every_key_and_round_trips():
    post = parse_post("interpolate=blend, upscale=x2.pth,contrast=1.2,saturation=0.9,brightness=-0.05,sharpen=0.4")
    assert post == Post("blend", "x2.pth", 1.2, 0.9, -0.05, 0.4)
    assert parse_post(post_text(post)) == post
    assert parse_post("upscale=none", base=post).upscale is None and parse_post("", base=post) == post


@pytest.mark.parametrize(
    "text, words",
    [("interpolate=rife", "interpolate must be one of"), ("contrast=9", "contrast must be in 0..4"),
     ("sharpen=lots", "sharpen must be a number"), ("upscael=x2.pth", "known key"), ("opencv", "key=value"),
     # a name under <models>/upscale, never a path (plans come from REST clients too)
     ("upscale=/etc/shadow", "file name under"), ("upscale=../../x.pth", "file name under"),
     ("upscale=..\\x.pth", "file name under")],
)  # fmt: skip
def test_bad_post_is_a_plan_error_naming_the_flag(text, words):
    with pytest.raises(PlanError) as info:
        parse_post(text)
    assert words in str(info.value) and "--post" in info.value.one_line()


def test_the_post_block_survives_plan_json_and_old_plans_default_to_opencv():
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    post = Post("blend", "tiny-esrgan-x2.safetensors", sharpen=0.5)
    plan = build_plan(settings, PlanOptions(post=post, width=64, height=48))
    assert plan.post == post and plan_from_dict(json.loads(plan_to_json(plan))) == plan
    old = plan_to_dict(plan)
    del old["post"]  # a plan.json written before the post block
    assert plan_from_dict(old).post == Post() and Post().interpolate == "opencv"
    broken = {**plan_to_dict(plan), "post": {**dataclasses.asdict(post), "saturation": 7}}
    with pytest.raises(PlanError, match="post: saturation"):
        plan_from_dict(broken)
    with pytest.raises(PlanError, match="post: unknown key"):
        plan_from_dict({**plan_to_dict(plan), "post": {"fps": 60}})
