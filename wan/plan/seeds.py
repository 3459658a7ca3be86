"""A seed per clip from Deforum's seed_behavior.

Deforum calls next_seed once per diffused frame; a WAN clip is one generation, so each clip takes
the next seed of the same sequence: iter (S, S+1, ... with seed_iter_N repeats as Deforum counts
them), fixed, ladder (S, S+2, S+1, S+3, ...), alternate (S, S+1, S, ...), random (a seeded,
reproducible draw per clip) and schedule (seed_schedule at the clip's first frame).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

MAX_SEED = 2**32 - 1


def clip_seeds(
    behavior: str, base: int, count: int, *, iter_n: int = 1, start_frames: Sequence[int] = (), schedule=None
) -> tuple[int, ...]:
    if behavior == "schedule":
        if schedule is None:
            raise ValueError("seed_behavior 'schedule' needs the seed_schedule series")
        return tuple(int(schedule[f]) % (MAX_SEED + 1) for f in start_frames[:count])
    if behavior == "random":
        rng = random.Random(base)
        return tuple([base] + [rng.randint(0, MAX_SEED) for _ in range(count - 1)])[:count]
    seeds, seed, internal = [], base, 0
    for _ in range(count):
        seeds.append(seed % (MAX_SEED + 1))
        if behavior == "iter":
            seed += 1 if internal % iter_n == 0 else 0
            internal += 1
        elif behavior == "ladder":
            seed += 2 if internal == 0 else -1
            internal = 1 - internal
        elif behavior == "alternate":
            seed += 1 if internal == 0 else -1
            internal = 1 - internal
        elif behavior != "fixed":
            raise ValueError(f"unknown seed_behavior {behavior!r}")
    return tuple(seeds)
