"""The camera plot of the tab, drawn with OpenCV from ui/state.py's CameraSeries."""

from __future__ import annotations

import cv2
import numpy as np

from ui.state import CameraSeries

PLOT_W, PLOT_H, MARGIN, TOP, BOTTOM = 720, 240, 30, 34, 50  # TOP clears gradio's label
COLOURS = [(230, 57, 70), (29, 53, 87), (42, 157, 143), (233, 196, 106), (244, 162, 97), (69, 123, 157),
           (131, 56, 236)]  # fmt: skip
GREY = (90, 90, 90)


def _text(image: np.ndarray, text: str, at: tuple[int, int], colour=GREY, scale: float = 0.4) -> None:
    cv2.putText(image, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def camera_plot(series: CameraSeries) -> np.ndarray:
    """The camera schedules over time (each scaled to its own range), clip boundaries as grey lines,
    a legend of the keys that move: an RGB image."""
    image = np.full((PLOT_H, PLOT_W, 3), 255, np.uint8)
    if not series.values:
        _text(image, "no camera motion in this mode", (MARGIN, PLOT_H // 2), scale=0.5)
        return image
    width = PLOT_W - 2 * MARGIN
    end = max(series.duration_s, 1e-9)
    x = MARGIN + series.seconds * width / max(series.seconds[-1], 1e-9) if len(series.seconds) > 1 else np.full(1, MARGIN)
    for s in series.boundaries:
        cx = int(MARGIN + s / end * width)
        cv2.line(image, (cx, TOP), (cx, PLOT_H - BOTTOM), (200, 200, 200), 1)
    for i, (key, values) in enumerate(series.values.items()):
        lo, hi = float(values.min()), float(values.max())
        span = hi - lo or 1.0
        y = PLOT_H - BOTTOM - (values - lo) / span * (PLOT_H - TOP - BOTTOM) * (1 if hi > lo else 0.5)
        points = np.stack([x, y], axis=1).astype(np.int32).reshape(-1, 1, 2)
        colour = COLOURS[i % len(COLOURS)]
        cv2.polylines(image, [points], False, colour, 2, cv2.LINE_AA)
        _text(image, key, (MARGIN + 60 + 105 * (i % 5), PLOT_H - 24 + 14 * (i // 5)), colour)
    _text(image, "0 s", (MARGIN, PLOT_H - 10))
    _text(image, f"{series.duration_s:.1f} s", (PLOT_W - MARGIN - 30, PLOT_H - 30))
    return image
