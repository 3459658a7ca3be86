"""The WAN engine: runs each clip of a plan through a diffusers pipeline.

Loads lazily, once per render; the folder comes from discovery (configs, not names). Frames come
back as uint8 arrays and go straight to the resampler: nothing is re-read from an encoded file.

Modes: `t2v` (WanPipeline), `i2v_chain` (WanImageToVideoPipeline: the first clip starts from the
init image, every later clip from the previous clip's frame just before its start),
`vace_continue` (WanVACEPipeline: the carried frames are known frames, mask 0, and the rest is
generated, mask 1; the first clip starts from the init image when there is one),
`flf2v_keyframes` (WanImageToVideoPipeline with `last_image`: each clip flies from its first frame,
an anchor, the previous clip's frame or the init image, to the Guided Images anchor at its end,
its frames spread to land it on time), and the guided modes `v2v_guide` (WanVideoToVideoPipeline)
and `vace_guide` (WanVACEPipeline) over the Deforum camera's guide (wan/engine/guided.py). In
`t2v`, `vace_continue` and the guided modes the carried frames are colour-pulled toward the anchor
and re-imposed as latents at every step (wan/engine/carry.py). Carried frames are the arrays
themselves.
"""

from __future__ import annotations

import time

import numpy as np

from movement.settings import DeforumSettings
from wan.engine.assets import NO_ASSETS, RenderAssets
from wan.engine.errors import EngineError
from wan.engine.faults import arm_oom
from wan.engine.guided import GRAY, GuideMaker, guided_inputs
from wan.engine.protocol import EngineReport, StepCallback
from wan.models.discovery import FoundModel, find_model
from wan.models.loading import SHARED, LoadKey, PipelineCache, load_pipeline
from wan.models.speed import apply as apply_acceleration
from wan.models.stack import HINT as TORCH_HINT
from wan.models.stack import torch_problem
from wan.plan.build import LATENT_MODES, Clip, GenerationPlan, clip_fps
from wan.plan.negative import negative_prompt
from wan.plan.plan_json import plan_settings
from wan.plan.profiles import PROFILES, choose_profile
from wan.plan.registry import GUIDED_MODES, get_model
from wan.plan.timeline import model_index

SUPPORTED_MODES = ("t2v", "i2v_chain", "vace_continue", "flf2v_keyframes", "v2v_guide", "vace_guide")


def _place(pipe, torch, profile: str, tiling: bool, onload: str = "cuda") -> None:
    """Put a pipeline on the GPU as the memory profile says (see wan/plan/profiles.py)."""
    if profile == "full":
        pipe.to(onload)
    elif profile == "balanced":
        pipe.enable_model_cpu_offload()
    elif profile == "low":
        # Every big component streams leaf by leaf: the transformer(s) and the encoders too (the
        # UMT5 encoder alone is ~11 GB, which the profile's estimate leaves out); the VAE stays.
        # low_cpu_mem_usage pins each leaf as it streams instead of pinning all of them up front
        # (11 GB more of page-locked RAM on the small machines this profile is for).
        pipe.enable_group_offload(
            onload_device=torch.device(onload), offload_device=torch.device("cpu"), offload_type="leaf_level",
            use_stream=onload == "cuda", low_cpu_mem_usage=True, exclude_modules=["vae"],
        )  # fmt: skip
    else:
        pipe.enable_sequential_cpu_offload()
    if tiling:
        pipe.vae.enable_tiling()


def carried_frame_indices(previous: Clip, clip: Clip, fps_out: float, fps_model: int, count: int) -> list[int]:
    """The previous clip's frames at the `count` model frames just before `clip` starts."""
    start = model_index(clip.start_frame - previous.start_frame, fps_out, fps_model, previous.overlap)
    return [min(previous.num_frames - 1, max(0, start - count + j)) for j in range(count)]


def carried_frame_index(previous: Clip, clip: Clip, fps_out: float, fps_model: int) -> int:
    """The previous clip's frame shown one model frame before `clip` starts (its conditioning image)."""
    return carried_frame_indices(previous, clip, fps_out, fps_model, 1)[0]


class WanEngine:
    name = "wan"

    def __init__(
        self,
        plan: GenerationPlan,
        models_root: str,
        assets: RenderAssets = NO_ASSETS,
        *,
        log=print,
        profile: str = "auto",
        weights: str | None = None,
        cache: PipelineCache | None = None,
        allow_lower_resolution: bool = False,
        settings: DeforumSettings | None = None,
    ):
        if plan.mode not in SUPPORTED_MODES:
            raise EngineError(
                f"the wan engine does not render mode {plan.mode!r} yet",
                hint=f"use --mode {' or '.join(SUPPORTED_MODES)}, or --engine preview",
            )
        if profile not in ("auto", *PROFILES):
            raise EngineError(f"unknown memory profile {profile!r}", hint=f"use auto or one of {', '.join(PROFILES)}")
        self.plan = plan
        self.log = log
        self.profile_request = profile
        self.profile: str | None = None  # what was applied ("cpu" without a GPU), and why
        self.profile_reason = ""
        self.vae_tiling = False
        self.model: FoundModel = find_model(models_root, plan.model, weights)
        self.cache = cache or SHARED
        self.models_root = models_root
        self.speed: list[str] = []  # the speed options applied, in words
        self.warnings: list[str] = []
        self.pipe = None
        self.seconds_in_pipeline = 0.0
        self.seconds_loading = 0.0
        self.attempts: dict[int, list[dict]] = {}  # per clip: out-of-memory recoveries
        self.tile: int | None = None
        self.allow_lower_resolution = allow_lower_resolution
        self.init_image = None
        self.anchors = assets.keyframes
        self.previous: tuple[Clip, list[np.ndarray]] | None = None
        if plan.mode == "i2v_chain":
            self.init_image = assets.require_init("i2v_chain")
        elif plan.mode == "flf2v_keyframes":
            self.init_image = assets.optional_init()
            if 0 not in self.anchors and self.init_image is None:
                raise EngineError(
                    "flf2v_keyframes needs a first image: an init_images key at frame 0 or an init image",
                    hint='add "0": "first.png" to init_images, or set use_init and init_image',
                )
        elif plan.mode in ("vace_continue", *GUIDED_MODES):
            self.init_image = assets.optional_init()
        self.anchor = assets.anchor  # the colour the carried frames are pulled toward (None: the film's first frame)
        self.guides: GuideMaker | None = None
        if plan.mode in GUIDED_MODES:
            self.guides = GuideMaker(plan, settings if settings is not None else plan_settings(plan), models_root, log,
                                     warnings=self.warnings)  # fmt: skip
        self.inputs: dict[int, dict] = {}  # per clip: what reached the pipeline besides the text
        self.last_guide: tuple[int, list[np.ndarray]] | None = None

    def _load(self):
        try:
            import diffusers  # noqa: F401
            import torch
        except ImportError as exc:
            raise EngineError(
                f"the wan engine needs torch and diffusers ({exc.name} is missing)",
                hint="pip install -r requirements-worker.txt",
            ) from None
        problem = torch_problem(torch.__version__)
        if problem:
            raise EngineError(problem, hint=TORCH_HINT)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        if device == "cpu":
            profile, tiling, reason = "cpu", False, "no GPU: everything runs on the CPU (profiles apply to GPUs)"
        else:
            profile, tiling, reason = self._choose_profile(torch)
        self.profile, self.profile_reason = profile, reason + ("; VAE tiling on" if tiling else "")
        self.vae_tiling = tiling
        needed = {
            "i2v_chain": "WanImageToVideoPipeline",
            "flf2v_keyframes": "WanImageToVideoPipeline",
            "vace_continue": "WanVACEPipeline",
            "vace_guide": "WanVACEPipeline",
            "v2v_guide": "WanVideoToVideoPipeline",
        }.get(self.plan.mode, self.model.pipeline)
        acc = self.plan.acceleration
        key = LoadKey(self.model.path, self.model.files, device, str(dtype), profile, tiling, repr(acc))
        loads = self.cache.loads

        def load():
            self.log(f"loading {self.model.name} from {self.model.source} on {device}")
            pipe = load_pipeline(self.model, dtype, self.log)
            return pipe, tuple(apply_acceleration(pipe, acc, self.models_root, self.log))

        def prepare(pipe):
            pipe.set_progress_bar_config(disable=True)
            if device == "cpu":
                pipe.to("cpu")
            else:
                _place(pipe, torch, profile, tiling)

        started = time.perf_counter()
        self.pipe = self.cache.get(key, needed, load, prepare, self.log)
        self.speed = list(self.cache.applied)  # also when the pipeline was already loaded
        self.seconds_loading += time.perf_counter() - started
        if self.cache.loads == loads:
            self.log(f"{self.model.name} is already loaded: reusing it")
        self._set_shift(self.pipe)
        self.pipeline_class = type(self.pipe).__name__
        self.log(f"memory profile {self.profile}: {self.profile_reason}")
        return self.pipe

    def _call_with_recovery(self, clip: Clip, kwargs: dict):
        """The pipeline call; out of GPU memory, the recovery plan picks the next step (a lower
        profile, VAE tiling, smaller tiles, a lower resolution if allowed), frees the failed
        pipeline, reloads and retries with the clip's own noise. Every attempt is recorded for the
        manifest."""
        import torch

        while True:
            started = time.perf_counter()
            hook = arm_oom(getattr(self.pipe, "transformer", None), clip.index)
            try:
                result = self.pipe(**kwargs)
                return result
            except torch.OutOfMemoryError as exc:
                error = str(exc).splitlines()[0][:200]
            except BaseException:
                # A cancel (or any failure) leaves the call half done: diffusers resets its step
                # caches and offload hooks only at a call's end, and this worker lives on to the
                # next job, which would start from a stale cache state.
                try:
                    self.pipe.maybe_free_model_hooks()
                except Exception as reset_error:  # never in place of the error that got us here
                    self.log(f"warning: resetting the pipeline after the interruption failed: {reset_error}")
                raise
            finally:
                self.seconds_in_pipeline += time.perf_counter() - started
                if hook is not None:
                    hook.remove()
            # Out of the except block on purpose: its traceback holds the failed call's frames and
            # tensors, and a reload while they live runs out of memory again.
            self._recover(clip, kwargs, error)

    def _recover(self, clip: Clip, kwargs: dict, error: str) -> None:
        import torch

        from wan.plan.recovery import Attempt, next_attempt

        spec = get_model(self.plan.model)
        current = Attempt(self.profile or "auto", self.vae_tiling, self.tile, kwargs["width"], kwargs["height"], "")
        step = next_attempt(current, self.allow_lower_resolution, spec.size_multiple if spec else 16)
        self.attempts.setdefault(clip.index, []).append({"error": error, "next": step.reason if step else None})
        if step is None:
            raise EngineError(
                f"clip {clip.index} ran out of GPU memory even with '{current.profile}' and small VAE tiles",
                hint="lower the resolution or the frames per clip, or allow a lower resolution",
            )
        self.log(f"clip {clip.index}: {step.reason}")
        self.profile_request, self.tile = step.profile, step.tile
        kwargs.update(width=step.width, height=step.height)
        self.pipe = None  # the last reference to the failed pipeline: clear() can free its memory now
        self.cache.clear()
        self.pipe = self._load()
        # The failed try drew from the generator: a fresh one gives the noise a clean run would have.
        kwargs["generator"] = torch.Generator(device="cpu").manual_seed(clip.seed)
        if step.vae_tiling and self.pipe.vae is not None:
            tiles = {}
            if step.tile:  # overlapping tiles (a quarter), as diffusers' own 256/192 default does
                stride = step.tile * 3 // 4
                tiles = {"tile_sample_min_height": step.tile, "tile_sample_min_width": step.tile,
                         "tile_sample_stride_height": stride, "tile_sample_stride_width": stride}  # fmt: skip
            self.pipe.vae.enable_tiling(**tiles)
            self.vae_tiling = True

    def _set_shift(self, pipe) -> None:
        """The plan's flow shift (the family's default or --shift) on the folder's own scheduler."""
        config = pipe.scheduler.config
        key = "flow_shift" if "flow_shift" in config else "shift" if "shift" in config else None
        if key is None:
            self.warnings.append(
                f"{type(pipe.scheduler).__name__} has no shift: --shift {self.plan.shift:g} not applied"
            )
            return
        if config[key] != self.plan.shift:
            pipe.scheduler = type(pipe.scheduler).from_config(config, **{key: self.plan.shift})

    def _choose_profile(self, torch) -> tuple[str, bool, str]:
        if self.profile_request != "auto":
            return self.profile_request, self.profile_request in ("low", "minimal"), "asked for"
        spec = get_model(self.plan.model)
        frames = max(c.num_frames for c in self.plan.clips)
        free, _ = torch.cuda.mem_get_info()
        choice = choose_profile(spec, free / 2**30, self.plan.width, self.plan.height, frames)
        return choice.profile, choice.vae_tiling, choice.reason

    def conditioning_image(self, clip: Clip) -> np.ndarray:
        if self.previous is None:
            return self.init_image
        previous, frames = self.previous
        return frames[carried_frame_index(previous, clip, self.plan.fps_out, clip_fps(self.plan, previous))]

    def continue_from(self, clip: Clip, frames: list[np.ndarray]) -> None:
        self.previous = (clip, frames)
        if self.anchor is None and frames:
            self.anchor = frames[min(clip.overlap, len(frames) - 1)]

    def carried(self, clip: Clip) -> list[np.ndarray]:
        """The previous clip's frames at this clip's carried moments, colour-pulled toward the anchor
        before they condition anything (so drift cannot compound inside the model); [] at the film's
        start and at a cut (a fresh chain)."""
        if self.previous is None or clip.start_frame in self.plan.continuity.cuts or not clip.overlap:
            return []
        previous, frames = self.previous
        picks = carried_frame_indices(previous, clip, self.plan.fps_out, clip_fps(self.plan, previous), clip.overlap)
        known = [frames[k] for k in picks]
        c = self.plan.continuity
        if self.anchor is not None and c.color != "none":
            from wan.media.joins import apply_lut, colour_lut

            lut = colour_lut(known[-1], known[-1], self.anchor, c.color, c.color_strength, c.anchor_weight)
            known = [apply_lut(f, lut) for f in known]
        return known

    def _carry(self, pipe, clip: Clip, known: list[np.ndarray], record: dict, offset: int = 0):
        """The callback that re-imposes the carried frames' latents (None when nothing is carried);
        `offset` latents come first in the pipeline's latents (VACE puts its reference images there)."""
        from wan.engine.carry import LatentCarry, encode, latent_frames

        count = latent_frames(len(known))
        if self.plan.mode not in LATENT_MODES or not count:
            return None
        latents = encode(pipe, known[: 1 + 4 * (count - 1)])
        carry = LatentCarry(latents, self._steps_run(record), clip.seed + 1, offset=offset)
        record.update(latent_frames=count, carry=carry)
        return carry

    def _steps_run(self, record: dict) -> int:
        if "pipeline_strength" in record:  # video-to-video runs only the last share of the schedule
            return min(int(self.plan.steps * record["pipeline_strength"]), self.plan.steps)
        return self.plan.steps

    def _start(self, clip: Clip, known: list[np.ndarray], record: dict, on_step) -> tuple[np.ndarray, float]:
        """The guide's start picture and its Deforum time: the last carried frame, else the previous
        clip's frame before this one (no overlap), else the init image, else a still of the prompt.
        A carried frame's time is the moment it shows in its own clip (up to half a model frame off
        the time just before this clip starts)."""
        if self.previous is not None and clip.start_frame not in self.plan.continuity.cuts:
            previous, frames = self.previous
            fps = clip_fps(self.plan, previous)
            k = carried_frame_indices(previous, clip, self.plan.fps_out, fps, max(1, len(known)))[-1]
            record["start"] = "carried" if known else "previous frame"
            return frames[k] if not known else known[-1], previous.start_frame + (k - previous.overlap) * (
                self.plan.fps_out / fps
            )
        if self.init_image is not None and clip.index == 0:
            record["start"] = "init image"
            return self.init_image, float(clip.start_frame)
        record["start"] = "still from the prompt"
        return self._still(clip, on_step), float(clip.start_frame)

    def _still(self, clip: Clip, on_step) -> np.ndarray:
        """A one-frame generation of the clip's prompt: the picture the camera starts moving."""
        import torch
        from PIL import Image

        kwargs = self._text_kwargs(clip, self.pipe)
        kwargs["generator"] = torch.Generator(device="cpu").manual_seed(clip.seed)
        if on_step is not None:  # a cancel is honoured between the still's steps too

            def still_step(pipeline, step, timestep, callback_kwargs):
                on_step(clip, 0, self.plan.steps)
                return callback_kwargs

            kwargs["callback_on_step_end"] = still_step
        if self.plan.mode == "v2v_guide":  # strength 1 re-runs the whole schedule from pure noise
            gray = Image.new("RGB", (self.plan.width, self.plan.height), (GRAY, GRAY, GRAY))
            kwargs.update(video=[gray], strength=1.0)
            kwargs.pop("num_frames")
        else:
            kwargs["num_frames"] = 1
        result = self._call_with_recovery(clip, kwargs)
        still = np.clip(np.asarray(result.frames[0])[0] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if still.shape[:2] != (self.plan.height, self.plan.width):  # a lower resolution after running out of memory
            import cv2

            still = cv2.resize(still, (self.plan.width, self.plan.height), interpolation=cv2.INTER_CUBIC)
        return still

    def _text_kwargs(self, clip: Clip, pipe) -> dict:
        import torch

        kwargs = dict(
            prompt=clip.effective_prompt,
            negative_prompt=negative_prompt(clip.negative_prompt, self.plan.model, type(pipe).__name__),
            height=self.plan.height,
            width=self.plan.width,
            num_frames=clip.num_frames,
            num_inference_steps=self.plan.steps,
            guidance_scale=self.plan.guidance,
            generator=torch.Generator(device="cpu").manual_seed(clip.seed),
            output_type="np",
        )
        if self.plan.guidance_2 is not None and getattr(pipe, "transformer_2", None) is not None:
            kwargs["guidance_scale_2"] = self.plan.guidance_2  # the low-noise expert's guidance (Wan 2.2 A14B)
        return kwargs

    def _guided(self, clip: Clip, kwargs: dict, known: list[np.ndarray], record: dict, on_step) -> None:
        """v2v_guide and vace_guide: the camera guide as the video the model re-diffuses or follows."""
        start, t_start = self._start(clip, known, record, on_step)
        guide = self.guides.clip_guide(clip, start, t_start, known)
        self.last_guide = (clip.index, guide.frames)
        kwargs.update(guided_inputs(self.plan, clip, guide, len(known), self.init_image, record))
        if self.plan.mode == "v2v_guide":
            kwargs.pop("num_frames")  # video-to-video takes its length from the video

    def report(self) -> EngineReport:
        return EngineReport(
            model_path=self.model.source,
            profile=self.profile,
            profile_reason=self.profile_reason,
            seconds_in_pipeline=self.seconds_in_pipeline,
            seconds_loading=self.seconds_loading,
            speed=tuple(self.speed),
            attempts={k: tuple(v) for k, v in self.attempts.items()},
            inputs=dict(self.inputs),
            depth=self.guides.depth_source if self.guides else None,
        )

    def guide(self, clip: Clip) -> list[np.ndarray] | None:
        if self.last_guide is None or self.last_guide[0] != clip.index:
            return None
        return self.last_guide[1]

    def render_clip(self, clip: Clip, on_step: StepCallback | None = None) -> list[np.ndarray]:
        # No local reference to the pipeline until the still (guided modes) is made: out of memory
        # there, the recovery must be able to free it.
        kwargs = self._text_kwargs(clip, self.pipe or self._load())
        from PIL import Image

        record: dict = {}
        known = self.carried(clip) if self.plan.mode in LATENT_MODES else []
        if self.plan.mode in GUIDED_MODES:
            self._guided(clip, kwargs, known, record, on_step)
        elif self.plan.mode == "i2v_chain":
            image = self.conditioning_image(clip)
            kwargs["image"] = Image.fromarray(image)
        elif self.plan.mode == "flf2v_keyframes":
            first = self.anchors.get(clip.start_frame)
            if first is None:
                first = self.conditioning_image(clip)
            # The plan ends every clip on a keyframe (the film's last one sits at max_frames - 1).
            last = self.anchors.get(clip.end_frame, self.anchors.get(clip.end_frame - 1))
            if last is None:
                raise EngineError(f"no keyframe image at the end of clip {clip.index} (frame {clip.end_frame})")
            kwargs["image"] = Image.fromarray(first)
            kwargs["last_image"] = Image.fromarray(last)
        elif self.plan.mode == "vace_continue":
            known = known or ([self.init_image] if self.previous is None and self.init_image is not None else [])
            if known:
                blank = np.full((self.plan.height, self.plan.width, 3), GRAY, np.uint8)
                video = known + [blank] * (clip.num_frames - len(known))
                mask = [0] * len(known) + [255] * (clip.num_frames - len(known))
                kwargs["video"] = [Image.fromarray(f) for f in video]
                kwargs["mask"] = [Image.new("L", (self.plan.width, self.plan.height), m) for m in mask]
            if self.init_image is not None:
                # The init image is the film's reference: handed to every clip, it holds the subject
                # steady across joins (VACE reference_images).
                kwargs["reference_images"] = [Image.fromarray(self.init_image)]
        pipe = self.pipe
        references = len(kwargs.get("reference_images") or [])
        carry = self._carry(pipe, clip, known if self.previous is not None else [], record, offset=references)
        if on_step is not None or carry is not None:
            steps_run = self._steps_run(record)

            def step_end(pipeline, step, timestep, callback_kwargs):
                if carry is not None:
                    callback_kwargs = carry(pipeline, step, timestep, callback_kwargs)
                if on_step is not None:
                    on_step(clip, step + 1, steps_run)
                return callback_kwargs

            kwargs["callback_on_step_end"] = step_end
        del pipe  # only self.pipe may hold the pipeline: a recovery must be able to free it
        result = self._call_with_recovery(clip, kwargs)
        frames = np.asarray(result.frames[0])
        if frames.shape[1:3] != (self.plan.height, self.plan.width):  # a lower resolution after an OOM
            import cv2

            frames = np.stack([cv2.resize(f, (self.plan.width, self.plan.height)) for f in frames])
        if frames.shape[0] != clip.num_frames:
            raise EngineError(
                f"the pipeline returned {frames.shape[0]} frames for clip {clip.index}, asked {clip.num_frames}"
            )
        out = [np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8) for f in frames]
        if carry is not None:
            record.pop("carry")
            record["injected_sigmas"] = carry.injected
        self.inputs[clip.index] = record
        self.continue_from(clip, out)
        return out
