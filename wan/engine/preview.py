"""The preview engine: an animatic of the plan that needs no model weights.

Each clip is rendered like a WAN engine would: `num_frames` frames at the model's fps, the first
`overlap` of them before the clip's start. Every frame shows the init image (or a test card)
moved by Deforum's camera at that moment (wan/media/guide.py, the same code that draws the WAN
engine's camera guides; 3D with flat depth), with an optional caption (prompt and movement words).
"""

from __future__ import annotations

import textwrap

import cv2
import numpy as np

from movement import build_schedules
from movement.camera import CameraPath
from movement.settings import DeforumSettings
from wan.engine.assets import NO_ASSETS, RenderAssets
from wan.engine.images import cover
from wan.engine.protocol import EngineReport, StepCallback
from wan.media.guide import CameraTracker, model_times
from wan.plan.build import Clip, GenerationPlan, clip_fps

SUPERSAMPLE = 2  # the source picture is drawn at twice the frame size so zooming in stays sharp
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def test_card(width: int, height: int) -> np.ndarray:
    """A picture whose motion is easy to read: hue across, brightness down, a grid, labelled corners."""
    yy, xx = np.mgrid[0:height, 0:width]
    hsv = np.zeros((height, width, 3), np.uint8)
    hsv[..., 0] = (xx * 170 // max(1, width - 1)).astype(np.uint8)
    hsv[..., 1] = 150
    hsv[..., 2] = (230 - yy * 120 // max(1, height - 1)).astype(np.uint8)
    card = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    step = max(8, min(width, height) // 8)
    thick = max(1, step // 24)
    for x in range(0, width, step):
        cv2.line(card, (x, 0), (x, height - 1), (255, 255, 255), thick)
    for y in range(0, height, step):
        cv2.line(card, (0, y), (width - 1, y), (255, 255, 255), thick)
    cx, cy = width // 2, height // 2
    for r in range(step, min(width, height) // 2, step):
        cv2.circle(card, (cx, cy), r, (20, 20, 20), thick)
    cv2.drawMarker(card, (cx, cy), (255, 40, 40), cv2.MARKER_CROSS, step, thick * 2)
    scale = step / 40
    for label, (x, y) in {
        "TOP LEFT": (step // 4, step // 2),
        "TOP RIGHT": (width - 5 * step, step // 2),
        "BOTTOM LEFT": (step // 4, height - step // 3),
        "BOTTOM RIGHT": (width - 6 * step, height - step // 3),
        "WAN WEAVE PREVIEW": (cx - 5 * step, cy - step),
    }.items():
        cv2.putText(card, label, (x, y), _FONT, scale, (0, 0, 0), thick * 3, cv2.LINE_AA)
        cv2.putText(card, label, (x, y), _FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)
    return card


def start_image(assets: RenderAssets, width: int, height: int, warnings: list[str]) -> np.ndarray:
    """The init image, cropped to the frame's aspect, or a test card (with a warning) when it is unusable."""
    w, h = width * SUPERSAMPLE, height * SUPERSAMPLE
    if assets.init_problem:
        warnings.append(f"{assets.init_problem}; using a test card")
    return cover(assets.init_source, w, h) if assets.init_source is not None else test_card(w, h)


class PreviewEngine:
    name = "preview"

    def __init__(
        self,
        plan: GenerationPlan,
        settings: DeforumSettings,
        assets: RenderAssets = NO_ASSETS,
        *,
        captions: bool = True,
    ) -> None:
        self.plan = plan
        self.captions = captions
        self.warnings: list[str] = []
        self.path = CameraPath(build_schedules(settings), plan.width, plan.height)
        self.source = start_image(assets, plan.width, plan.height, self.warnings)
        self.border = str(settings.get("border", "replicate"))
        self.resume: CameraTracker | None = None  # the camera at the next clip's first frame

    def tracker_at(self, t: float) -> CameraTracker:
        """The camera moved on from the film's start to time t (from the saved state when it is not
        past t: a 3D camera costs a pass over every pixel per step)."""
        if self.resume is not None and self.resume.time <= t:
            tracker = self.resume.copy()
        else:
            tracker = CameraTracker(self.path, self.source, 0.0, None, self.border, supersample=SUPERSAMPLE)
        tracker.advance(t)
        return tracker

    def frame_at(self, frame: float) -> np.ndarray:
        return self.tracker_at(frame).frame()[0]

    def continue_from(self, clip: Clip, frames: list[np.ndarray]) -> None:
        """Every preview frame is drawn from the camera alone: nothing carries between clips."""

    def guide(self, clip: Clip) -> list[np.ndarray] | None:
        return None  # the animatic is the camera itself: its output is what a guide would be

    def report(self) -> EngineReport:
        return EngineReport()

    def render_clip(self, clip: Clip, on_step: StepCallback | None = None) -> list[np.ndarray]:
        """The clip's model frames: frame k shows Deforum time start + (k - overlap) * fps_out / fps_model."""
        plan = self.plan
        times = model_times(clip.start_frame, clip.overlap, clip.num_frames, plan.fps_out, clip_fps(plan, clip))
        following = plan.clips[clip.index + 1] if clip.index + 1 < len(plan.clips) else None
        resume_at = None
        if following is not None:
            resume_at = model_times(following.start_frame, following.overlap, 1, plan.fps_out,
                                    clip_fps(plan, following))[0]  # fmt: skip
        tracker = self.tracker_at(times[0])
        frames = []
        for t in times:
            if resume_at is not None and tracker.time <= resume_at <= t:
                tracker.advance(resume_at)
                self.resume = tracker.copy()
            tracker.advance(t)
            image = tracker.frame()[0]
            if self.captions:
                _caption(image, clip, plan)
            frames.append(image)
        return frames


def _caption(image: np.ndarray, clip: Clip, plan: GenerationPlan) -> None:
    h, w = image.shape[:2]
    scale = max(0.35, w / 1600)
    line_h = int(28 * scale * 1.4) + 2
    chars = max(20, int(w / (scale * 14)))
    head = (
        f"clip {clip.index + 1}/{len(plan.clips)}  {clip.start_frame / plan.fps_out:.2f}-"
        f"{clip.end_frame / plan.fps_out:.2f} s  seed {clip.seed}"
    )
    lines = [head, *textwrap.wrap(clip.effective_prompt, chars)[:2], *textwrap.wrap(clip.movement, chars)[:1]]
    band = line_h * len(lines) + 8
    overlay = image[h - band :].astype(np.float32) * 0.45
    image[h - band :] = overlay.astype(np.uint8)
    for i, text in enumerate(lines):
        y = h - band + 4 + line_h * (i + 1) - 6
        color = (255, 230, 120) if i == 0 else (255, 255, 255)
        # Hershey fonts cover ASCII only; other characters become '?'.
        safe = text.encode("ascii", "replace").decode()
        cv2.putText(image, safe, (8, y), _FONT, scale, color, 1, cv2.LINE_AA)
