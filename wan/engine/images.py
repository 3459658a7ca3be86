"""Image helpers the engines share: reading an RGB image and fitting it to the frame."""

from __future__ import annotations

import cv2
import numpy as np


def read_rgb(path: str) -> np.ndarray | None:
    """The image at `path` as RGB uint8, None when it cannot be read."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def cover(image: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale to fill w x h and crop the centre (keeps the aspect ratio, no bars)."""
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    resized = cv2.resize(image, (max(w, round(iw * scale)), max(h, round(ih * scale))), interpolation=cv2.INTER_AREA)
    y, x = (resized.shape[0] - h) // 2, (resized.shape[1] - w) // 2
    return np.ascontiguousarray(resized[y : y + h, x : x + w])
