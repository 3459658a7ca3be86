"""Guides for the WAN engine: the Deforum camera over each clip's model frames, drawn from the
clip's start picture (the init image, a carried frame, or a still the model made from the prompt),
with a depth map from the depth model in 3D. What each clip was given is kept for the manifest:
the mode's strength mapping and the guide's share of valid pixels."""

from __future__ import annotations

import math

import numpy as np

from movement import build_schedules
from movement.camera import CameraPath
from movement.settings import DeforumSettings
from wan.media.guide import Guide, model_times, render_guide
from wan.plan.build import Clip, GenerationPlan, clip_fps

GRAY = 127  # VACE's "no content"
DEFORUM_DEFAULT_STRENGTH = 0.65  # Deforum's strength_schedule default: VACE's default scale (1.0) maps to it
MIN_DENOISE = 0.05  # a v2v strength of 0 would run no step at all


def v2v_strength(deforum_strength: float) -> float:
    """Deforum's strength is the share of the warped frame kept (img2img runs at 1 - strength);
    diffusers' video-to-video `strength` is the share of the schedule re-run, so it is 1 - strength."""
    return round(min(1.0, max(MIN_DENOISE, 1.0 - deforum_strength)), 6)  # 1 - 0.8 is 0.19999...: 1 step of 10, not 2


def vace_scale(deforum_strength: float) -> float:
    """VACE's conditioning_scale from Deforum's strength: Deforum's default 0.65 gives VACE's
    default 1.0; 0 ignores the guide; at most 2."""
    return float(min(2.0, max(0.0, deforum_strength / DEFORUM_DEFAULT_STRENGTH)))


class GuideMaker:
    def __init__(self, plan: GenerationPlan, settings: DeforumSettings, models_root: str, log=print,
                 warnings: list[str] | None = None) -> None:  # fmt: skip
        self.plan, self.models_root, self.log = plan, models_root, log
        self.path = CameraPath(build_schedules(settings), plan.width, plan.height)
        self.border = str(settings.get("border", "replicate"))
        self.estimator = None
        self.depth_source: str | None = None  # the depth model's folder, "flat" without one, None in 2D
        self.warnings: list[str] = warnings if warnings is not None else []  # the engine's: they reach the manifest

    def depth(self, image: np.ndarray) -> np.ndarray | None:
        if self.path.mode != "3D":
            return None
        if self.estimator is None and self.depth_source is None:
            from wan.models.depth import DepthEstimator, find_depth_model
            from wan.models.errors import ModelError

            try:
                folder = find_depth_model(self.models_root)
            except ModelError as exc:
                self.depth_source = "flat"
                warning = f"no depth model: the 3D guide moves every pixel as if at one depth ({exc.one_line()})"
                self.warnings.append(warning)
                self.log(f"warning: {warning}")
                return None
            self.log(f"depth model: {folder}")
            self.estimator, self.depth_source = DepthEstimator(folder), folder
        return None if self.estimator is None else self.estimator.estimate(image)

    def clip_guide(self, clip: Clip, start: np.ndarray, t_start: float, carried: list[np.ndarray]) -> Guide:
        """The clip's guide: its carried frames as they are, then the camera from `start` (at
        Deforum time t_start) over the clip's remaining model frames."""
        fps = clip_fps(self.plan, clip)
        times = model_times(clip.start_frame, clip.overlap, clip.num_frames, self.plan.fps_out, fps)
        moved = render_guide(self.path, start, t_start, times[len(carried) :], self.depth(start), self.border)
        full = np.ones((self.plan.height, self.plan.width), bool)
        return Guide([*carried, *moved.frames], [full] * len(carried) + moved.valid)


def guided_inputs(plan: GenerationPlan, clip: Clip, guide: Guide, carried: int, init_image: np.ndarray | None,
                  record: dict) -> dict:  # fmt: skip
    """The pipeline arguments the guide becomes, and in `record` what reached it (for the manifest)."""
    from PIL import Image

    new = guide.valid[carried:]
    record.update(strength=clip.strength, carried=carried,
                  guide_valid=round(float(np.mean([v.mean() for v in new])) if new else 1.0, 4))  # fmt: skip
    if plan.mode == "v2v_guide":
        # The guide's uncovered edges keep Deforum's border fill (replicate/wrap): video-to-video
        # needs a picture everywhere, and re-diffusion repaints them as Deforum's loop does.
        # diffusers runs int(steps * strength) steps: never none, however much is kept.
        record["pipeline_strength"] = max(v2v_strength(clip.strength), math.ceil(1e6 / plan.steps) / 1e6)
        return {"video": [Image.fromarray(f) for f in guide.frames], "strength": record["pipeline_strength"]}
    gray = np.full_like(guide.frames[0], GRAY)
    video = [np.where(ok[..., None], f, gray) for f, ok in zip(guide.frames, guide.valid)]
    masks = [0] * carried + [255] * (clip.num_frames - carried)
    record["conditioning_scale"] = vace_scale(clip.strength)
    out = {"video": [Image.fromarray(f) for f in video], "conditioning_scale": record["conditioning_scale"],
           "mask": [Image.new("L", (plan.width, plan.height), m) for m in masks]}  # fmt: skip
    if init_image is not None:
        out["reference_images"] = [Image.fromarray(init_image)]
    return out
