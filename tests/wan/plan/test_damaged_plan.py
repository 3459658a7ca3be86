"""A damaged plan.json is a PlanError (one line, exit 2), never a traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movement import load_settings
from movement.errors import WanWeaveError
from tests.conftest import EXAMPLES, wan
from tests.damaged import HUGE, damaged, deep
from wan.plan.build import PlanOptions, build_plan
from wan.plan.errors import PlanError
from wan.plan.plan_json import plan_from_dict, plan_to_dict, plan_to_json, read_plan

VALID = plan_to_dict(build_plan(load_settings(EXAMPLES / "greenhouse_2d.txt"), PlanOptions(width=64, height=48)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(VALID))
def test_any_damage_is_a_plan_error(data):
    try:
        plan = plan_from_dict(data)
    except WanWeaveError:
        return
    assert plan_from_dict(json.loads(plan_to_json(plan))) == plan  # what loads is written back unchanged


@pytest.mark.parametrize("value", HUGE, ids=range(len(HUGE)))
@pytest.mark.parametrize("key", ["fps_out", "guidance", "shift", "width", "max_frames", "seed", "steps"])
def test_huge_numbers_are_refused_with_the_key(key, value):
    data = {**VALID, key: value}
    try:
        plan_from_dict(data)
    except PlanError as exc:
        assert exc.one_line()
        return


@pytest.mark.parametrize("name", ["../../outside/x", "/tmp/abs", "a/b", "..", ".", "", "x\x00y", "C:\\x\\y", ".hidden",
                                  "a" * 300, "con\nsole"])  # fmt: skip
def test_a_plan_name_that_is_not_a_file_name_is_refused(name):
    with pytest.raises(PlanError, match="name"):
        plan_from_dict({**VALID, "name": name})


@given(st.sampled_from([
    "[" * 5000 + "]" * 5000,
    "1" * 5000,
    '{"name": ' + "9" * 4400 + "}",
    json.dumps({**VALID, "fps_out": "HUGE"}).replace('"HUGE"', "9" * 5000),
    "\udcff",
    "{" * 100000,
]))  # fmt: skip
@settings(max_examples=10, deadline=None)
def test_damaged_bytes_are_a_plan_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("p") / "plan.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    with pytest.raises(PlanError):
        read_plan(path)


def test_render_of_a_traversing_plan_name_writes_nothing_outside(tmp_path):
    plan = {**VALID, "name": "../outside"}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    result = wan("render", tmp_path / "plan.json", "--out", tmp_path / "out")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "name" in result.stderr and not (tmp_path / "outside.mp4").exists()


def test_deep_nesting_in_a_plan_is_refused():
    with pytest.raises(PlanError):
        plan_from_dict({**VALID, "notes": deep(3000)})


@pytest.mark.parametrize("damage", [{"continuity": {"cuts": [10**5000]}}, {"continuity": {"cuts": [-1]}},
                                    {"continuity": {"cuts": ["7"]}}, {"acceleration": {"loras": [["a", 10**400]]}},
                                    {"acceleration": {"loras": [["a", float("inf")]]}}], ids=range(5))  # fmt: skip
def test_nested_numbers_are_checked_too(damage):
    with pytest.raises(PlanError):
        plan_from_dict({**VALID, **damage})


def test_a_misspelt_key_is_refused_with_its_place_and_the_likely_key(tmp_path):
    edited = json.loads(json.dumps(VALID))
    edited["clips"][1]["user_promt"] = "a red door"  # the edit would be lost without a word
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(edited))
    result = wan("render", path, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "clip 1" in result.stderr and '"user_promt"' in result.stderr and 'did you mean "user_prompt"' in result.stderr
    with pytest.raises(PlanError, match=r'unknown key\(s\) "stepz" \(did you mean "steps"\?\)'):
        plan_from_dict({**VALID, "stepz": 8})
