"""The ESRGAN-family upscaler through spandrel, on tiny random ESRGANs built from spandrel's own
RRDBNet: shapes and scale from the file, tiled output equal to the whole-frame output (and clearly
not without the tile context, so the check can fail), finding the file, and typed errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import types

import numpy as np
import pytest

pytest.importorskip("torch")

from wan.media.upscale import OVERLAP, Upscaler, UpscalerError, find_upscaler, tile_for_profile
from wan.plan.profiles import PROFILES


@pytest.fixture(scope="module")
def spandrel():
    # The worker's requirement (requirements-worker.txt): its absence is a broken setup, not a skip.
    import spandrel

    return spandrel


@pytest.fixture(scope="module")
def tiny(spandrel, tmp_path_factory):
    from wan.testing.tiny_upscaler import make_tiny_upscaler

    folder = tmp_path_factory.mktemp("upscalers")
    return {
        "x2": make_tiny_upscaler(str(folder / "x2.safetensors")),
        "x4": make_tiny_upscaler(str(folder / "x4.pth"), scale=4, seed=1),
        "x2-unshuffle": make_tiny_upscaler(str(folder / "x2u.safetensors"), unshuffle=True),
    }


def textured(h: int = 70, w: int = 90) -> np.ndarray:
    """Gradients plus noise: every tile differs, so a seam cannot hide."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 2, yy * 3, xx + yy], -1)
    noise = np.random.default_rng(0).integers(0, 40, (h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("key", "scale"), [("x2", 2), ("x4", 4), ("x2-unshuffle", 2)])
def test_output_shape_dtype_and_scale_come_from_the_file(tiny, key, scale):
    up = Upscaler(tiny[key], tile=0)
    assert up.scale == scale and up.name == os.path.splitext(os.path.basename(tiny[key]))[0]
    out = up.upscale(textured())
    assert out.shape == (70 * scale, 90 * scale, 3) and out.dtype == np.uint8
    assert out.std() > 5  # a textured image, not a flat clamp: the comparisons below mean something


@pytest.mark.parametrize("key", ["x2", "x4", "x2-unshuffle"])
def test_tiled_output_equals_the_whole_frame_and_has_no_seams(tiny, key):
    frame = textured()
    whole = Upscaler(tiny[key], tile=0).upscale(frame).astype(int)
    # 21 px tiles (not a divisor of 70 or 90, and off RealESRGAN x2's grid of 4) with the default
    # 32 px context: the tiny model's receptive field (about 19 px) stays inside the context.
    tiled = Upscaler(tiny[key], tile=21).upscale(frame).astype(int)
    assert np.abs(tiled - whole).max() <= 2
    no_context = Upscaler(tiny[key], tile=21, overlap=0).upscale(frame).astype(int)
    assert np.abs(no_context - whole).max() > 20  # what the context prevents: visible seams


def test_tile_and_overlap_follow_the_model_size_grid(tiny):
    up = Upscaler(tiny["x2-unshuffle"], tile=21, overlap=13)
    assert (up.tile, up.overlap) == (24, 16)
    assert Upscaler(tiny["x2"], tile=21).overlap == OVERLAP


def test_a_frame_smaller_than_a_tile_and_a_wrong_frame(tiny):
    up = Upscaler(tiny["x2"], tile=256)
    assert up.upscale(textured(5, 7)).shape == (10, 14, 3)
    with pytest.raises(ValueError, match="uint8"):
        up.upscale(textured().astype(np.float32))


def test_make_tiny_models_writes_an_upscaler_that_loads(spandrel, tmp_path, capsys):
    from wan.cli.models import run_make_tiny

    run_make_tiny(argparse.Namespace(dir=str(tmp_path), single_files=False))
    assert "tiny-esrgan-x2: " in capsys.readouterr().out
    path = find_upscaler(str(tmp_path), None)
    assert path == str(tmp_path / "upscale" / "tiny-esrgan-x2.safetensors")
    up = Upscaler(path)
    assert up.scale == 2 and up.upscale(textured(8, 8)).shape == (16, 16, 3)


def test_a_file_that_is_not_an_upscaler_is_named(spandrel, tmp_path):
    import torch
    from safetensors.torch import save_file

    junk = tmp_path / "junk.safetensors"
    save_file({"foo.weight": torch.zeros(2, 2), "bar.bias": torch.ones(3)}, str(junk))
    with pytest.raises(UpscalerError, match="not a model spandrel recognises") as e:
        Upscaler(str(junk))
    assert e.value.where == str(junk) and "junk.safetensors" in str(e.value)
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a pickle at all")
    with pytest.raises(UpscalerError, match="cannot be read") as e:
        Upscaler(str(broken))
    assert e.value.where == str(broken)


def test_an_image_model_that_is_not_an_upscaler_is_named(spandrel, tiny, monkeypatch):
    class MaskedImageModelDescriptor:  # what spandrel gives for LaMa (inpainting)
        architecture = types.SimpleNamespace(id="LaMa")

    monkeypatch.setattr(spandrel.ModelLoader, "load_from_file", lambda self, path: MaskedImageModelDescriptor())
    with pytest.raises(UpscalerError, match=r"a maskedimage model \(LaMa\), not an upscaler") as e:
        Upscaler(tiny["x2"])
    assert e.value.where == tiny["x2"]


def test_missing_file_and_missing_spandrel_are_typed(tmp_path, monkeypatch):
    with pytest.raises(UpscalerError, match="not found") as e:
        Upscaler(str(tmp_path / "gone.pth"))
    assert e.value.where == str(tmp_path / "gone.pth")
    present = tmp_path / "model.pth"
    present.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "spandrel", None)  # import spandrel -> ImportError
    with pytest.raises(UpscalerError, match="spandrel cannot be imported") as e:
        Upscaler(str(present))
    assert "torchvision" in e.value.hint


def models_with(tmp_path, *names: str) -> str:
    folder = tmp_path / "upscale"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(b"")
    return str(tmp_path)


def test_find_upscaler_picks_the_only_one_or_the_named_one(tmp_path):
    root = models_with(tmp_path, "4x-UltraSharp.pth", "notes.txt")
    only = os.path.join(root, "upscale", "4x-UltraSharp.pth")
    assert find_upscaler(root, None) == only
    assert find_upscaler(root, "4x-UltraSharp.pth") == only
    assert find_upscaler(root, "4x-UltraSharp") == only
    assert find_upscaler(root, only) == only


def test_find_upscaler_errors_name_the_folder_and_what_is_there(tmp_path):
    folder = os.path.join(str(tmp_path), "upscale")
    with pytest.raises(UpscalerError, match="does not exist") as e:
        find_upscaler(str(tmp_path), None)
    assert e.value.where == folder and ".pth or .safetensors" in e.value.hint
    root = models_with(tmp_path, "a.pth", "b.safetensors")
    with pytest.raises(UpscalerError, match=r"several upscalers, name one: a\.pth, b\.safetensors") as e:
        find_upscaler(root, None)
    assert e.value.where == folder
    with pytest.raises(UpscalerError, match=r"no upscaler named 'c' \(there: a\.pth, b\.safetensors\)") as e:
        find_upscaler(root, "c")
    assert e.value.where == folder
    missing = os.path.join(root, "elsewhere", "d.pth")
    with pytest.raises(UpscalerError, match="not found") as e:
        find_upscaler(root, missing)
    assert e.value.where == missing


def test_find_upscaler_in_an_empty_folder(tmp_path):
    root = models_with(tmp_path, "readme.md")
    with pytest.raises(UpscalerError, match="no upscaler model") as e:
        find_upscaler(root, None)
    assert e.value.where == os.path.join(root, "upscale") and "does not exist" not in e.value.reason


def test_tile_for_profile_gives_smaller_tiles_to_lower_memory_profiles():
    tiles = [tile_for_profile(p) for p in PROFILES]
    assert tiles == sorted(tiles, reverse=True) and tiles[-1] < tiles[0] and min(tiles) >= 64
    assert tile_for_profile("auto") in tiles
    with pytest.raises(ValueError, match="unknown profile"):
        tile_for_profile("huge")
