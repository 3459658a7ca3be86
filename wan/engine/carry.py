"""Continuation in latent space: the frames a clip carries over are encoded once and re-imposed on
the clip's first latents after every denoising step, noised to the level of the step to come.

The carried frames are 4n+1 (5 by default): the VAE packs the first frame alone and then four per
latent, so they fill whole latents and no latent mixes known and unknown frames. Re-imposing them at
the current noise level (flow matching: x = (1 - sigma) x0 + sigma noise) keeps the model denoising
the new frames against the known ones at every step, the way long-video tools make joins seamless;
for the last steps (STOP_FRACTION of them) the model is left alone, so it can settle the join
instead of being pinned to frames it did not make.
"""

from __future__ import annotations

import numpy as np

STOP_FRACTION = 0.2


def latent_frames(count: int) -> int:
    """How many latent frames `count` video frames fill (4n+1 frames fill n+1 exactly)."""
    return 0 if count <= 0 else 1 + (count - 1) // 4


def encode(pipe, frames: list[np.ndarray]):
    """The frames (uint8 RGB) as normalised latents (1, z, t, h, w), as the Wan pipelines normalise
    their own: (latent - latents_mean) / latents_std from the VAE's config."""
    import torch

    vae = pipe.vae
    x = torch.from_numpy(np.stack(frames)).float().div(127.5).sub(1.0).permute(3, 0, 1, 2)[None]
    # The pipeline's execution device, as its own prepare_* steps use: under model offload the VAE
    # waits on the CPU and its hook moves only the weights to the GPU, not the input.
    x = x.to(device=pipe._execution_device, dtype=vae.dtype)
    with torch.no_grad():
        latents = vae.encode(x).latent_dist.mode().float()
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(latents)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(latents)
    return (latents - mean) / std


class LatentCarry:
    """A callback_on_step_end that re-imposes `known` (1, z, k, h, w) on the clip's first k latent
    frames, which sit after `offset` latents the pipeline puts first (VACE's reference images)."""

    def __init__(self, known, steps: int, seed: int, stop_fraction: float = STOP_FRACTION, offset: int = 0) -> None:
        import torch

        self.known, self.offset = known, offset
        generator = torch.Generator(device="cpu").manual_seed(seed)
        self.noise = torch.randn(known.shape, generator=generator, dtype=torch.float32).to(known)
        self.until = steps - max(1, round(steps * stop_fraction)) if steps > 1 else 0
        self.injected: list[float] = []  # the noise level of each re-imposition, for the manifest

    def __call__(self, pipe, step: int, timestep, callback_kwargs: dict) -> dict:
        if step + 1 > self.until:
            return callback_kwargs
        scheduler = pipe.scheduler
        index = getattr(scheduler, "step_index", None)
        sigmas = getattr(scheduler, "sigmas", None)
        if index is None or sigmas is None or index >= len(sigmas):
            return callback_kwargs
        sigma = float(sigmas[index])  # the noise level the next step starts from
        latents = callback_kwargs["latents"]
        if latents.shape[-2:] != self.known.shape[-2:]:  # a recovery lowered the resolution: follow it
            import torch.nn.functional as F

            size = (self.known.shape[2], *latents.shape[-2:])
            self.known = F.interpolate(self.known, size=size, mode="trilinear", align_corners=False)
            self.noise = F.interpolate(self.noise, size=size, mode="nearest")
        k, r = self.known.shape[2], self.offset
        known = self.known.to(device=latents.device, dtype=latents.dtype)
        noise = self.noise.to(device=latents.device, dtype=latents.dtype)
        latents[:, :, r : r + k] = (1.0 - sigma) * known + sigma * noise
        callback_kwargs["latents"] = latents
        self.injected.append(round(sigma, 4))
        return callback_kwargs
