"""The tab's keyframe path with the real worker process and the tiny models: a paragraph ->
storyboard -> keyframe images -> the Guided Images settings loaded with flf2v_keyframes -> Render
with the Finishing box (interpolated to the film's fps, upscaled 2x)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ui.handlers import KEEP, TabHandlers, UIConfig
from ui.keyframes import keyframes
from ui.state import AUTO, UIState, plan_rows
from wan.jobs.client import WorkerClient
from wan.media.video import probe

POST = "interpolate=opencv,upscale=tiny-esrgan-x2.safetensors"


def test_a_paragraph_becomes_keyframes_then_a_finished_film(tiny_models, tmp_path):
    worker = WorkerClient(sys.executable)
    try:
        h = TabHandlers(UIConfig(str(tiny_models), str(tmp_path)), worker)
        choices = (AUTO, AUTO, 2, 64, 48, "standard", "native", "none", False, False, "", "none", POST)
        shown = list(keyframes(h, "A lighthouse at dusk. Waves break on the rocks.", 4, 15, "template", UIState(),
                               *choices))  # fmt: skip
        st, _, _, summary, path, error, progress, _, _, folder, mode = shown[-1]
        assert error == "" and mode == "flf2v_keyframes" and progress.startswith("keyframes made"), shown[-1]
        assert any("keyframe 0" in line[6] for line in shown[:-1] if line[6] is not KEEP)
        assert path.endswith("storyboard_keyframes.txt") and os.path.dirname(path) == folder
        plan = st.plan_value()
        assert plan.mode == "flf2v_keyframes" and plan.post.upscale == "tiny-esrgan-x2.safetensors"
        assert [c.start_frame for c in plan.clips] == [0, 30] and "upscaled" in summary
        guided = json.loads(Path(path).read_text())
        assert sorted(map(int, guided["init_images"])) == [0, 30, 59]

        done = list(h.render(st, plan_rows(plan), "wan", "auto", "template"))[-1]
        assert done[0].startswith("done: 60 frames") and done[4] == "", done
        info = probe(done[2])
        assert (info.frames, info.fps, info.width, info.height) == (60, 15.0, 128, 96)
    finally:
        worker.close()
