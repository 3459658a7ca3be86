"""The finishing grade: identity is exact, each control moves the statistic it claims to (and only
in its direction), sharpening adds high frequencies on edges and leaves flat areas alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from wan.media.grade import LUMA_709, Grade, GradeError, apply_grade


def scene(h: int = 64, w: int = 96) -> np.ndarray:
    """A coloured gradient with noise on the left, a flat patch on the right."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([60 + xx * 1.5, 40 + yy * 2.0, 200 - xx], -1)
    img = img + np.random.default_rng(0).normal(0, 12, (h, w, 3))
    img[:, w // 2 :] = (90, 140, 60)
    return np.clip(img, 0, 255).astype(np.uint8)


def laplacian_var(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64), cv2.CV_64F).var())


def test_identity_is_exact_and_untouched():
    frame = scene()
    assert Grade().is_identity()
    out = apply_grade(frame, Grade())
    assert out is frame and np.array_equal(out, scene())
    assert not Grade(sharpen=0.5).is_identity() and Grade(sharpen_radius=3.0).is_identity()


def test_contrast_spreads_around_mid_grey():
    frame = scene()
    more, less = apply_grade(frame, Grade(contrast=1.5)), apply_grade(frame, Grade(contrast=0.5))
    assert more.std() > frame.std() * 1.3 and less.std() < frame.std() * 0.7
    grey = np.full((4, 4, 3), 128, np.uint8)  # mid-grey (127.5) stays within rounding
    assert np.abs(apply_grade(grey, Grade(contrast=3.0)).astype(int) - 128).max() <= 2


def test_saturation_zero_gives_grey_at_the_pixels_luma():
    frame = scene()
    out = apply_grade(frame, Grade(saturation=0.0)).astype(int)
    assert (np.abs(out[..., 0] - out[..., 1]) <= 1).all() and (np.abs(out[..., 1] - out[..., 2]) <= 1).all()
    luma = frame.astype(np.float32) @ LUMA_709
    assert np.abs(out[..., 1] - luma).max() <= 1
    vivid = apply_grade(frame, Grade(saturation=1.6)).astype(int)
    spread = lambda img: (img.max(-1) - img.min(-1)).mean()  # noqa: E731
    assert spread(vivid) > spread(frame.astype(int)) * 1.3


@pytest.mark.parametrize("shift", [0.1, -0.2])
def test_brightness_shifts_the_mean(shift):
    frame = np.full((8, 8, 3), 120, np.uint8)
    frame[0, 0] = (10, 200, 90)
    out = apply_grade(frame, Grade(brightness=shift))
    assert abs(out.astype(float).mean() - frame.mean() - shift * 255) < 1
    assert apply_grade(frame, Grade(brightness=1.0)).min() == 255  # clipped, not wrapped


def test_sharpen_adds_detail_on_edges_and_leaves_flat_areas_flat():
    frame = scene()
    out = apply_grade(frame, Grade(sharpen=1.0, sharpen_radius=1.5))
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert laplacian_var(out) > laplacian_var(frame) * 1.5
    flat = (slice(None), slice(frame.shape[1] // 2 + 6, None))  # clear of the edge's halo (4 sigma)
    assert np.array_equal(out[flat], frame[flat])
    plain = np.full((16, 16, 3), 77, np.uint8)
    assert np.array_equal(apply_grade(plain, Grade(sharpen=3.0, sharpen_radius=4.0)), plain)


def test_a_wider_radius_sharpens_more_of_the_image():
    frame = scene()
    narrow = apply_grade(frame, Grade(sharpen=1.0, sharpen_radius=0.5))
    wide = apply_grade(frame, Grade(sharpen=1.0, sharpen_radius=3.0))
    changed = lambda img: (img != frame).any(-1).mean()  # noqa: E731
    assert changed(wide) > changed(narrow)


@pytest.mark.parametrize(
    "bad", [{"contrast": -0.1}, {"saturation": -1.0}, {"brightness": 1.5}, {"sharpen": -1.0},
            {"sharpen_radius": 0.0}, {"contrast": float("nan")}],
)  # fmt: skip
def test_out_of_range_values_are_typed_errors_naming_the_field(bad):
    (field,) = bad
    with pytest.raises(GradeError, match=field) as e:
        Grade(**bad)
    assert e.value.where == "grade" and e.value.hint.startswith("use ")


def test_wrong_frames_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        apply_grade(np.zeros((4, 4, 3), np.float32), Grade(contrast=1.2))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        apply_grade(np.zeros((4, 4), np.uint8), Grade(contrast=1.2))
