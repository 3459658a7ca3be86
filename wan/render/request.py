"""What a render is asked to do, as frozen values built once at the edge (the CLI, a queued job,
a worker message) and handed down: the plan, where it goes, how to render it, how its prompts are
written."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from wan.plan.build import GenerationPlan
from wan.render.errors import RenderError

ENGINES = ("preview", "wan")


@dataclass(frozen=True)
class RenderOptions:
    engine: str = "preview"
    crf: int = 18
    preset: str = "medium"
    captions: bool = True
    save_frames: bool = False
    models_dir: str | None = None
    profile: str = "auto"
    weights: str | None = None  # an explicit diffusers folder or single-file transformer
    resume: bool = False  # reuse the intact clips an earlier run of the same plan left in the folder
    allow_lower_resolution: bool = False  # the last resort after running out of GPU memory

    inputs_root: str | None = None  # when set, every file the render reads must be inside it (API jobs)

    @classmethod
    def from_dict(cls, values: dict, where: str = "options", **overrides) -> RenderOptions:
        """Options saved in a manifest, a queued job or a worker message; unknown keys are ignored
        (a newer or older writer), the overrides win; a value of the wrong type is a RenderError."""
        if not isinstance(values, dict):
            raise RenderError("render options must be a JSON object", where=where)
        known = {f.name: f for f in fields(cls)}
        chosen = {**{k: v for k, v in values.items() if k in known}, **overrides}
        for key, value in chosen.items():
            default = known[key].default
            ok = (value is None and default is None) or (
                type(value) is (str if default is None else type(default))
            )
            if not ok:
                raise RenderError(f"render option {key!r} has the wrong type ({type(value).__name__})", where=where)
        options = cls(**chosen)
        options.check(where)
        return options

    def check(self, where: str = "options") -> None:
        if self.engine not in ENGINES:
            raise RenderError(f"unknown engine {self.engine!r}", where=where, hint=f"use one of {', '.join(ENGINES)}")
        if not 0 <= self.crf <= 51:
            raise RenderError(f"crf must be 0..51, got {self.crf}", where=where)


@dataclass(frozen=True)
class EnhanceOptions:
    """How a render writes its prompts. `spec` None keeps the plan's prompts and fills the missing
    ones from the template; otherwise "template", "auto", a model name or folder."""

    spec: str | None = None
    cache_dir: str | None = None
    lang: str | None = None
    why: str | None = None  # why this spec (e.g. "the default"), said instead of the chooser's reason


@dataclass(frozen=True)
class RenderRequest:
    plan: GenerationPlan
    out_dir: str
    options: RenderOptions = field(default_factory=RenderOptions)
    enhance: EnhanceOptions = field(default_factory=EnhanceOptions)


@dataclass(frozen=True)
class RenderResult:
    video: str
    plan_path: str
    manifest: str
    frames: int
    seconds: float
    warnings: tuple[str, ...] = field(default=())
