"""What the worker's package stack needs from the torch it runs on (the WebUI's own torch in a host:
the overlay never replaces it). Pure: install.py reads it too, before anything is installed."""

from __future__ import annotations

import re

# diffusers 0.42 declares torch>=2.6, and transformers 5 turns PyTorch off below 2.6 (its models
# then fail to load with misleading errors).
MIN_TORCH = (2, 6)


def torch_problem(version: str | None) -> str | None:
    """Why the torch `version` cannot run the worker; None when it can."""
    wanted = ".".join(map(str, MIN_TORCH))
    if version is None:
        return f"torch is not installed (the worker needs torch >= {wanted})"
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None or (int(match.group(1)), int(match.group(2))) < MIN_TORCH:
        return f"the worker needs torch >= {wanted}; this Python has torch {version}"
    return None


HINT = ("upgrade the WebUI's torch (its venv: pip install 'torch>=2.6' with the CUDA build for your GPU), "
        "or point --wan-weave-worker-python at a Python that has it")  # fmt: skip
