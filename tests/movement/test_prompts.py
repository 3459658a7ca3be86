from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movement import SettingsError, build_prompt_schedule, settings_from_mapping
from movement.prompts import render_prompt


def schedule(prompts, max_frames=100, **extra):
    return build_prompt_schedule(settings_from_mapping({"max_frames": max_frames, "prompts": prompts, **extra}))


def deforum_prompt_series(prompts: dict[str, str], max_frames: int) -> list[str]:
    """Oracle: the per-frame prompt series as Deforum's render.py builds it (pandas labels, ffill, bfill)."""
    series = pd.Series([np.nan for _ in range(max_frames)], dtype=object)
    max_f = max_frames - 1
    for key, prompt in prompts.items():
        label = int(key) if str(key).isdigit() else int(eval(key, {}, {"max_f": max_f}))  # trusted test input
        series[label] = prompt
    return list(series.ffill().bfill())[:max_frames]


def test_prompt_holds_until_next_key_and_first_covers_the_start():
    p = schedule({"10": "a", "50": "b"})
    assert [p.prompt_at(f).positive for f in (0, 9, 10, 49, 50, 99)] == ["a", "a", "a", "a", "b", "b"]


def test_expression_keys_use_max_f():
    p = schedule({"0": "a", "max_f-60": "b", "max_f/2": "c"}, max_frames=121)
    assert [k.frame for k in p.keyframes()] == [0, 60]  # max_f-60 == 60 == int(max_f/2)
    assert p.prompt_at(60).positive == "c"  # a later duplicate wins


def test_keys_past_the_end_never_start_a_prompt():
    p = schedule({"0": "a", "100": "late", "250": "later"}, max_frames=100)
    assert [k.frame for k in p.keyframes()] == [0]
    assert p.prompt_at(99).positive == "a"


def test_all_keys_past_the_end_fall_back_like_deforum():
    p = schedule({"300": "x", "200": "y"}, max_frames=100)
    assert p.prompt_at(0).positive == deforum_prompt_series({"300": "x", "200": "y"}, 100)[0] == "x"


def test_neg_split_and_global_positive_negative_like_deforum():
    p = schedule(
        {"0": "a cat (fluffy:1.2)", "10": "a dog --neg blurry"},
        animation_prompts_positive="best",
        animation_prompts_negative="--neg ugly",
    )
    cat, dog = p.keyframes()
    assert (cat.positive, cat.negative) == ("best a cat (fluffy:1.2)", "ugly")
    # Deforum appends the global negative after the prompt's own one, with its double space.
    assert (dog.positive, dog.negative) == ("best a dog", "blurry   ugly")


def test_backtick_math_is_evaluated_at_the_frame():
    p = schedule({"0": "a (cat:`0.5+t/100`) `max_f` `t%2==0`"}, max_frames=51)
    assert p.prompt_at(0).positive == "a (cat:0.5) 50 True"
    assert p.prompt_at(25).positive == "a (cat:0.75) 50 False"
    assert render_prompt("`t*2` x", 7, 10).positive == "14 x"


def test_backtick_math_with_forbidden_code_is_refused():
    with pytest.raises(SettingsError, match="backtick"):
        render_prompt("`__import__('os')`", 0, 10)


@pytest.mark.parametrize("key", ["t+5", "__import__('os')", "max_f-", "1/0"])
def test_bad_prompt_keys(key):
    with pytest.raises(SettingsError) as info:
        schedule({"0": "a", key: "b"})
    assert info.value.key == "prompts"


def test_ranges_follow_prompt_keys():
    p = schedule({"0": "a", "30": "b", "30 ": "b2", "70": "c"})
    assert [(r.start_frame, r.end_frame) for r in p.ranges()] == [(0, 30), (30, 70), (70, 100)]
    assert [(r.start_frame, r.end_frame) for r in p.ranges(20, 40)] == [(20, 30), (30, 40)]


def test_no_prompts_is_a_clear_error_when_asked():
    p = schedule({})
    assert p.keyframes() == ()
    with pytest.raises(SettingsError, match="no prompts"):
        p.prompt_at(0)


keys = st.one_of(
    st.integers(0, 140).map(str),
    st.integers(0, 60).map(lambda n: f"max_f-{n}"),
    st.integers(1, 4).map(lambda n: f"max_f/{n}"),
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, st.text("abc xyz", min_size=1, max_size=6), min_size=1, max_size=6), st.integers(1, 120))
def test_every_frame_matches_deforums_series(prompts, max_frames):
    p = schedule(prompts, max_frames=max_frames)
    expected = deforum_prompt_series({k: f" {v} --neg " for k, v in prompts.items()}, max_frames)
    got = [p.keys[p.key_index_at(f)].text for f in range(max_frames)]
    assert got == expected
