"""The WAN model families: pure data the plan validates against.

Facts from the diffusers Wan docs and the Wan-AI model cards; steps, guidance and shift are the
official repositories' defaults (Wan2.1 generate.py, Wan2.2 wan/configs/*: docs/models.md cites them).
The FLF2V checkpoint serves only flf2v_keyframes: diffusers' I2V call without a last image fails on it.
The generation engine ([C]) adds loading details; the plan needs only timing, sizes and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("t2v", "i2v_chain", "vace_continue", "flf2v_keyframes", "v2v_guide", "vace_guide")
GUIDED_MODES = ("vace_guide", "v2v_guide")  # the Deforum camera reaches the model as a guide video


@dataclass(frozen=True)
class ModelSpec:
    name: str
    label: str
    repo_id: str
    pipeline: str
    modes: tuple[str, ...]
    fps: int
    max_frames: int  # the frame count the model was trained for (4n+1)
    native_size: tuple[int, int]  # width, height
    max_area: int  # largest width*height we accept
    size_multiple: int  # VAE spatial compression x patch size
    steps: int
    guidance: float
    shift: float
    guidance_2: float | None = None
    boundary_ratio: float | None = None

    @property
    def native_area(self) -> int:
        return self.native_size[0] * self.native_size[1]


_480, _720 = (832, 480), (1280, 720)
_I2V, _VACE = "WanImageToVideoPipeline", "WanVACEPipeline"
# fmt: off
#  name                    label                     repo id (Wan-AI/...)                pipeline       modes                                fps frames size          max area     mult steps guid shift guid2 boundary
_TABLE = (
    ("wan2.1-t2v-1.3b",       "Wan 2.1 T2V 1.3B",       "Wan2.1-T2V-1.3B-Diffusers",        "WanPipeline", ("t2v", "v2v_guide"),               16, 81,  _480,         832 * 480,   16, 50, 5.0, 5.0,  None, None),
    ("wan2.1-t2v-14b",        "Wan 2.1 T2V 14B",        "Wan2.1-T2V-14B-Diffusers",         "WanPipeline", ("t2v", "v2v_guide"),               16, 81,  _720,         1280 * 720,  16, 50, 5.0, 5.0,  None, None),
    ("wan2.1-i2v-14b-480p",   "Wan 2.1 I2V 14B 480P",   "Wan2.1-I2V-14B-480P-Diffusers",    _I2V,          ("i2v_chain",),                      16, 81,  _480,         832 * 480,   16, 40, 5.0, 3.0,  None, None),
    ("wan2.1-i2v-14b-720p",   "Wan 2.1 I2V 14B 720P",   "Wan2.1-I2V-14B-720P-Diffusers",    _I2V,          ("i2v_chain",),                      16, 81,  _720,         1280 * 720,  16, 40, 5.0, 5.0,  None, None),
    ("wan2.1-flf2v-14b-720p", "Wan 2.1 FLF2V 14B 720P", "Wan2.1-FLF2V-14B-720P-diffusers",  _I2V,          ("flf2v_keyframes",),                16, 81,  _720,         1280 * 720,  16, 50, 5.0, 16.0, None, None),
    ("wan2.1-vace-1.3b",      "Wan 2.1 VACE 1.3B",      "Wan2.1-VACE-1.3B-diffusers",       _VACE,         ("vace_guide", "vace_continue", "t2v"),          16, 81,  _480,         832 * 480,   16, 50, 5.0, 16.0, None, None),
    ("wan2.1-vace-14b",       "Wan 2.1 VACE 14B",       "Wan2.1-VACE-14B-diffusers",        _VACE,         ("vace_guide", "vace_continue", "t2v"),          16, 81,  _720,         1280 * 720,  16, 50, 5.0, 16.0, None, None),
    ("wan2.2-ti2v-5b",        "Wan 2.2 TI2V 5B",        "Wan2.2-TI2V-5B-Diffusers",         "WanPipeline", ("t2v", "i2v_chain"),                24, 121, (1280, 704),  1280 * 704,  32, 50, 5.0, 5.0,  None, None),
    ("wan2.2-t2v-a14b",       "Wan 2.2 T2V A14B",       "Wan2.2-T2V-A14B-Diffusers",        "WanPipeline", ("t2v",),                            16, 81,  _720,         1280 * 720,  16, 40, 4.0, 12.0, 3.0,  0.875),
    ("wan2.2-i2v-a14b",       "Wan 2.2 I2V A14B",       "Wan2.2-I2V-A14B-Diffusers",        _I2V,          ("i2v_chain",),                      16, 81,  _720,         1280 * 720,  16, 40, 3.5, 5.0,  3.5,  0.9),
)
# fmt: on
MODELS: tuple[ModelSpec, ...] = tuple(
    ModelSpec(name, label, f"Wan-AI/{repo}", pipe, modes, fps, frames, size, area, mult, steps, guid, shift, g2, ratio)
    for name, label, repo, pipe, modes, fps, frames, size, area, mult, steps, guid, shift, g2, ratio in _TABLE
)
DEFAULT_MODEL = {
    "t2v": "wan2.1-t2v-1.3b",
    "i2v_chain": "wan2.1-i2v-14b-480p",
    "vace_continue": "wan2.1-vace-1.3b",
    "flf2v_keyframes": "wan2.1-flf2v-14b-720p",
    "v2v_guide": "wan2.1-t2v-1.3b",
    "vace_guide": "wan2.1-vace-1.3b",
}


def model_names() -> tuple[str, ...]:
    return tuple(m.name for m in MODELS)


def get_model(name: str) -> ModelSpec | None:
    key = name.strip().lower()
    return next((m for m in MODELS if m.name == key), None)
