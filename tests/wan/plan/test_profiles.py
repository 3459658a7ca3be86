"""Choosing a memory profile from free VRAM (pure; applying one needs a GPU)."""

from __future__ import annotations

import pytest

from wan.plan.profiles import PROFILES, choose_profile, estimate_gb, tokens
from wan.plan.registry import MODELS, get_model


def test_the_issue_token_count_for_480p():
    spec = get_model("wan2.1-t2v-1.3b")
    assert tokens(spec, 832, 480, 81) == 32_760


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.name)
def test_each_profile_needs_less_than_the_one_before(spec):
    w, h = spec.native_size
    needs = [estimate_gb(spec, p, w, h, spec.max_frames) for p in PROFILES]
    assert needs == sorted(needs, reverse=True) and needs[-1] > 0


def test_auto_takes_the_fastest_profile_that_fits_and_says_why():
    spec = get_model("wan2.1-t2v-1.3b")
    roomy = choose_profile(spec, 80.0, 832, 480, 81)
    assert roomy.profile == "full" and not roomy.vae_tiling and "80.0 GB free" in roomy.reason
    small = choose_profile(spec, 8.0, 832, 480, 81)
    assert small.profile in ("low", "minimal") and small.vae_tiling
    assert small.estimate_gb <= 8.0 * 0.9
    hopeless = choose_profile(get_model("wan2.1-t2v-14b"), 2.0, 1280, 720, 81)
    assert hopeless.profile == "minimal" and "may run out of memory" in hopeless.reason


def test_more_free_memory_never_picks_a_slower_profile():
    spec = get_model("wan2.2-ti2v-5b")
    order = [PROFILES.index(choose_profile(spec, gb, 1280, 704, 121).profile) for gb in range(4, 120, 4)]
    assert order == sorted(order, reverse=True)


def test_the_recovery_ladder_goes_down_then_tiles_smaller_then_stops():
    from wan.plan.recovery import Attempt, next_attempt

    seen, current = [], Attempt("full", False, None, 832, 480, "")
    while (current := next_attempt(current, False, 16)) is not None:
        seen.append((current.profile, current.vae_tiling, current.tile))
    # Each tile step is really smaller than diffusers' 256 px default (it once re-set the default).
    assert seen == [("balanced", False, None), ("low", True, None), ("minimal", True, None),
                    ("minimal", True, 192), ("minimal", True, 128)]  # fmt: skip
    untiled = next_attempt(Attempt("minimal", False, None, 832, 480, ""), False, 16)
    assert (untiled.vae_tiling, untiled.tile) == (True, None) and "256 px" in untiled.reason
    smaller = next_attempt(Attempt("minimal", True, 128, 832, 480, ""), True, 16)
    assert (smaller.width, smaller.height) == (704, 400)
