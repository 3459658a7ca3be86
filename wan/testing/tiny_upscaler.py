"""A tiny random-weight ESRGAN upscaler, built from spandrel's own RRDBNet so spandrel detects and
loads it exactly as it does a downloaded RealESRGAN/ESRGAN file (old-arch keys: model.0.weight,
model.1.sub.0.RDB1.conv1.0.weight, ...).

One RRDB block and 8 features keep it a few hundred KB and fast on a CPU; one block also keeps its
receptive field (about 19 input pixels) inside the upscaler's tile context, so tiled and whole-frame
output can be compared exactly.
"""

from __future__ import annotations

import os

TINY_UPSCALER = "tiny-esrgan-x2"


def _rrdbnet():
    from wan.media.upscale import import_spandrel

    import_spandrel()
    from spandrel.architectures import ESRGAN as arch

    # spandrel 0.4 exports the class as ESRGAN; 0.3.4 (Forge and A1111) only as RRDBNet.
    return getattr(arch, "ESRGAN", None) or arch.RRDBNet


def make_tiny_upscaler(path: str, scale: int = 2, seed: int = 0, unshuffle: bool = False) -> str:
    """Write a tiny ESRGAN with `scale` (a power of two: one upconv block per doubling) to `path`
    (.safetensors or .pth); returns `path`. `unshuffle` makes it RealESRGAN x2plus-shaped: the input
    is pixel-unshuffled by 2 (12 channels in), so spandrel requires sizes that are multiples of 4."""
    import torch

    if scale < 2 or scale & (scale - 1):
        raise ValueError(f"ESRGAN scales are powers of two, got {scale}")
    torch.manual_seed(seed)
    if unshuffle:
        model = _rrdbnet()(in_nc=12, out_nc=3, num_filters=8, num_blocks=1, scale=scale * 2, shuffle_factor=2)
    else:
        model = _rrdbnet()(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=scale)
    with torch.no_grad():
        # PyTorch's default init shrinks the signal through ~20 stacked convs (the output would be
        # flat grey, and every tiled/untiled comparison trivially equal); a gain keeps it alive, then
        # the last conv is calibrated on a fixed probe to a textured image around mid-grey, well
        # inside spandrel's [0, 1] clamp.
        params = [t for _, t in model.named_parameters()]
        for tensor in params:
            if tensor.ndim > 1:
                tensor.mul_(1.8)
            else:
                tensor.zero_()
        probe = torch.rand((1, 3, 32, 32), generator=torch.Generator().manual_seed(seed))
        out = model(probe)
        params[-2].mul_(0.15 / out.std().clamp_min(1e-6).item())
        params[-1].copy_(0.5 - model(probe).mean(dim=(0, 2, 3)))
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if path.endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file(state, path)
    else:
        torch.save(state, path)
    return path


def make_tiny_upscalers(root: str) -> dict[str, str]:
    """The tiny upscaler where the worker looks for upscalers (`root/upscale`), for make-tiny-models."""
    return {TINY_UPSCALER: make_tiny_upscaler(os.path.join(root, "upscale", f"{TINY_UPSCALER}.safetensors"))}
