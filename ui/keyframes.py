"""The tab's keyframe path: a paragraph (or the loaded settings) -> storyboard -> keyframe images in
the worker, then the Guided Images settings loaded back into the tab with flf2v_keyframes chosen,
ready for Render (which animates between them and applies the Finishing box)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

from movement.errors import WanWeaveError
from wan.jobs.client import JobCancelled

from .handlers import CLEARED, ERROR_NONE, KEEP, TabHandlers, error_text

FLF2V = "flf2v_keyframes"


def keyframes(h: TabHandlers, paragraph, seconds, fps, storyboard, st, *choices) -> Iterator[tuple]:
    """Yields (state, table, plot, summary, path, error, progress, clip, video, folder, mode)."""
    keep = (st, KEEP, KEEP, KEEP, KEEP)  # a gr.State takes its value back, never an update
    try:
        if h.config.setup_problem:
            raise WanWeaveError(h.config.setup_problem)
        text = (paragraph or "").strip()
        if not text and not st.settings_path:
            raise WanWeaveError("write a paragraph, or load a settings file first")
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", text[:40]).strip("-").lower() or "storyboard" if text else \
            os.path.splitext(os.path.basename(st.settings_path))[0]  # fmt: skip
        out = os.path.join(h.config.out_root, f"{base}-keyframes-{time.strftime('%Y%m%d-%H%M%S')}")
        _, _, steps, width, height = choices[:5]
        job = {"type": "keyframes", "out": out, "models": h.config.models_dir, "storyboard": storyboard or "template",
               **({"paragraph": text, "seconds": float(seconds or 8), "fps": float(fps or 24)} if text
                  else {"settings": st.settings_path}),
               **({"width": int(width), "height": int(height)} if width and height else {}),
               **({"steps": int(steps)} if steps else {})}  # fmt: skip
    except Exception as exc:
        yield (*keep, error_text(exc), "", KEEP, KEEP, KEEP, KEEP)
        return
    outcome: dict = {}
    for progress, _ in h.stream(job, outcome):
        yield (*keep, ERROR_NONE, progress, KEEP, KEEP, out, KEEP)
    if "error" in outcome:
        if isinstance(outcome["error"], JobCancelled):
            yield (*keep, ERROR_NONE, "cancelled: the finished keyframes are in the output folder", KEEP, KEEP, out, KEEP)
        else:
            yield (*keep, error_text(outcome["error"]), "stopped", KEEP, KEEP, out, KEEP)
        return
    chosen = list(choices)
    chosen[1] = FLF2V
    loaded = h.load(None, outcome["result"]["settings"], False, *chosen)
    done = "keyframes made: press Render to animate between them" if loaded[5] == ERROR_NONE else "stopped"
    yield (*loaded[:6], done, *CLEARED[1:3], out, FLF2V)
