"""Fault injection at the true boundaries (the GPU's memory, the disk), for tests and drills:
WAN_WEAVE_FAULT="oom@1,enospc@2" makes clip 1's first model call run out of GPU memory and
clip 2's first file write find the disk full, once each per process. Unset, it costs nothing."""

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
