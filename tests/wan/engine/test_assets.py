"""A render's files are read once, and a job confined to its input folder reads nothing else."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from movement import settings_from_mapping
from tests.conftest import EXAMPLES
from wan.engine.assets import read_assets
from wan.engine.errors import EngineError
from wan.plan.build import PlanOptions, build_plan


def job(inputs, **changes):
    data = {**json.loads((EXAMPLES / "greenhouse_2d.txt").read_text()), **changes}
    settings = settings_from_mapping(data, source=str(inputs / "job.txt"))
    return build_plan(settings, PlanOptions(width=64, height=48)), settings


def test_a_link_out_of_the_input_folder_is_refused_before_it_is_read(tmp_path):
    inputs, secret = tmp_path / "inputs", tmp_path / "secret.png"
    inputs.mkdir()
    cv2.imwrite(str(secret), np.zeros((8, 8, 3), np.uint8))
    os.symlink(secret, inputs / "innocent.png")  # looks inside, resolves outside
    plan, settings = job(inputs, use_init=True, init_image="innocent.png")
    with pytest.raises(EngineError, match=r"init_image 'innocent\.png' is outside"):
        read_assets(plan, settings, str(inputs))
    assert read_assets(plan, settings).init_image is not None  # the CLI's own files are the user's


def test_a_missing_soundtrack_outside_says_nothing_about_the_server(tmp_path):
    (tmp_path / "inputs").mkdir()
    plan, settings = job(tmp_path / "inputs", add_soundtrack="File", soundtrack_path="/etc/passwd")
    with pytest.raises(EngineError) as refused:
        read_assets(plan, settings, str(tmp_path / "inputs"))
    assert "outside" in str(refused.value) and "not found" not in str(refused.value)
