"""The camera plot of the tab: one small chart per moving camera key, each with its own value axis
(the keys have different units), on a shared time axis in seconds, clip starts as grey lines.
Drawn with matplotlib, which gradio 3.41 and 4.40 both depend on, so every host has it."""

from __future__ import annotations

import numpy as np

from ui.state import CameraSeries

WIDTH_IN, DPI = 7.2, 100  # 720 pixels wide
COLOURS = ["#e63946", "#1d3557", "#2a9d8f", "#e9c46a", "#f4a261", "#457b9d", "#8338ec"]


def camera_figure(series: CameraSeries):
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # no window: the picture goes to the page
    from matplotlib.figure import Figure

    keys = list(series.values) or ["(no camera motion in this mode)"]
    fig = Figure(figsize=(WIDTH_IN, 0.6 + 0.75 * len(keys)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, key) in enumerate(zip(axes, keys)):
        values = series.values.get(key)
        if values is not None:
            ax.plot(series.seconds, values, color=COLOURS[i % len(COLOURS)], linewidth=1.6)
        for start in series.boundaries:
            ax.axvline(start, color="#bbbbbb", linewidth=0.8)
        ax.set_ylabel(key, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, axis="y", color="#eeeeee", linewidth=0.6)
    axes[-1].set_xlabel("seconds (grey lines: clip starts)", fontsize=8)
    fig.suptitle("camera schedules", fontsize=9)
    axes[-1].set_xlim(0, max(series.duration_s, 1e-6))
    return fig


def camera_plot(series: CameraSeries) -> np.ndarray:
    """The figure as an RGB image (gr.Image in both gradio versions shows it as it is)."""
    fig = camera_figure(series)
    canvas = fig.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
