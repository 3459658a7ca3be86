"""The depth model of the 3D camera guide: found under the models folder by its config, loaded with
transformers' Auto classes (the tiny random Depth Anything from make-tiny-models), and turned into
Deforum's z in [1, 2] with near = 1 and far = 2."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from wan.models.depth import (
    DEPTH,
    DEPTH_NAME,
    DEPTH_REPO,
    DISPARITY,
    DepthModelNotFoundError,
    classify_depth,
    deforum_z,
    discover_depth_models,
    find_depth_model,
    orientation_of,
)
from wan.models.errors import ModelError


@pytest.fixture(scope="module")
def depth_root(tmp_path_factory):
    """A models folder holding only the tiny Depth Anything, where make-tiny-models puts it."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from wan.testing.tiny_models import TINY_DEPTH, make_tiny_depth

    root = tmp_path_factory.mktemp("models")
    make_tiny_depth(str(root / "depth" / TINY_DEPTH))
    return root


@pytest.fixture(scope="module")
def estimator(depth_root):
    from wan.models.depth import DepthEstimator

    return DepthEstimator(find_depth_model(str(depth_root)))


def picture(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, width)[None, :, None] * np.ones((height, 1, 3))
    return np.clip(ramp + rng.normal(0, 20, (height, width, 3)), 0, 255).astype(np.uint8)


def test_the_tiny_model_is_found_and_recognised_by_its_config(depth_root):
    folder = find_depth_model(str(depth_root))
    assert folder == str(depth_root / "depth" / "depth-anything-tiny")
    (model,) = discover_depth_models(str(depth_root))
    assert (model.name, model.model_type, model.orientation, model.problem) == (
        "depth-anything-tiny",
        "depth_anything",
        DISPARITY,
        None,
    )
    assert find_depth_model(str(depth_root), "depth-anything-tiny") == folder
    assert find_depth_model("/nowhere", folder) == folder  # a folder path works from anywhere


def test_estimate_gives_deforum_z_at_the_input_size(estimator):
    image = picture(144, 256)
    z = estimator.estimate(image)
    assert z.shape == (144, 256) and z.dtype == np.float32
    assert z.min() == pytest.approx(1.0) and z.max() == pytest.approx(2.0)  # normalised over the image
    assert np.array_equal(z, estimator.estimate(image))  # deterministic
    odd = estimator.estimate(picture(37, 61, seed=1))  # any size, not only multiples of 14
    assert odd.shape == (37, 61) and odd.min() >= 1.0 and odd.max() <= 2.0
    # z orders pixels as the model's disparity does, reversed: bigger disparity (nearer) = smaller z
    raw = estimator.predict(image)
    near, far = np.unravel_index(raw.argmax(), raw.shape), np.unravel_index(raw.argmin(), raw.shape)
    assert z[near] == pytest.approx(1.0) and z[far] == pytest.approx(2.0)


def test_a_flat_prediction_gives_all_ones(depth_root):
    import torch

    from wan.models.depth import DepthEstimator

    flat = DepthEstimator(find_depth_model(str(depth_root)))
    with torch.no_grad():
        flat.model.head.conv3.weight.zero_()  # the output is the bias alone: constant
    z = flat.estimate(picture(48, 64))
    assert z.shape == (48, 64) and np.all(z == 1.0)


def test_estimate_wants_an_rgb_uint8_image(estimator):
    with pytest.raises(ValueError, match="uint8"):
        estimator.estimate(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="RGB"):
        estimator.estimate(np.zeros((8, 8), np.uint8))


def test_a_missing_model_is_a_typed_error_that_says_where_to_put_one(tmp_path):
    with pytest.raises(DepthModelNotFoundError) as caught:
        find_depth_model(str(tmp_path))
    error = caught.value
    assert isinstance(error, ModelError)
    assert DEPTH_REPO in error.hint
    assert os.path.join(str(tmp_path), "depth", DEPTH_NAME) in error.hint
    assert "download" in error.hint
    with pytest.raises(DepthModelNotFoundError, match="no depth model 'other'"):
        find_depth_model(str(tmp_path), "other")


def test_a_folder_directly_under_the_models_root_is_found(depth_root, tmp_path):
    shutil.copytree(depth_root / "depth" / "depth-anything-tiny", tmp_path / "my-depth")
    (tmp_path / "LLM" / "qwen").mkdir(parents=True)
    (tmp_path / "LLM" / "qwen" / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    (tmp_path / "wan").mkdir()
    (tmp_path / "wan" / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    assert find_depth_model(str(tmp_path)) == str(tmp_path / "my-depth")
    with pytest.raises(DepthModelNotFoundError, match="not a depth-estimation model"):
        find_depth_model(str(tmp_path), "wan")


def test_an_interrupted_download_is_named(depth_root, tmp_path):
    folder = tmp_path / "depth" / DEPTH_NAME
    shutil.copytree(depth_root / "depth" / "depth-anything-tiny", folder)
    (folder / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes()[:1000])
    with pytest.raises(DepthModelNotFoundError, match=r"incomplete.*model\.safetensors"):
        find_depth_model(str(tmp_path))
    (folder / "model.safetensors").unlink()
    assert "weights" in classify_depth(str(folder)).problem


def test_other_depth_models_are_recognised_with_their_orientation(tmp_path):
    for name, config in {
        "dpt-large": {"model_type": "dpt"},
        "zoe": {"model_type": "zoedepth"},
        "metric": {"model_type": "depth_anything", "depth_estimation_type": "metric"},
        "future": {"model_type": "newdepth", "architectures": ["NewDepthForDepthEstimation"]},
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
    found = {m.name: m.orientation for m in discover_depth_models(str(tmp_path))}
    assert found == {"dpt-large": DISPARITY, "zoe": DEPTH, "metric": DEPTH, "future": DEPTH}
    assert orientation_of({"model_type": "depth_anything"}) == DISPARITY


def test_deforum_z_puts_near_at_one_and_far_at_two():
    disparity = np.array([[0.0, 1.0], [3.0, 4.0]], np.float32)  # 4 is the nearest
    z = deforum_z(disparity)
    assert z.dtype == np.float32
    assert np.allclose(z, [[2.0, 1.75], [1.25, 1.0]])
    depth = np.array([[10.0, 20.0], [30.0, 50.0]])  # metric depth: 10 is the nearest
    assert np.allclose(deforum_z(depth, DEPTH), [[1.0, 1.25], [1.5, 2.0]])
    assert np.all(deforum_z(np.full((3, 5), 7.5)) == 1.0)  # flat: Deforum's z = 1 everywhere
    assert np.all(deforum_z(np.array([[1.0, np.nan]])) == 1.0)  # non-finite: flat, as Deforum does
    assert np.all(deforum_z(np.array([[1.0, 1.0 + 1e-9]])) == 1.0)  # float noise on a flat map
    with pytest.raises(ValueError):
        deforum_z(disparity, "far")


def test_equalization_keeps_the_order_and_the_range():
    disparity = np.concatenate([np.linspace(0, 0.1, 90), np.linspace(0.9, 1.0, 10)]).reshape(10, 10)
    plain, equal = deforum_z(disparity), deforum_z(disparity, equalize=True)
    assert equal.min() == pytest.approx(1.0) and equal.max() <= 2.0  # the nearest pixel stays at 1
    assert np.all(np.diff(equal.ravel()) <= 1e-6)  # still monotone: nearer, smaller z
    assert np.median(plain) > 1.9 and np.median(equal) == pytest.approx(1.5, abs=0.05)  # spread evenly


def test_make_tiny_models_writes_the_depth_model_beside_the_wan_ones(tiny_models):
    from wan.models.discovery import discover
    from wan.testing.tiny_models import TINY_MODELS

    assert find_depth_model(str(tiny_models)) == str(tiny_models / "depth" / "depth-anything-tiny")
    assert {m.name for m in discover(str(tiny_models))} == set(TINY_MODELS)  # WAN discovery ignores it
