"""Continuity on synthetic videos with known motion and injected drift: with it on, every join
measures like an ordinary frame step and the colour stays on the anchor; with it off the same input
measures clearly worse (so the metric can fail). Plus the CLI contracts and tiny-model renders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import EXAMPLES, wan
from tests.synthetic_video import chunked, moving
from wan.media.joins import stitch
from wan.media.seams import measure
from wan.media.video import VideoSpec, probe, write_mp4
from wan.plan.continuity import PRESETS, continuity_from


def ten_chunks(motion: str):
    frames = moving(10 * 22 + 8, motion=motion)
    chunks = chunked(frames, 30, 8)[:10]
    assert len(chunks) == 10
    return frames, chunks


@pytest.mark.parametrize("motion", ["pan", "zoom", "rotate"])
def test_continuity_removes_seams_and_drift_and_off_measures_worse(motion):
    frames, chunks = ten_chunks(motion)
    on, b_on, joins = stitch(chunks, 8, PRESETS["standard"], anchor=frames[0], log=lambda m: None)
    off, b_off, _ = stitch(chunks, 8, PRESETS["off"], anchor=frames[0], log=lambda m: None)
    assert len(on) == len(off) == 10 * 22 + 8 and b_on == b_off
    good, bad = measure(on, b_on, frames[0]), measure(off, b_off, frames[0])
    assert max(r["discontinuity_ratio"] for r in good["boundaries"]) <= 1.2
    assert good["boundaries"][-1]["delta_e"] <= 2.0
    assert min(r["discontinuity_ratio"] for r in bad["boundaries"]) >= 3.0
    assert bad["boundaries"][-1]["delta_e"] >= 10.0
    assert [j["blend"] for j in joins[1:]] == ["flow"] * 9


def test_histogram_matching_and_linear_blend_also_hold_the_colour():
    frames, chunks = ten_chunks("pan")
    settings = continuity_from("standard", color="hist", blend="cosine")
    out, boundaries, _ = stitch(chunks, 8, settings, anchor=frames[0], log=lambda m: None)
    assert measure(out, boundaries, frames[0])["boundaries"][-1]["delta_e"] <= 3.0


def test_a_cut_is_left_alone_and_unreliable_flow_falls_back_to_a_crossfade():
    frames, chunks = ten_chunks("pan")
    settings = continuity_from("standard", cuts=[22 * 3 + 8])  # chunk 3 starts a new scene
    out, _, joins = stitch(chunks[:5], 8, settings, anchor=frames[0], log=lambda m: None)
    assert joins[3]["reason"] == "cut" and joins[3]["color"] == "none"
    assert all(np.array_equal(a, b) for a, b in zip(out[3 * 22 + 8 : 4 * 22], chunks[3][8:]))
    rng = np.random.default_rng(1)
    noise = [[rng.integers(0, 255, (120, 208, 3), dtype=np.uint8) for _ in range(12)] for _ in range(2)]
    logged = []
    _, _, joins = stitch(noise, 4, PRESETS["standard"], log=logged.append)
    assert joins[1]["blend"] == "crossfade" and "unreliable" in joins[1]["reason"] and logged


def test_seams_and_stitch_commands(tmp_path):
    _, chunks = ten_chunks("pan")
    paths = []
    for i, chunk in enumerate(chunks[:3]):
        paths.append(tmp_path / f"c{i}.mp4")
        write_mp4(iter(chunk), str(paths[-1]), VideoSpec(208, 120, 16, crf=10, preset="ultrafast"))
    out = tmp_path / "joined.mp4"
    result = wan("stitch", *paths, "--overlap", "8", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames"] == probe(str(out)).frames == 3 * 22 + 8
    assert [r["frame"] for r in report["boundaries"]] == [30, 52]
    assert all(r["discontinuity_ratio"] <= 1.5 for r in report["boundaries"])
    seams = wan("seams", out, "--boundaries", "30,52", "--json")
    data = json.loads(seams.stdout)
    assert set(data) == {"boundaries", "median_in_clip"}
    assert set(data["boundaries"][0]) == {"frame", "discontinuity_ratio", "delta_e"}
    bad = wan("seams", out, "--boundaries", "500")
    assert bad.returncode == 2 and "outside the video" in bad.stderr


@pytest.mark.parametrize("mode", ["t2v", "i2v_chain", "vace_continue"])
def test_renders_record_their_joins_and_seams(tiny_models, tmp_path, mode):
    model = {"t2v": "wan2.1-t2v-1.3b", "i2v_chain": "wan2.1-i2v-14b-480p", "vace_continue": "wan2.1-vace-1.3b"}[mode]
    out = tmp_path / "out"
    result = wan("render", EXAMPLES / "lighthouse_init.txt", "--engine", "wan", "--models", tiny_models, "--model",
                 model, "--mode", mode, "--width", "64", "--height", "48", "--steps", "2", "--out", out,
                 "--preset", "ultrafast", "--max-clip-frames", "33")  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    plan = json.loads((out / "plan.json").read_text())
    starts = [c["start_frame"] for c in plan["clips"][1:]]
    assert [r["frame"] for r in manifest["seams"]["boundaries"]] == starts
    assert [j["frame"] for j in manifest["joins"][1:]] == starts and manifest["continuity"]["preset"] == "standard"
    assert probe(str(out / "lighthouse_init.mp4")).frames == 144
    off = wan("render", out / "plan.json", "--engine", "preview", "--out", tmp_path / "off", "--continuity", "off")
    assert off.returncode == 0, off.stderr
    assert json.loads((tmp_path / "off" / "manifest.json").read_text())["joins"] == []
