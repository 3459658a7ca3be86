"""Every file a plan reads is listed, and a path that would leave a job's input folder is named."""

from __future__ import annotations

import dataclasses
import json

import pytest

from movement import settings_from_mapping
from tests.conftest import EXAMPLES
from wan.plan.build import PlanOptions, build_plan
from wan.plan.continuity import continuity_from
from wan.plan.inputs import input_paths, outside_problem


def test_every_path_like_field_is_listed():
    data = json.loads((EXAMPLES / "lighthouse_keyframes.txt").read_text())
    data.update(use_init=True, init_image="start.png", add_soundtrack="File", soundtrack_path="song.mp3")
    settings = settings_from_mapping(data, source="/root/inputs/job.txt")
    plan = build_plan(settings, PlanOptions(width=64, height=48, mode="flf2v_keyframes"))
    plan = dataclasses.replace(plan, continuity=continuity_from("standard", anchor="look.png"))
    keys = [key for key, _ in input_paths(plan, settings)]
    assert keys == ["init_image", "init_images[0]", "init_images[72]", "init_images[143]", "soundtrack_path",
                    "continuity.anchor"]  # fmt: skip


@pytest.mark.parametrize(("path", "why"), [("/etc/passwd", "absolute"), ("../x.png", "climbs"), ("a/../../x", "climbs"),
                                           ("C:\\x.png", "absolute"), ("\\\\server\\x", "absolute"),
                                           ("https://x/y.png", "URL"), ("a/b.png", None), ("b.png", None)])  # fmt: skip
def test_paths_outside_the_input_folder_are_named(path, why):
    problem = outside_problem(path)
    assert (problem is None) if why is None else (why in problem)
