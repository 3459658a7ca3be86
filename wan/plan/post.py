"""The plan's `post` block: how the model's frames become the film's frames after generation.

- `interpolate`: how a film frame between two model frames is made. WAN renders at 16 fps (24 for
  TI2V-5B) and a Deforum film is 24, 30 or 60: "opencv" makes it from the two model frames around
  its time by optical flow (no weights), "blend" cross-fades them, "nearest" picks the nearer one
  (what every render did before the post block: it judders when the rates do not divide).
- `upscale`: an ESRGAN-family file under <models>/upscale/ (spandrel loads it), None for none.
- `contrast`, `saturation`, `brightness`, `sharpen`: a grade and an unsharp mask, after the
  upscale (sharpening the small frame would be magnified).

Written as `key=value,...` on the command line (`--post interpolate=opencv,upscale=x2.pth`).
The encoder's --crf and --preset stay render options: they say how a file is written, not what
the film is, and one plan is often written twice (a small draft, a final).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from wan.plan.errors import PlanError

INTERPOLATORS = ("opencv", "blend", "nearest")
_GRADE_RANGES = {"contrast": (0.0, 4.0), "saturation": (0.0, 4.0), "brightness": (-1.0, 1.0), "sharpen": (0.0, 4.0)}


@dataclass(frozen=True)
class Post:
    interpolate: str = "opencv"
    upscale: str | None = None
    contrast: float = 1.0
    saturation: float = 1.0
    brightness: float = 0.0
    sharpen: float = 0.0

    def check(self) -> None:
        if self.interpolate not in INTERPOLATORS:
            raise ValueError(f"interpolate must be one of {', '.join(INTERPOLATORS)}, got {self.interpolate!r}")
        # A name, never a path: a plan can come from a REST client, and no plan may make the worker
        # open a file outside the models folder.
        if self.upscale is not None and (not self.upscale.strip() or any(c in self.upscale for c in "/\\\n:")
                                         or self.upscale.startswith(".")):  # fmt: skip
            raise ValueError(f"upscale must be a file name under <models>/upscale/, not {self.upscale!r}")
        for name, (low, high) in _GRADE_RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name} must be in {low:g}..{high:g}, got {value:g}")

    def grades(self) -> bool:
        return (self.contrast, self.saturation, self.brightness, self.sharpen) != (1.0, 1.0, 0.0, 0.0)

    def describe(self) -> str:
        parts = [f"frames between model frames: {self.interpolate}"]
        if self.upscale:
            parts.append(f"upscaled with {self.upscale}")
        if self.grades():
            parts.append(f"graded (contrast {self.contrast:g}, saturation {self.saturation:g}, "
                         f"brightness {self.brightness:g}, sharpen {self.sharpen:g})")  # fmt: skip
        return "; ".join(parts)


def parse_post(text: str, base: Post = Post(), where: str = "--post") -> Post:
    """'interpolate=opencv,upscale=x2.pth,contrast=1.1' over `base`; 'upscale=none' clears it."""
    values: dict = {}
    known = {f.name: f for f in dataclasses.fields(Post)}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, raw = (s.strip() for s in item.partition("="))
        if not sep or key not in known:
            raise PlanError(f"{item!r} is not key=value with a known key", where=where,
                            hint=f"keys: {', '.join(known)}; e.g. interpolate=opencv,upscale=x2.pth,sharpen=0.3")  # fmt: skip
        if key == "upscale":
            values[key] = None if raw.lower() in ("", "none", "off") else raw
        elif key == "interpolate":
            values[key] = raw.lower()
        else:
            try:
                values[key] = float(raw)
            except ValueError:
                raise PlanError(f"{key} must be a number, got {raw!r}", where=where) from None
    post = dataclasses.replace(base, **values)
    try:
        post.check()
    except ValueError as exc:
        raise PlanError(str(exc), where=where) from None
    return post


def post_text(post: Post) -> str:
    """The --post spelling of `post` (what parse_post reads back)."""
    return ",".join(f"{f.name}={'none' if v is None else v}" for f in dataclasses.fields(Post)
                    for v in [getattr(post, f.name)])  # fmt: skip
