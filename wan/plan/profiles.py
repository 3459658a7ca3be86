"""Memory profiles: how much of the model lives on the GPU, and which one fits (pure, no torch).

- `full`: every component on the GPU (fastest);
- `balanced`: diffusers' model CPU offload (one component on the GPU at a time);
- `low`: group offloading of the big components, leaf by leaf, overlapped with CUDA streams;
- `minimal`: sequential CPU offload (layer by layer; slowest, least memory).
`low` and `minimal` also tile the VAE decode.

The estimates are coarse (bf16 weights, fp32 VAE, activations growing with tokens x width) and
only rank the profiles: `auto` takes the fastest one whose estimate fits in 90% of free VRAM and
says why. bench/gpu.py ([H]) measures the real peaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from wan.plan.registry import ModelSpec

PROFILES = ("full", "balanced", "low", "minimal")
TEXT_ENCODER_GB = 11.4  # UMT5-XXL encoder in bf16
IMAGE_ENCODER_GB = 1.3  # CLIP ViT-H of Wan 2.1 I2V / FLF2V
VAE_GB = 0.5
PARAMS_B = {"1.3b": 1.42, "5b": 5.0, "14b": 14.3}
HIDDEN = {"1.3b": 1536, "5b": 3072, "14b": 5120}
HEADROOM = 0.9


@dataclass(frozen=True)
class ProfileChoice:
    profile: str
    vae_tiling: bool
    estimate_gb: float
    reason: str


def _size(spec: ModelSpec) -> str:
    for size in ("1.3b", "5b", "14b"):
        if size in spec.name:
            return size
    return "14b"  # the A14B experts are 14B each


def tokens(spec: ModelSpec, width: int, height: int, frames: int) -> int:
    """Transformer sequence length: latent frames x latent height x latent width / patch."""
    return ((frames - 1) // 4 + 1) * (height // spec.size_multiple) * (width // spec.size_multiple)


def estimate_gb(spec: ModelSpec, profile: str, width: int, height: int, frames: int) -> float:
    size = _size(spec)
    transformer = PARAMS_B[size] * 2  # bf16
    image = IMAGE_ENCODER_GB if ("i2v" in spec.name and spec.name.startswith("wan2.1")) or "flf2v" in spec.name else 0.0
    activations = tokens(spec, width, height, frames) * HIDDEN[size] * 2 * 12 / 1e9  # ~12 live hidden-size tensors
    decode = 0.4 + width * height * frames * 3 * 4 * 6 / 1e9  # a few fp32 feature maps per frame
    tiled = 0.4 + decode / 8
    if profile == "full":
        experts = 2 if spec.boundary_ratio else 1
        return transformer * experts + TEXT_ENCODER_GB + image + VAE_GB + activations + decode
    if profile == "balanced":
        return max(transformer, TEXT_ENCODER_GB) + VAE_GB + activations + decode
    if profile == "low":
        return 0.15 * transformer + 1.0 + VAE_GB + activations + tiled
    if profile == "minimal":
        return 0.6 + VAE_GB + activations + tiled
    raise ValueError(f"unknown profile {profile!r}")


def choose_profile(spec: ModelSpec, free_gb: float, width: int, height: int, frames: int) -> ProfileChoice:
    """The fastest profile whose estimate fits in 90% of the free VRAM."""
    budget = free_gb * HEADROOM
    for profile in PROFILES:
        need = estimate_gb(spec, profile, width, height, frames)
        if need <= budget:
            return ProfileChoice(
                profile,
                profile in ("low", "minimal"),
                round(need, 1),
                f"{spec.label} at {width}x{height}x{frames} needs about {need:.1f} GB with '{profile}'; "
                f"{free_gb:.1f} GB free",
            )
    need = estimate_gb(spec, "minimal", width, height, frames)
    return ProfileChoice(
        "minimal",
        True,
        round(need, 1),
        f"even 'minimal' needs about {need:.1f} GB and only {free_gb:.1f} GB is free: it may run out of memory; "
        "lower the resolution or the frames per clip",
    )
