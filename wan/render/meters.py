"""What a render measures of its film as it is written: seams and camera adherence of the output,
and the same of the camera guides the engine gave the model (mapped onto the output's frames the
way the clips are, for its seams), so the manifest shows how far the guide followed the schedule
and how far the model followed the guide. The guide's adherence is measured at the model's own
frames against the camera between their exact times: on the output's frames a 16 fps clip in a
24 fps film repeats every other frame, and that judder belongs to the output, not to the guide."""

from __future__ import annotations

import numpy as np

from movement import build_schedules
from movement.camera import CameraPath
from movement.motion import motion_inputs
from movement.settings import DeforumSettings
from wan.media.adherence import AdherenceMeter
from wan.media.guide import model_times
from wan.media.seams import SeamMeter
from wan.plan.build import Clip, GenerationPlan, clip_fps
from wan.plan.timeline import source_indices

SEAM_SAMPLE = 4
CAMERA_KEYS = ("transform_center_x", "transform_center_y", "fov_schedule")


class FilmMeters:
    def __init__(self, plan: GenerationPlan, settings: DeforumSettings, anchor: np.ndarray | None) -> None:
        self.plan = plan
        keys = (*motion_inputs(settings.animation_mode), *CAMERA_KEYS)
        self.path = CameraPath(build_schedules(settings, keys=keys), plan.width, plan.height)
        boundaries = [clip.start_frame for clip in plan.clips[1:]]
        self.seams = SeamMeter(boundaries, anchor, sample=SEAM_SAMPLE)
        # A cut is no step of the camera: the output's step into a cut frame is not measured.
        self.output = AdherenceMeter(self.path.steps(), plan.width, plan.height, skip=plan.continuity.cuts)
        self.guide_steps: dict[int, np.ndarray] = {}
        self.guide = AdherenceMeter(self.guide_steps.__getitem__, plan.width, plan.height)
        self.guide_seams = SeamMeter(boundaries, anchor, sample=SEAM_SAMPLE)
        self.guided = 0

    def add(self, frame: np.ndarray) -> None:
        """The next output frame of the film."""
        self.seams.add(frame)
        self.output.add(frame)

    def add_clip(self, clip: Clip, guide: list[np.ndarray] | None, frames: list[np.ndarray]) -> None:
        """A finished clip's guide, at the output frames the clip covers (a clip without a guide, e.g.
        one reused when resuming, keeps the guide stream's frame count and is not measured)."""
        plan = self.plan
        source = guide if guide is not None else frames
        fps = clip_fps(plan, clip)
        for k in source_indices(clip.start_frame, clip.end_frame, plan.fps_out, fps, clip.overlap):
            self.guide_seams.add(source[k])
        if guide is None:
            return
        self.guided += 1
        times = model_times(clip.start_frame, clip.overlap, clip.num_frames, plan.fps_out, fps)
        for k, frame in enumerate(guide):
            # The guide starts again at every clip: its first step is not a step of the camera.
            measure = k >= max(1, clip.overlap) and times[k] <= plan.max_frames - 1
            if measure:
                self.guide_steps[self.guide.frames] = self.path.matrix_between(times[k - 1], times[k])
            self.guide.add(frame, measure=measure)

    def report(self) -> dict:
        out = {"output": self.output.report(), "guide": None, "guide_seams": None}
        if self.guided:
            out["guide"] = {**self.guide.report(), "clips": self.guided}
            out["guide_seams"] = self.guide_seams.report()
        return out
