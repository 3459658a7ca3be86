"""The generation plan: Deforum settings + render options -> WAN clips on the right timeline.

Pure and frozen (no torch, no files). A prompt change starts a clip; long spans split into
windows within the model's frame limit; each clip is 4n+1 model frames covering its own span
exactly (see timeline.py), so the output has exactly max_frames frames at Deforum's fps and every
prompt starts at its own output frame.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace

from movement import build_prompt_schedule, build_schedules, camera_rates, describe_range
from movement.guided import keyframe_images
from movement.motion import motion_inputs
from movement.settings import DeforumSettings
from wan.plan.continuity import Continuity
from wan.plan.errors import PlanError
from wan.plan.names import name_from_source
from wan.plan.post import Post
from wan.plan.registry import DEFAULT_MODEL, GUIDED_MODES, MODES, ModelSpec, get_model, model_names
from wan.plan.seeds import clip_seeds
from wan.plan.speed import DISTILL, Acceleration, cache_problem
from wan.plan.timeline import max_window, model_frames_for, split_span

PLAN_VERSION = 1
# Carried frames are 4n+1 where they continue in latent space (5 = two latent frames: the VAE packs
# the first frame alone and then 4 per latent, so the carried frames fill whole latents); I2V
# carries its one conditioning image, FLF2V flies between keyframes and carries nothing.
DEFAULT_OVERLAP = {"t2v": 5, "i2v_chain": 1, "vace_continue": 9, "flf2v_keyframes": 0, "v2v_guide": 5, "vace_guide": 5}
GUIDED_PIPELINES = {"WanPipeline": "WanVideoToVideoPipeline"}  # what a model's guided mode runs (VACE: itself)
LATENT_MODES = ("t2v", "vace_continue", "v2v_guide", "vace_guide")  # carried frames re-enter as latents
SIZE_POLICY_NATIVE = "native-area"
SIZE_POLICY_OVERRIDE = "override"


@dataclass(frozen=True)
class PlanOptions:
    model: str | None = None
    mode: str | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance: float | None = None
    shift: float | None = None
    max_clip_frames: int | None = None
    overlap: int | None = None
    seed: int | None = None  # base seed; required when the settings say -1 (the shell draws it)
    lang: str = "en"
    continuity: Continuity | None = None  # how clips are joined (default: the standard preset)
    acceleration: Acceleration | None = None  # speed options (default: the plain path)
    post: Post | None = None  # interpolation to the film's fps, upscale, grade (default: opencv interpolation)
    available: tuple[str, ...] | None = None  # models the models folder serves (None: not looked at)


@dataclass(frozen=True)
class Clip:
    index: int
    start_frame: int  # Deforum output frame, inclusive
    end_frame: int  # exclusive
    num_frames: int  # model frames, 4n+1, including `overlap`
    overlap: int  # model frames carried over from the previous clip
    prompt: str
    negative_prompt: str
    movement: str
    motion_strength: float
    seed: int
    strength: float
    user_prompt: str | None = None  # a user's edit wins over everything
    enhanced_prompt: str | None = None  # the enhancer's prompt (prompt_enhance/), used when not edited
    prompt_source: str | None = None  # "template", "qwen:<name>", "cache" or "user"
    model_fps: float | None = None  # this clip's model frame rate when it is not the plan's (FLF2V timing)

    @property
    def effective_prompt(self) -> str:
        """What the model reads: the user's edit, else the enhanced prompt, else the Deforum prompt."""
        if self.user_prompt is not None:
            return self.user_prompt
        return self.enhanced_prompt if self.enhanced_prompt is not None else self.prompt


@dataclass(frozen=True)
class GenerationPlan:
    source: str
    name: str
    settings_json: str
    mode: str
    model: str
    fps_out: float
    fps_model: int
    max_frames: int
    width: int
    height: int
    size_policy: str
    steps: int
    guidance: float
    guidance_2: float | None
    shift: float
    max_clip_frames: int
    overlap: int
    seed: int
    seed_behavior: str
    lang: str
    clips: tuple[Clip, ...]
    notes: tuple[str, ...] = field(default=())
    continuity: Continuity = field(default=Continuity())
    acceleration: Acceleration = field(default=Acceleration())
    post: Post = field(default=Post())
    version: int = PLAN_VERSION

    @property
    def duration_s(self) -> float:
        return self.max_frames / self.fps_out


def clip_fps(plan: GenerationPlan, clip: Clip) -> float:
    """The rate of `clip`'s model frames: the plan's, or the clip's own when its frames are spread
    to land a keyframe on its exact time."""
    return clip.model_fps if clip.model_fps is not None else plan.fps_model


def keyframe_frames(gap: int, fps_out: float, fps_model: float, limit: int) -> tuple[int, float]:
    """FLF2V: 4n+1 model frames whose last one lands exactly on a keyframe `gap` output frames on,
    and the rate that spreads them so (the nearest 4n+1 to the model's own rate: within two model
    frames of it). Rounding up to 4n+1 at the model's rate put the keyframe up to 3 frames late."""
    gap = max(gap, 1)  # a one-frame film: its keyframe is its only frame
    n = min(max(1, round(gap * fps_model / fps_out / 4)), (limit - 1) // 4)
    frames = 4 * n + 1
    return frames, (frames - 1) * fps_out / gap


def resolve_model(mode: str | None, model: str | None, has_init: bool, available: tuple[str, ...] | None = None,
                  camera: bool = False) -> tuple[str, ModelSpec, str | None]:  # fmt: skip
    """The mode and model, and why a guided mode was chosen when none was asked for. With a camera
    (2D or 3D settings), no --mode picks a guided mode when the model asked for serves one, or,
    without --model, when the models folder holds a model that does."""
    if mode is not None and mode not in MODES:
        raise PlanError(f"unknown mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
    why = None
    if model is not None:
        spec = get_model(model)
        if spec is None:
            family = model.removesuffix("-tiny")
            served = [m for m in model_names() if model.endswith("-tiny") and m.startswith(family)]
            if served:  # a folder name from make-tiny-models: it stands in for its family's models
                raise PlanError(f"{model!r} is a test folder, not a model to plan for",
                                hint=f"plan with {' or '.join(served)}: a models folder holding {model} renders it")  # fmt: skip
            raise PlanError(f"unknown model {model!r}", hint=f"use one of {', '.join(model_names())}")
        guided = next((m for m in GUIDED_MODES if m in spec.modes), None) if camera else None
        if mode is None and guided:
            mode, why = guided, f"{spec.label} serves it"
        unguided = [m for m in spec.modes if m not in GUIDED_MODES] or list(spec.modes)
        mode = mode or ("i2v_chain" if has_init and "i2v_chain" in spec.modes else unguided[0])
    else:
        if mode is None and camera and available:
            for guided in GUIDED_MODES:
                found = [m for m in available if (g := get_model(m)) is not None and guided in g.modes]
                if found:
                    pick = DEFAULT_MODEL[guided] if DEFAULT_MODEL[guided] in found else found[0]
                    mode, why = guided, f"the models folder holds {pick}"
                    spec = get_model(pick)
                    assert spec is not None
                    return mode, spec, why
        mode = mode or ("i2v_chain" if has_init else "t2v")
        spec = get_model(DEFAULT_MODEL[mode])
        assert spec is not None
    if mode not in spec.modes:
        able = [m.name for m in _models_for(mode)]
        raise PlanError(
            f"{spec.label} cannot render mode {mode!r}",
            hint=f"use --mode {' or '.join(spec.modes)}, or --model {' / '.join(able)}",
        )
    return mode, spec, why


def _models_for(mode: str) -> list[ModelSpec]:
    from wan.plan.registry import MODELS

    return [m for m in MODELS if mode in m.modes]


def plan_size(
    settings: DeforumSettings, spec: ModelSpec, width: int | None, height: int | None
) -> tuple[int, int, str]:
    """Override (checked), or the model's native pixel area at the settings' aspect ratio."""
    m = spec.size_multiple
    if (width is None) != (height is None):
        raise PlanError("give both --width and --height, or neither")
    if width is not None and height is not None:
        for label, value in (("width", width), ("height", height)):
            if value < m or value % m:
                near = max(m, round(value / m) * m)
                raise PlanError(f"{label} {value} is not a multiple of {m} for {spec.label}", hint=f"use {near}")
        if width * height > spec.max_area:
            raise PlanError(
                f"{width}x{height} is too large for {spec.label} (at most {spec.max_area} pixels)",
                hint=f"use {spec.native_size[0]}x{spec.native_size[1]} or a model made for larger frames",
            )
        return width, height, SIZE_POLICY_OVERRIDE
    aspect = settings.width / settings.height
    w = math.sqrt(spec.native_area * aspect)
    h = w / aspect
    w_snap, h_snap = max(m, round(w / m) * m), max(m, round(h / m) * m)
    while w_snap * h_snap > spec.max_area:
        if w_snap >= h_snap:
            w_snap -= m
        else:
            h_snap -= m
    return w_snap, h_snap, SIZE_POLICY_NATIVE


def _keyframe_spans(settings: DeforumSettings, window: int, fps: float) -> list[tuple[int, int]]:
    """FLF2V clips: from each Guided Images keyframe to the next; the last one ends the film at max_f.
    The FLF2V model needs a first and a last image for every clip, so no clip may lack either."""
    anchors = [f for f, _ in keyframe_images(settings)]
    last = settings.max_frames - 1
    hint = "turn on Deforum's Guided Images: use_looper true and init_images {frame: image}"
    if not anchors:
        raise PlanError("flf2v_keyframes needs keyframe images to fly between", hint=hint)
    if anchors[-1] != last:
        raise PlanError(
            f"flf2v_keyframes needs a keyframe image at the last frame ({last}) to end on",
            hint='add "max_f": "last.png" to init_images, or use --mode i2v_chain',
        )
    starts = [a for a in anchors if a != last] or [0]
    ends = [*starts[1:], settings.max_frames]
    spans = list(zip(starts, ends))
    for a, b in spans:
        if b - a > window:
            raise PlanError(
                f"keyframe images at frames {a} and {min(b, last)} are {(b - a) / fps:.2f} s apart; an FLF2V clip holds "
                f"{window / fps:.2f} s at most",
                hint="add a keyframe image in between, or use --mode i2v_chain",
            )
    return spans


def build_plan(settings: DeforumSettings, options: PlanOptions = PlanOptions()) -> GenerationPlan:
    camera = settings.animation_mode in ("2D", "3D")
    available = options.available
    if available and options.acceleration:  # a default must not pick what the other flags refuse
        cache = options.acceleration.cache
        available = tuple(m for m in available if (g := get_model(m)) is None
                          or not cache_problem(cache, GUIDED_PIPELINES.get(g.pipeline, g.pipeline)))  # fmt: skip
    mode, spec, why = resolve_model(options.mode, options.model, bool(settings.init_image), available, camera)
    width, height, policy = plan_size(settings, spec, options.width, options.height)
    pipeline = {"vace_continue": "WanVACEPipeline", "vace_guide": "WanVACEPipeline",
                "v2v_guide": "WanVideoToVideoPipeline"}.get(mode, spec.pipeline)  # fmt: skip
    problem = cache_problem(options.acceleration.cache, pipeline) if options.acceleration else None
    if problem:
        raise PlanError(f"{problem} ({mode} with {spec.label})", hint="use --step-cache taylorseer, or none")
    distilled = DISTILL.get(options.acceleration.distill) if options.acceleration else None
    if distilled:  # a step-distillation LoRA sets steps, guidance and shift together (explicit values win)
        options = replace(options, **{k: v for k, v in zip(("steps", "guidance", "shift"), distilled[1:])
                                      if getattr(options, k) is None})  # fmt: skip
    steps = options.steps if options.steps is not None else spec.steps
    if not 1 <= steps <= 1000:
        raise PlanError(f"steps must be 1..1000, got {steps}")
    guidance = options.guidance if options.guidance is not None else spec.guidance
    shift = options.shift if options.shift is not None else spec.shift
    if not (0 <= guidance <= 50 and 0 < shift <= 100):
        raise PlanError(f"guidance {guidance} / shift {shift} out of range", hint="guidance 0..50, shift above 0")
    limit = options.max_clip_frames if options.max_clip_frames is not None else spec.max_frames
    if limit < 5 or (limit - 1) % 4 or limit > spec.max_frames:
        raise PlanError(
            f"max clip frames {limit} must be 4n+1 between 5 and {spec.max_frames} for {spec.label}",
            hint=f"use {min(spec.max_frames, max(5, 4 * ((limit - 1) // 4) + 1))}",
        )
    overlap = options.overlap
    if overlap is None:  # the mode's default, shrunk to a 4n+1 that leaves short clips room for new frames
        room = limit - 5
        overlap = min(DEFAULT_OVERLAP[mode], 4 * ((room - 1) // 4) + 1 if room >= 1 else 0)
    fps_out, fps_model = settings.fps, spec.fps
    window = max_window(limit, fps_out, fps_model, overlap) if 0 <= overlap <= limit - 5 else 0
    if window < 1:
        raise PlanError(
            f"overlap {overlap} leaves no room for new frames in clips of {limit} frames",
            hint=f"use an overlap of 0..{limit - 5}",
        )
    seed = options.seed if options.seed is not None else settings.seed
    if seed < 0:
        raise PlanError("the plan needs a fixed seed (the settings say -1)", hint="pass --seed N")
    if options.lang not in ("en", "zh"):
        raise PlanError(f"unknown language {options.lang!r}", hint="use en or zh")

    prompts = build_prompt_schedule(settings)
    if not prompts.keys:
        raise PlanError(f"{settings.source}: the settings have no prompts", hint='add "prompts": {"0": "..."}')
    keys = set(motion_inputs(settings.animation_mode)) | {"strength_schedule", "seed_schedule"}
    schedules = build_schedules(settings, keys=keys)
    rates = camera_rates(schedules)
    notes = []
    if why:
        notes.append(f"mode {mode}: the {settings.animation_mode} camera reaches the model as a guide video ({why}); "
                     "--mode t2v describes it in words only")  # fmt: skip
    cuts = set(options.continuity.cuts) if options.continuity else set()
    if mode == "flf2v_keyframes":
        spans = _keyframe_spans(settings, window, fps_out)
        inside = sorted(r.start_frame for r in prompts.ranges() if not any(a == r.start_frame for a, _ in spans))
        if inside:
            notes.append(
                f"flf2v_keyframes: clips run from keyframe image to keyframe image; the prompt keys at frames "
                f"{', '.join(map(str, inside))} fall inside a clip and apply only from the next clip"
            )
    else:
        spans = []
        for r in prompts.ranges():
            # A cut starts a fresh chain: its frame starts a clip that carries nothing over.
            edges = [r.start_frame, *sorted(c for c in cuts if r.start_frame < c < r.end_frame), r.end_frame]
            for a, b in zip(edges, edges[1:]):
                spans += split_span(a, b, window)
    starts = [a for a, _ in spans]
    seeds = clip_seeds(
        settings.seed_behavior,
        seed,
        len(spans),
        iter_n=settings.seed_iter_n,
        start_frames=starts,
        schedule=schedules.series.get("seed_schedule"),
    )
    strength = schedules["strength_schedule"]
    clips = []
    for i, (a, b) in enumerate(spans):
        carried = overlap if i and a not in cuts else 0
        text = prompts.prompt_at(a)
        segment = describe_range(rates, a, b)
        num_frames, own_fps = model_frames_for(b - a, fps_out, fps_model, carried), None
        if mode == "flf2v_keyframes":  # the last model frame is the next keyframe, at its exact time
            num_frames, own_fps = keyframe_frames(min(b, settings.max_frames - 1) - a, fps_out, fps_model, limit)
        clips.append(
            Clip(
                index=i,
                start_frame=a,
                end_frame=b,
                num_frames=num_frames,
                model_fps=own_fps,
                overlap=carried,
                prompt=text.positive,
                negative_prompt=text.negative,
                movement=segment.description(options.lang),
                motion_strength=segment.motion_strength,
                seed=seeds[i],
                strength=float(strength[a]),
            )
        )
    if policy == SIZE_POLICY_NATIVE and (width, height) != (settings.width, settings.height):
        notes.append(
            f"size {settings.width}x{settings.height} -> {width}x{height}: {spec.label}'s native pixel area "
            f"at the settings' aspect ratio, sides multiples of {spec.size_multiple}"
        )
    name = name_from_source(settings.source)
    return GenerationPlan(
        source=settings.source,
        name=name,
        settings_json=settings.raw_json,
        mode=mode,
        model=spec.name,
        fps_out=fps_out,
        fps_model=fps_model,
        max_frames=settings.max_frames,
        width=width,
        height=height,
        size_policy=policy,
        steps=steps,
        guidance=float(guidance),
        guidance_2=spec.guidance_2,
        shift=float(shift),
        max_clip_frames=limit,
        overlap=overlap,
        seed=seed,
        seed_behavior=settings.seed_behavior,
        lang=options.lang,
        clips=tuple(clips),
        notes=tuple(notes),
        continuity=options.continuity or Continuity(),
        acceleration=options.acceleration or Acceleration(),
        post=options.post or Post(),
    )


def plan_with_seed(settings: DeforumSettings, options: PlanOptions) -> GenerationPlan:
    """build_plan, drawing the base seed when the settings (or options) say -1, as Deforum does;
    the plan's notes record the drawn seed so the render can be repeated."""
    seed = options.seed if options.seed is not None else settings.seed
    if seed >= 0:
        return build_plan(settings, replace(options, seed=seed))
    seed = secrets.randbelow(2**32)
    plan = build_plan(settings, replace(options, seed=seed))
    return replace(plan, notes=(*plan.notes, f"seed -1: drew {seed}"))
