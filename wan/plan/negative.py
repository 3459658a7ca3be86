"""The negative prompt WAN is sent: the user's (from Deforum's negative prompts) first, then the
official default that the Wan repositories always send.

Sources (docs/models.md): Wan2.1 and Wan2.2 `wan/configs/shared_config.py` (`sample_neg_prompt`,
identical in both); Wan2.1 `wan/configs/wan_i2v_14B.py` prefixes "镜头晃动，" for I2V, and
`wan/configs/__init__.py` prefixes "镜头切换，" to that for FLF2V; Wan2.2 adds no prefix. The
official `generate()` replaces an empty negative with the default (`if n_prompt == "": n_prompt =
self.sample_neg_prompt`), so a model never sees an empty negative there; diffusers sends "".
"""

from __future__ import annotations

WAN_NEGATIVE = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，"
    "形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)
CAMERA_SHAKE = "镜头晃动，"  # Wan 2.1 I2V: "camera shake"
SHOT_CHANGE = "镜头切换，"  # Wan 2.1 FLF2V: "shot change"


def default_negative(model: str, pipeline: str) -> str:
    """The official default for `model` (a registry name) run through `pipeline`."""
    if not model.startswith("wan2.1") or pipeline != "WanImageToVideoPipeline":
        return WAN_NEGATIVE
    if "flf2v" in model:
        return SHOT_CHANGE + CAMERA_SHAKE + WAN_NEGATIVE
    return CAMERA_SHAKE + WAN_NEGATIVE


def negative_prompt(user: str, model: str, pipeline: str) -> str:
    """The user's negative on top of the official default."""
    user = user.strip().rstrip(",，")
    default = default_negative(model, pipeline)
    return f"{user}，{default}" if user else default
