"""Keyframe schedules case by case: Deforum's rules (checked against the oracle), our documented
extensions where Deforum crashes, and refused input."""

from __future__ import annotations

import numpy as np
import pytest

from movement import SettingsError, evaluate_schedule, parse_keyframes
from tests.movement.deforum_oracle import DeforumCrash, deforum_schedule

# ---------------------------------------------------------------------------------------------
# Explicit examples of Deforum's rules
# ---------------------------------------------------------------------------------------------


def assert_close(actual, desired) -> None:
    np.testing.assert_allclose(actual, desired, rtol=1e-12, atol=1e-12)


def both(text: str, max_frames: int, seed: int = -1) -> np.ndarray:
    ours = evaluate_schedule(text, max_frames=max_frames, seed=seed)
    np.testing.assert_allclose(ours, deforum_schedule(text, max_frames=max_frames, seed=seed), rtol=1e-12, atol=1e-12)
    return ours


def test_single_number_held_everywhere() -> None:
    assert_close(both("0: (0.5)", 6), [0.5] * 6)


def test_held_after_last_key() -> None:
    assert_close(both("0: (0), 4: (2)", 8), [0, 0.5, 1, 1.5, 2, 2, 2, 2])


def test_held_before_first_valid_value() -> None:
    # sqrt(t-3) is NaN for t < 3: Deforum copies the first valid value back to frame 0.
    out = both("0: (sqrt(t-3)), 7: (5)", 9)
    np.testing.assert_allclose(out[:4], [0, 0, 0, 0])
    np.testing.assert_allclose(out[4:7], np.sqrt([1, 2, 3]))
    np.testing.assert_allclose(out[7:], [5, 5])


def test_nan_frames_between_keys_are_interpolated() -> None:
    # NaN from frame 1 to 4 (log of a negative), known at 0 and 5: linear fill.
    out = both("0: (1), 1: (log(t-10)), 5: (6)", 6)
    np.testing.assert_allclose(out, [1, 2, 3, 4, 5, 6])


def test_linear_interpolation() -> None:
    np.testing.assert_allclose(both("0: (0), 10: (1)", 11), np.linspace(0, 1, 11), rtol=0, atol=1e-15)
    np.testing.assert_allclose(both("0:(10), 2:(-10), 4:(0)", 5), [10, 0, -10, -5, 0])


def test_keys_at_or_after_max_frames_are_ignored() -> None:
    # Not interpolated toward the ignored key: the last key below max_frames is held.
    assert_close(both("0: (0), 5: (1), 100: (50)", 10), [0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1])
    assert_close(both("0: (3), 10: (50)", 10), [3] * 10)
    assert_close(both("0: (3), -5: (50)", 4), [3] * 4)


def test_bracketed_number_with_spaces_is_an_expression() -> None:
    # "( 1.0 )" does not match the number pattern (spaces), so Deforum evaluates it on every
    # frame until the next key: held, not interpolated.
    assert_close(both("0: ( 1.0 ), 4: (3.0)", 6), [1, 1, 1, 1, 3, 3])
    assert_close(both("0: (1.0), 4: (3.0)", 6), [1, 1.5, 2, 2.5, 3, 3])


def test_exponent_notation_is_an_expression() -> None:
    assert_close(both("0: (1e-3), 4: (1)", 6), [0.001] * 4 + [1, 1])
    assert_close(both("0: (2.), 2: (4)", 4), [2, 2, 4, 4])


def test_quoted_and_bracketed_numbers() -> None:
    assert_close(both("0: '3', 2: ((5)), 4: \"-1\"", 5), [3, 4, 5, 2, -1])
    assert_close(both("0: +3, 2: .25", 3), [3, 1.625, 0.25])
    # sanitize removes every quote and bracket, so (1)(2) is the number 12.
    assert_close(both("0: (1)(2)", 2), [12, 12])


def test_expression_frame_keys() -> None:
    # max_f = max_frames - 1 = 9; "max_f-2" is frame 7.
    out = both("0: (0), \"max_f-2\": (7), 'max_f': (0)", 10)
    assert_close(out, [0, 1, 2, 3, 4, 5, 6, 7, 3.5, 0])
    assert_close(both("0: (0), max_f/2: (1)", 10), [0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1])


def test_default_seed_schedule_with_seed_42() -> None:
    out = both('0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)', 10, seed=42)
    assert_close(out, [42, -1, -1, -1, -1, -1, -1, -1, 42, 42])
    # With three frames "max_f-2" is frame 0 and "max_f-1" frame 1: later duplicates win.
    assert_close(both('0:(s), 1:(-1), "max_f-2":(-1), "max_f-1":(s)', 3, seed=42), [-1, 42, 42])


def test_duplicate_keys_last_wins() -> None:
    assert_close(both("0: (1), 0: (2), 2: (4), 2: (8)", 3), [2, 5, 8])
    assert_close(both("0: (1), 00: (2), +0: (3)", 2), [3, 3])


def test_expression_is_evaluated_per_frame() -> None:
    out = both("0: (t*2), 3: (10)", 5)
    assert_close(out, [0, 2, 4, 10, 10])
    np.testing.assert_allclose(both("0:(1+0.5*sin(t/10))", 30), 1 + 0.5 * np.sin(np.arange(30) / 10))


def test_integer_division_and_modulo_inside_values() -> None:
    assert_close(both("0: (t/4)", 5), [0, 0.25, 0.5, 0.75, 1])
    assert_close(both("0: (t%3-1)", 5), [-1, 0, 1, -1, 0])
    assert_close(both("0: ((t-3)%4)", 5), [1, 2, 3, 0, 1])


def test_comparisons_multiply_as_numbers() -> None:
    assert_close(both("0: ((t>2)*1.5)", 5), [0, 0, 0, 1.5, 1.5])


def test_max_frames_one() -> None:
    assert_close(both("0: (7)", 1), [7])
    assert_close(both("0: (7), 1: (9)", 1), [7])


def test_result_is_read_only() -> None:
    out = evaluate_schedule("0: (1)", max_frames=3)
    with pytest.raises(ValueError):
        out[0] = 2


# ---------------------------------------------------------------------------------------------
# Documented extensions: inputs on which Deforum crashes, and what we do instead
# ---------------------------------------------------------------------------------------------


def crashes_in_deforum(text: str, max_frames: int = 10) -> bool:
    try:
        deforum_schedule(text, max_frames=max_frames, seed=-1)
    except DeforumCrash:
        return True
    return False


def test_missing_frame_zero_holds_first_key_backwards() -> None:
    assert crashes_in_deforum("10: (5), 20: (7)", 30)
    out = evaluate_schedule("10: (5), 20: (7)", max_frames=30)
    np.testing.assert_allclose(out[:11], 5)
    np.testing.assert_allclose(out[10:21], np.linspace(5, 7, 11))
    np.testing.assert_allclose(out[20:], 7)
    # An expression as first key: evaluated from its frame on, its first value held backwards.
    assert_close(evaluate_schedule("3: (t)", max_frames=6), [3, 3, 3, 3, 4, 5])


def test_commas_inside_brackets_belong_to_the_expression() -> None:
    assert crashes_in_deforum("0: (where(t>5, 1, 2))")
    assert_close(evaluate_schedule("0: (where(t>5, 1, 2))", max_frames=8), [2] * 6 + [1] * 2)
    out = evaluate_schedule("0: (arctan2(t, 2)), 5: (1)", max_frames=7)
    np.testing.assert_allclose(out, np.r_[np.arctan2(np.arange(5), 2), 1, 1])
    out = evaluate_schedule("0: (0), 2: (where(t > 3, t, 0)), 6: (1)", max_frames=8)
    assert_close(out, [0, 0, 0, 0, 4, 5, 1, 1])


def test_trailing_comma_is_ignored() -> None:
    assert crashes_in_deforum("0: (1), 4: (2),")
    expected = deforum_schedule("0: (1), 4: (2)", max_frames=6, seed=-1)
    assert_close(evaluate_schedule("0: (1), 4: (2),", max_frames=6), expected)
    assert_close(evaluate_schedule("0: (1), , 4: (2), ", max_frames=6), expected)


@pytest.mark.parametrize("value", [0.5, 3, -2, 0])
def test_bare_json_number_is_a_constant(value: float) -> None:
    (kf,) = parse_keyframes(value, max_frames=5)
    assert kf.frame == 0 and kf.number == float(value) and kf.expression is None
    assert_close(evaluate_schedule(value, max_frames=5), [float(value)] * 5)


# ---------------------------------------------------------------------------------------------
# Refused input: SettingsError naming the key
# ---------------------------------------------------------------------------------------------

BAD = [
    "",
    "   ",
    "abc",
    "0:",
    "0: ()",
    "0: ( )",
    "5",
    "1.5: (1)",
    "+: (1)",
    "0: (+)",
    "0: (log(-1))",
    "0: (1/0)",
    "0: (t",
    "0: (t)), 1: (2",
    "0: (foo)",
    "0: ('abc')",
    "0: (__import__('os').system('echo pwned'))",
    "0: (t.real)",
    "max_f+: (1)",
    "'abc': (1)",
    "0: (1), 1: ",
    "1e400: (1)",
    "0: (1e400)",
    "0: (" + "9" * 400 + ")",
    "0: (exp(t*1000))",
]


@pytest.mark.parametrize("text", BAD)
def test_bad_input_raises_settings_error_naming_the_key(text: str) -> None:
    with pytest.raises(SettingsError) as info:
        evaluate_schedule(text, max_frames=10, seed=-1, key="zoom", file="my_settings.txt")
    assert info.value.key == "zoom"
    assert info.value.file == "my_settings.txt"
    assert "key 'zoom'" in str(info.value)
    assert "my_settings.txt" in str(info.value)


def test_nan_everywhere_and_infinity_messages() -> None:
    with pytest.raises(SettingsError, match="NaN everywhere"):
        evaluate_schedule("0: (log(-1))", max_frames=5, key="zoom")
    with pytest.raises(SettingsError, match="not a finite number") as info:
        evaluate_schedule("0: (1), 3: (1/(t-4))", max_frames=6, key="zoom")
    assert info.value.frame == 4


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, None, [1], {"0": 1}, b"0:(1)"])
def test_non_schedule_values_raise(value: object) -> None:
    with pytest.raises(SettingsError) as info:
        evaluate_schedule(value, max_frames=5, key="angle")  # type: ignore[arg-type]
    assert info.value.key == "angle"


@pytest.mark.parametrize(
    "text",
    [
        "0: (" + "1+" * 500_000 + "1)",
        "0:(1)," * 200_000,
        "0: " + "(" * 600_000 + "1" + ")" * 600_000,
        "," * 1_000_000,
        "0: (" + "t" * 1_000_000 + ")",
        "0: (where(t>5" + ", 1" * 300_000,
    ],
    ids=["1+1+...", "many-keys", "nested", "commas", "long-name", "open-call"],
)
def test_megabyte_strings_raise(text: str) -> None:
    with pytest.raises(SettingsError) as info:
        evaluate_schedule(text, max_frames=10, key="zoom")
    assert info.value.key == "zoom"


def test_large_schedule_below_the_limit_is_evaluated() -> None:
    # ~390 KB of distinct keyframes is under the size limit: accepted and evaluated (about 2 s).
    text = ",".join(f"{i}:(t*{i % 97}+{i})" for i in range(25_000))
    out = evaluate_schedule(text, max_frames=30_000)
    assert out.shape == (30_000,)
    slope = 24_999 % 97  # the last key's expression runs on to the end
    assert out[24_999] == 24_999 * slope + 24_999 and out[-1] == 29_999 * slope + 24_999


# ---------------------------------------------------------------------------------------------
# Discrepancies with Deforum found by these tests (see the report); strict xfail until fixed
# ---------------------------------------------------------------------------------------------


def test_runtime_negative_integer_exponent_matches_deforum() -> None:
    both("0: (2**(t-3))", 6)


def test_float_modulo_matches_deforum() -> None:
    both("0: (t % 0.1)", 5)


def test_sum_of_comparisons_matches_deforum() -> None:
    both("0: ((t>1)+(t>2))", 5)


@pytest.mark.parametrize("text", ["0: (0), 200: (foo)", "0: (foo), 0: (1)", "0: (1), -1: ()"])
def test_bad_value_deforum_never_reads_is_accepted(text: str) -> None:
    both(text, 100)
