"""Fault injection at the true boundaries (the GPU's memory, the disk), for tests and drills:
WAN_WEAVE_FAULT="oom@1,enospc@2" makes clip 1's first transformer call run out of GPU memory (inside
the denoising loop, after the noise was drawn, where a real one strikes) and clip 2's first file
write find the disk full, once each per process. Unset, it costs nothing."""

from __future__ import annotations

import os

_fired: set[str] = set()


def should_fail(kind: str, clip: int) -> bool:
    spec = os.environ.get("WAN_WEAVE_FAULT", "")
    key = f"{kind}@{clip}"
    if key in (s.strip() for s in spec.split(",")) and key not in _fired:
        _fired.add(key)
        return True
    return False


def arm_oom(transformer, clip: int):
    """A forward pre-hook that raises CUDA's out-of-memory error in `transformer`'s first call for
    `clip` when WAN_WEAVE_FAULT asks; returns the hook's handle (remove it after the call) or None."""
    if f"oom@{clip}" not in os.environ.get("WAN_WEAVE_FAULT", "") or transformer is None:
        return None

    def strike(module, args):
        if should_fail("oom", clip):
            import torch

            raise torch.OutOfMemoryError("CUDA out of memory (injected by WAN_WEAVE_FAULT)")

    return transformer.register_forward_pre_hook(strike)
