"""From one paragraph to a finished film with the tiny models, as a user runs it: storyboard (the
template, no language model) -> keyframe images -> FLF2V between them -> interpolated to the
film's 30 fps and upscaled 2x."""

from __future__ import annotations

import json

import cv2

from tests.conftest import wan
from wan.media.video import probe

PARAGRAPH = ("A fox wakes in a snowy forest. The camera does a slow pan left across the pines. "
             "Night falls and the fox runs home.")  # fmt: skip


def test_one_paragraph_to_keyframes_to_an_interpolated_upscaled_film(tiny_models, tmp_path):
    settings = tmp_path / "fox.txt"
    post = "interpolate=opencv,upscale=tiny-esrgan-x2.safetensors,sharpen=0.2"
    made = wan("storyboard", PARAGRAPH, "--seconds", "6", "--fps", "30", "--model", "template", "--out", settings,
               "--render", "--models", tiny_models, "--width", "64", "--height", "48", "--steps", "2",
               "--post", post)  # fmt: skip
    assert made.returncode == 0, made.stderr[-3000:]
    written = json.loads(settings.read_text())
    assert list(written["prompts"]) == ["0", "60", "120"] and "pan left" in written["wan_weave_storyboard"]["segments"][1]["camera"]
    folder = tmp_path / "fox-keyframes"
    guided = json.loads((folder / "fox_keyframes.txt").read_text())
    assert guided["use_looper"] is True and sorted(map(int, guided["init_images"])) == [0, 60, 120, 179]
    for path in guided["init_images"].values():
        assert cv2.imread(str(folder / path)).shape == (48, 64, 3)
    film = folder / "film"
    manifest = json.loads((film / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["post"]["interpolator"] == "opencv-dis"
    assert manifest["post"]["upscaler"].startswith("tiny-esrgan-x2") and manifest["post"]["scale"] == 2
    info = probe(str(film / manifest["video"]))
    assert (info.frames, info.fps, info.width, info.height) == (180, 30.0, 128, 96)
    plan = json.loads((film / "plan.json").read_text())
    assert plan["mode"] == "flf2v_keyframes" and [c["start_frame"] for c in plan["clips"]] == [0, 60, 120]

    # Again: every keyframe's prompt, seed and size are unchanged, so each image is kept (a hand-made
    # replacement too).
    again = wan("keyframes", folder / ".." / "fox.txt", "--out", folder, "--models", tiny_models, "--width", "64",
                "--height", "48", "--steps", "2")  # fmt: skip
    assert again.returncode == 0 and again.stderr.count("kept") == 4, again.stderr[-2000:]
