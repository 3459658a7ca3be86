"""plan.json: a lossless, human-editable GenerationPlan.

A user may edit a clip's `prompt`, `negative_prompt` or `user_prompt` (which wins) and render
from the file. Everything is checked on load: a broken edit is a PlanError naming the clip and key.
Re-planning over an existing plan.json keeps the user's edits (`carry_edits`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import types
import typing
from typing import Any

from movement.settings import MIN_FPS, settings_from_text
from wan.plan.build import PLAN_VERSION, Clip, GenerationPlan, clip_fps
from wan.plan.continuity import Continuity
from wan.plan.errors import PlanError
from wan.plan.names import name_problem
from wan.plan.post import Post
from wan.plan.registry import MODES, get_model
from wan.plan.speed import Acceleration
from wan.plan.timeline import frames_4n1, model_index


def _json_types(cls) -> dict[str, tuple[type, ...]]:
    """Each field of the dataclass `cls` and the JSON types its value may have: the one schema of
    plan.json is the dataclasses themselves (a tuple is a JSON list, a nested dataclass an object)."""
    out: dict[str, tuple[type, ...]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        allowed: list[type] = []
        for t in typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,):
            t = typing.get_origin(t) or t
            if t is float:
                allowed += [int, float]
            elif t is tuple:
                allowed.append(list)
            elif dataclasses.is_dataclass(t):
                allowed.append(dict)
            else:
                allowed.append(t)
        out[name] = tuple(allowed)
    return out


_CLIP_TYPES = _json_types(Clip)
_PLAN_TYPES = _json_types(GenerationPlan)
# Keys a plan.json may leave out (older files, hand-written ones), with the value they then take.
_OPTIONAL = {
    "user_prompt": None,
    "enhanced_prompt": None,
    "prompt_source": None,
    "model_fps": None,
    "notes": [],
    "version": PLAN_VERSION,
    "continuity": {},
    "acceleration": {},
    "post": {},
}
MAX_FRAMES = 10_000_000  # days of film at 60 fps; more is damage, not a film
RANGES = (("width", 16, 16384), ("height", 16, 16384), ("steps", 1, 1000), ("guidance", 0, 100),
          ("guidance_2", 0, 100), ("shift", 0, 100), ("seed", 0, 2**32 - 1), ("max_clip_frames", 1, 10_000))  # fmt: skip
_FLOATS = {k for schema in (_PLAN_TYPES, _CLIP_TYPES) for k, allowed in schema.items() if float in allowed}


def plan_to_dict(plan: GenerationPlan) -> dict[str, Any]:
    data = dataclasses.asdict(plan)
    data["clips"] = [dataclasses.asdict(c) for c in plan.clips]
    data["notes"] = list(plan.notes)
    return data


def plan_to_json(plan: GenerationPlan) -> str:
    return json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


INT_LIMIT = 2**63  # JSON numbers other tools read as int64; a seed is far below it
MAX_DEPTH = 16  # a plan.json is 4 levels deep; deeper is damage, and would exhaust the stack


def show(value: Any) -> str:
    """A short, safe rendering of a JSON value for an error message (huge or deep values too)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**18 else f"a {len(str(abs(value))) if abs(value) < 10**4000 else 'very'} long integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value[:40])
    return "a list" if isinstance(value, list) else "an object"


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply `value` nests, counted without recursion (damage may nest thousands deep); the
    count stops just past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            return level
        if isinstance(item, dict):
            stack += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, level + 1) for v in item]
    return deepest


def _number_problem(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and not -INT_LIMIT <= value < INT_LIMIT:
        return "is too large"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def _check(data: Any, schema: dict[str, tuple[type, ...]], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PlanError("expected a JSON object", where=where)
    unknown = sorted(set(data) - set(schema))
    if unknown:  # a misspelt edit ("user_promt") must not be ignored in silence
        close = difflib.get_close_matches(unknown[0], schema, n=1)
        raise PlanError(f"unknown key(s) {', '.join(map(show, unknown))}" + (f" (did you mean {show(close[0])}?)" if close
                        else ""), where=where, hint=f"the keys are: {', '.join(schema)}")  # fmt: skip
    missing = [k for k in schema if k not in data and k not in _OPTIONAL]
    if missing:
        raise PlanError(
            f"missing key(s) {', '.join(missing)}", where=where, hint="re-create it with 'python -m wan plan'"
        )
    out = {}
    for key, allowed in schema.items():
        value = data.get(key, _OPTIONAL.get(key))
        if isinstance(value, bool) or not isinstance(value, allowed):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
            raise PlanError(f"key {key!r} must be {names}, got {show(value)}", where=where)
        problem = _number_problem(value)
        if problem:
            raise PlanError(f"key {key!r} {problem}, got {show(value)}", where=where)
        out[key] = float(value) if key in _FLOATS and value is not None else value
    return out


def plan_from_dict(data: Any, where: str = "plan.json") -> GenerationPlan:
    if depth(data) > MAX_DEPTH:
        raise PlanError(f"nested more than {MAX_DEPTH} levels deep: not a plan", where=where)
    fields = _check(data, _PLAN_TYPES, where)
    problem = name_problem(fields["name"])
    if problem:
        raise PlanError(f"the plan's name {show(fields['name'])} {problem}", where=where,
                        hint="the name is the video's file name: letters, digits, spaces, '-', '_', '.'")  # fmt: skip
    if fields["version"] != PLAN_VERSION:
        raise PlanError(f"plan version {fields['version']} is not {PLAN_VERSION}", where=where)
    clips = tuple(Clip(**_check(c, _CLIP_TYPES, f"{where}, clip {i}")) for i, c in enumerate(fields.pop("clips")))
    if not all(isinstance(n, str) for n in fields["notes"]):
        raise PlanError("notes must be a list of strings", where=where)
    fields["notes"] = tuple(fields["notes"])
    fields["continuity"] = _continuity(fields["continuity"], where)
    fields["acceleration"] = _acceleration(fields["acceleration"], where)
    fields["post"] = _post(fields["post"], where)
    plan = GenerationPlan(clips=clips, **fields)
    validate_plan(plan, where)
    return plan


def _check_fields(cls, data: dict, skip: tuple[str, ...], where: str, block: str) -> None:
    """Each value of `data` has the type of its field's default (None: a string or null)."""
    for f in dataclasses.fields(cls):
        if f.name in skip or f.name not in data or f.default is dataclasses.MISSING:
            continue
        value, default = data[f.name], f.default
        if default is None:
            ok = value is None or isinstance(value, str)
        elif isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _number_problem(value) is None
        else:
            ok = type(value) is type(default) and _number_problem(value) is None
        if not ok:
            raise PlanError(f"{block}: {f.name} must be like {default!r}, got {show(value)}", where=where)


def _continuity(data: dict, where: str) -> Continuity:
    known = {f.name for f in dataclasses.fields(Continuity)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PlanError(f"continuity: unknown key(s) {', '.join(unknown)}", where=where, hint=f"known: {sorted(known)}")
    _check_fields(Continuity, data, ("cuts",), where, "continuity")
    cuts = data.get("cuts", ())
    if not isinstance(cuts, (list, tuple)) or not all(type(c) is int and 0 <= c <= MAX_FRAMES for c in cuts):
        raise PlanError(f"continuity: cuts must be frame numbers 0..{MAX_FRAMES}", where=where)
    try:
        value = Continuity(**{**data, "cuts": tuple(cuts)})
        value.check()
    except (TypeError, ValueError) as exc:
        raise PlanError(f"continuity: {exc}", where=where) from None
    return value


def _acceleration(data: dict, where: str) -> Acceleration:
    known = {f.name for f in dataclasses.fields(Acceleration)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PlanError(
            f"acceleration: unknown key(s) {', '.join(unknown)}", where=where, hint=f"known: {sorted(known)}"
        )
    _check_fields(Acceleration, data, ("loras",), where, "acceleration")
    try:
        loras = tuple((str(p), float(w)) for p, w in data.get("loras", ()))
        if not all(math.isfinite(w) and abs(w) <= 100 for _, w in loras):
            raise ValueError("a LoRA weight must be a finite number within -100..100")
        value = Acceleration(**{**data, "loras": loras})
        value.check()
    except (TypeError, ValueError, OverflowError) as exc:
        raise PlanError(f"acceleration: {exc}", where=where) from None
    return value


def _post(data: dict, where: str) -> Post:
    known = {f.name for f in dataclasses.fields(Post)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PlanError(f"post: unknown key(s) {', '.join(unknown)}", where=where, hint=f"known: {sorted(known)}")
    _check_fields(Post, data, (), where, "post")
    try:
        value = Post(**data)
        value.check()
    except (TypeError, ValueError) as exc:
        raise PlanError(f"post: {exc}", where=where) from None
    return value


def validate_plan(plan: GenerationPlan, where: str = "plan") -> None:
    """The invariants a render relies on; an edited plan.json must keep them."""
    spec = get_model(plan.model)
    if spec is None:
        raise PlanError(f"unknown model {plan.model!r}", where=where)
    if plan.mode not in MODES or plan.mode not in spec.modes:
        raise PlanError(f"{spec.label} cannot render mode {plan.mode!r}", where=where)
    if plan.fps_model != spec.fps or not MIN_FPS <= plan.fps_out <= 1000 or not 1 <= plan.max_frames <= MAX_FRAMES:
        raise PlanError("fps_model, fps_out or max_frames do not fit the model", where=where,
                        hint=f"fps_out is {MIN_FPS}..1000, max_frames 1..{MAX_FRAMES}")  # fmt: skip
    for key, low, high in RANGES:
        value = getattr(plan, key)
        if value is not None and not low <= value <= high:
            raise PlanError(f"{key} {show(value)} is outside {low:g}..{high:g}", where=where)
    if plan.width % spec.size_multiple or plan.height % spec.size_multiple or plan.width * plan.height > spec.max_area:
        raise PlanError(f"{plan.width}x{plan.height} does not fit {spec.label}", where=where)
    if not plan.clips:
        raise PlanError("no clips", where=where)
    expected_start = 0
    for i, c in enumerate(plan.clips):
        at = f"{where}, clip {i}"
        if c.index != i:
            raise PlanError(f"index is {c.index}, expected {i}", where=at)
        if c.start_frame != expected_start or c.end_frame <= c.start_frame:
            raise PlanError(
                f"frames {c.start_frame}..{c.end_frame} do not continue from frame {expected_start}",
                where=at,
                hint="clips must be contiguous and cover 0..max_frames",
            )
        if c.model_fps is not None and not 1 <= c.model_fps <= 1000:
            raise PlanError(f"model_fps {c.model_fps} must be 1..1000 (or null: the plan's)", where=at)
        needed = model_index(c.end_frame - c.start_frame - 1, plan.fps_out, clip_fps(plan, c), c.overlap) + 1
        if c.num_frames != frames_4n1(c.num_frames) or c.num_frames < needed or c.num_frames > plan.max_clip_frames:
            raise PlanError(
                f"num_frames {c.num_frames} must be 4n+1, at least {needed} and at most {plan.max_clip_frames}",
                where=at,
            )
        if c.overlap < 0 or c.overlap >= c.num_frames or (i == 0 and c.overlap):
            raise PlanError(f"overlap {c.overlap} is not allowed here", where=at)
        if not 0 <= c.seed < 2**32 or not 0 <= c.strength <= 1 or not math.isfinite(c.motion_strength):
            raise PlanError("seed must be 0..2^32-1, strength 0..1 and motion_strength finite", where=at)
        expected_start = c.end_frame
    if expected_start != plan.max_frames:
        raise PlanError(f"clips end at frame {expected_start}, not max_frames {plan.max_frames}", where=where)


def read_plan(path: str | os.PathLike[str]) -> GenerationPlan:
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise PlanError("file not found", where=name, hint="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read: {exc}", where=name) from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", where=name) from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, or nesting deeper than the stack
        raise PlanError(f"not a plan: {str(exc)[:80]}", where=name) from None
    return plan_from_dict(data, where=name)


def plan_settings(plan: GenerationPlan):
    """The Deforum settings embedded in the plan."""
    return settings_from_text(plan.settings_json, source=plan.source)


def is_plan_file(path: str) -> bool:
    """A plan.json has clips; a Deforum settings file does not."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            head = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(head, dict) and "clips" in head and "settings_json" in head


def carry_edits(plan: GenerationPlan, old: GenerationPlan) -> tuple[GenerationPlan, int]:
    """`plan` with the user's prompt edits from `old` (a plan.json being re-planned): an edit moves
    to the new clip that starts at the same frame with the same Deforum prompt. Returns the plan and
    how many edits were kept."""
    edits = {(c.start_frame, c.prompt): c.user_prompt for c in old.clips if c.user_prompt is not None}
    clips, kept = [], 0
    for clip in plan.clips:
        edit = edits.get((clip.start_frame, clip.prompt))
        if edit is not None and clip.user_prompt is None:
            clip = dataclasses.replace(clip, user_prompt=edit, prompt_source="user")
            kept += 1
        clips.append(clip)
    return dataclasses.replace(plan, clips=tuple(clips)), kept
