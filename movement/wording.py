"""Structured movements -> short camera directions in English and Chinese.

The wording is fixed (no randomness) so a prompt cache keyed on it stays valid and tests can
rely on it. The first movement is the dominant one; the others are joined as simultaneous.
"""

from __future__ import annotations

from .vocabulary import Movement

_ADJ_EN = {"subtle": "subtle", "gentle": "slow", "moderate": "smooth", "strong": "fast"}
_ADV_EN = {"subtle": "subtly", "gentle": "slowly", "moderate": "smoothly", "strong": "quickly"}
_DUR_EN = {"brief": "brief ", "extended": "", "sustained": "continuous "}
_NOUN_EN = {
    "pan_left": "pan left",
    "pan_right": "pan right",
    "tilt_up": "tilt up",
    "tilt_down": "tilt down",
    "roll_clockwise": "clockwise roll",
    "roll_counterclockwise": "counterclockwise roll",
    "dolly_in": "dolly in",
    "dolly_out": "dolly out",
    "truck_left": "truck left",
    "truck_right": "truck right",
    "pedestal_up": "pedestal up",
    "pedestal_down": "pedestal down",
    "zoom_in": "zoom in",
    "zoom_out": "zoom out",
}
_GERUND_EN = {
    "pan_left": "panning left",
    "pan_right": "panning right",
    "tilt_up": "tilting up",
    "tilt_down": "tilting down",
    "roll_clockwise": "rolling clockwise",
    "roll_counterclockwise": "rolling counterclockwise",
    "dolly_in": "dollying in",
    "dolly_out": "dollying out",
    "truck_left": "trucking left",
    "truck_right": "trucking right",
    "pedestal_up": "rising",
    "pedestal_down": "descending",
    "zoom_in": "zooming in",
    "zoom_out": "zooming out",
}
_OSC_EN = {
    "pan": ("back-and-forth pan", "panning back and forth"),
    "tilt": ("up-and-down tilt", "tilting up and down"),
    "roll": ("rocking roll", "rocking side to side"),
    "dolly": ("in-and-out dolly", "dollying in and out"),
    "truck": ("side-to-side truck", "trucking side to side"),
    "pedestal": ("up-and-down pedestal", "rising and falling"),
    "zoom": ("pulsing zoom", "zooming in and out"),
}

_ADJ_ZH = {"subtle": "轻微", "gentle": "缓慢", "moderate": "平稳", "strong": "快速"}
_DUR_ZH = {"brief": "短暂", "extended": "", "sustained": "持续"}
_VERB_ZH = {
    "pan_left": "向左摇",
    "pan_right": "向右摇",
    "tilt_up": "向上摇",
    "tilt_down": "向下摇",
    "roll_clockwise": "顺时针旋转",
    "roll_counterclockwise": "逆时针旋转",
    "dolly_in": "推进",
    "dolly_out": "后拉",
    "truck_left": "向左平移",
    "truck_right": "向右平移",
    "pedestal_up": "上升",
    "pedestal_down": "下降",
    "zoom_in": "变焦放大",
    "zoom_out": "变焦缩小",
}
_OSC_ZH = {
    "pan": "左右摇摆",
    "tilt": "上下摇摆",
    "roll": "来回旋转",
    "dolly": "前后移动",
    "truck": "左右平移",
    "pedestal": "上下移动",
    "zoom": "来回变焦",
}


def _groups(movements: tuple[Movement, ...], axes: tuple[str, ...]) -> list[tuple[Movement, str, bool]]:
    """(movement, axis, oscillates): both directions of one axis become one back-and-forth move."""
    out: list[tuple[Movement, str, bool]] = []
    seen: dict[str, int] = {}
    for movement, axis in zip(movements, axes):
        if axis in seen:
            first = out[seen[axis]]
            out[seen[axis]] = (first[0], axis, True)
            continue
        seen[axis] = len(out)
        out.append((movement, axis, False))
    return out


def describe_en(movements: tuple[Movement, ...], axes: tuple[str, ...]) -> str:
    if not axes:
        return "static camera"
    parts = []
    for i, (m, axis, osc) in enumerate(_groups(movements, axes)):
        if i == 0:
            noun = _OSC_EN[axis][0] if osc else _NOUN_EN[m.type]
            parts.append(f"{_DUR_EN[m.duration]}{_ADJ_EN[m.intensity]} {noun}")
        else:
            gerund = _OSC_EN[axis][1] if osc else _GERUND_EN[m.type]
            parts.append(f"{'while' if i == 1 else 'and'} {_ADV_EN[m.intensity]} {gerund}")
    return " ".join(parts)


def describe_zh(movements: tuple[Movement, ...], axes: tuple[str, ...]) -> str:
    if not axes:
        return "固定镜头"
    parts = []
    for i, (m, axis, osc) in enumerate(_groups(movements, axes)):
        verb = _OSC_ZH[axis] if osc else _VERB_ZH[m.type]
        if i == 0:
            parts.append(f"镜头{_DUR_ZH[m.duration]}{_ADJ_ZH[m.intensity]}{verb}")
        else:
            parts.append(f"同时{_ADJ_ZH[m.intensity]}{verb}")
    return "，".join(parts)
