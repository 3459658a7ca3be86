"""Reading the init image Deforum's settings name, and fitting images to the frame."""

from __future__ import annotations

import os

import cv2
import numpy as np

from movement.settings import DeforumSettings

from .errors import RenderError


def read_init_image(settings: DeforumSettings) -> tuple[np.ndarray | None, str | None]:
    """(RGB uint8 image, None), or (None, why it cannot be used); (None, None) when there is none."""
    path = settings.init_image
    if not path:
        return None, None
    if "://" in path:
        return None, f"init_image is a URL ({path}); Wan Weave never downloads at render time"
    full = path if os.path.isabs(path) else os.path.join(os.path.dirname(settings.source), path)
    if not os.path.isfile(full):
        return None, f"init_image not found: {full}"
    image = cv2.imread(full, cv2.IMREAD_COLOR)
    if image is None:
        return None, f"init_image is not a readable image: {full}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), None


def cover(image: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale to fill w x h and crop the centre (keeps the aspect ratio, no bars)."""
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    resized = cv2.resize(image, (max(w, round(iw * scale)), max(h, round(ih * scale))), interpolation=cv2.INTER_AREA)
    y, x = (resized.shape[0] - h) // 2, (resized.shape[1] - w) // 2
    return np.ascontiguousarray(resized[y : y + h, x : x + w])


def read_keyframes(settings: DeforumSettings, w: int, h: int) -> dict[int, np.ndarray]:
    """Deforum Guided Images keyframes (use_looper + init_images), read and fitted to w x h."""
    from movement.guided import keyframe_images

    anchors = {}
    for frame, path in keyframe_images(settings):
        full = path if os.path.isabs(path) else os.path.join(os.path.dirname(settings.source), path)
        image = cv2.imread(full, cv2.IMREAD_COLOR) if "://" not in path else None
        if image is None:
            raise RenderError(
                f"keyframe image at frame {frame} cannot be read: {full}",
                where=settings.source,
                hint="fix the path in init_images (Wan Weave never downloads at render time)",
            )
        anchors[frame] = cover(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), w, h)
    return anchors
