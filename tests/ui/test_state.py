"""The tab's decisions, without gradio: where settings come from, the table's edits, the plot."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import numpy as np
import pytest

from movement.errors import SettingsError, WanWeaveError
from tests.conftest import EXAMPLES
from ui.camera_plot import camera_figure, camera_plot
from ui.deforum_files import latest_deforum_settings, make_plan
from ui.state import (
    PROMPT_COL,
    SEED_COL,
    PlanChoices,
    apply_rows,
    camera_series,
    plan_rows,
    progress_text,
    settings_source,
)


def test_settings_come_from_an_upload_of_either_gradio_or_a_path():
    assert settings_source(SimpleNamespace(name="/tmp/a.txt"), None) == "/tmp/a.txt"  # gradio 3 tempfile
    assert settings_source("/tmp/b.txt", "ignored") == "/tmp/b.txt"  # gradio 4 path
    assert settings_source(None, " ~/c.txt ") == os.path.expanduser("~/c.txt")
    with pytest.raises(SettingsError, match="no settings file"):
        settings_source(None, "  ")


def test_latest_deforum_run_is_the_newest_settings_file_deforum_wrote(tmp_path):
    outdir = tmp_path / "outputs" / "img2img-images"  # what the WebUI hands us: Deforum's output folder
    older = outdir / "Deforum" / "20260101120000_settings.txt"
    newer = outdir / "Deforum" / "sub" / "20260102120000_settings.txt"  # a batch name with a sub-folder
    decoys = [outdir / "Deforum" / "notes_settings.txt",  # not a name Deforum gives
              outdir / "a" / "b" / "c" / "20270101000000_settings.txt",  # deeper than Deforum writes
              tmp_path / "extensions" / "other" / "tests" / "20280101000000_settings.txt"]  # outside it
    for i, path in enumerate((older, newer, *decoys)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        os.utime(path, (time.time() + i, time.time() + i))
    assert latest_deforum_settings([str(outdir)]) == str(newer)
    with pytest.raises(SettingsError, match="no Deforum run found"):
        latest_deforum_settings([str(tmp_path / "empty")])


def test_table_edits_become_user_prompts_and_seeds():
    state, plan, _ = make_plan(str(EXAMPLES / "greenhouse_2d.txt"), PlanChoices(width=64, height=48))
    rows = plan_rows(plan)
    assert [r[0] for r in rows] == [0, 1, 2] and rows[1][2] == plan.clips[1].num_frames
    rows[1][PROMPT_COL] = "my own words for clip 1"
    rows[2][SEED_COL] = "1234"
    edited = apply_rows(state, rows).plan_value()
    assert edited.clips[1].effective_prompt == "my own words for clip 1" and edited.clips[1].prompt_source == "user"
    assert edited.clips[2].seed == 1234 and edited.clips[0] == plan.clips[0]
    assert apply_rows(state, plan_rows(plan)).plan_value() == plan  # untouched rows change nothing
    with pytest.raises(WanWeaveError, match="3 clips"):
        apply_rows(state, rows[:2])
    rows[0][SEED_COL] = "lots"
    with pytest.raises(WanWeaveError, match="clip 0: seed 'lots'"):
        apply_rows(state, rows)


def test_choices_reach_the_plan_and_the_plot_draws_the_moving_keys():
    _, plan, settings = make_plan(str(EXAMPLES / "harbor_3d.txt"), PlanChoices("wan2.2-ti2v-5b", "t2v", 4, 64, 64))
    assert (plan.model, plan.steps, plan.width, plan.height, plan.fps_model) == ("wan2.2-ti2v-5b", 4, 64, 64, 24)
    series = camera_series(settings, plan)
    assert set(series.values) == {"rotation_3d_y", "translation_x", "translation_y", "translation_z"}
    figure = camera_figure(series)
    axes = figure.axes
    assert [ax.get_ylabel() for ax in axes] == list(series.values)  # one labelled value axis per key
    assert axes[-1].get_xlabel().startswith("seconds") and axes[-1].get_xlim() == (0, plan.duration_s)
    figure.canvas.draw()
    dolly = axes[list(series.values).index("translation_z")]
    ticks = [float(t.get_text().replace("\u2212", "-")) for t in dolly.get_yticklabels() if t.get_text()]
    low, high = series.values["translation_z"].min(), series.values["translation_z"].max()
    assert ticks and min(ticks) <= high and max(ticks) >= low  # the axis shows the schedule's own values
    image = camera_plot(series)
    assert image.shape[1] == 720 and image.shape[2] == 3 and image.dtype == np.uint8
    assert (np.abs(image.astype(int) - 255).sum(axis=2) > 100).sum() > 1000  # lines were drawn


def test_progress_lines():
    assert progress_text({"event": "progress", "clip": 0, "clips": 3, "step": 2, "steps": 4, "eta": 9.6}) == (
        "clip 1/3 · step 2/4, about 10 s left"
    )
    assert progress_text({"event": "clip_done", "clip": 2, "clips": 3, "file": "x"}) == "clip 3/3 done"
    assert progress_text({"event": "started"}) == ""


def test_the_tab_lists_the_persistent_queue(tmp_path):
    from ui.queue_rows import queue_rows
    from wan.jobs.queue import Queue

    assert queue_rows(str(tmp_path)) == []
    queue = Queue(str(tmp_path))
    job = queue.add("film", "/s/film.txt", "{}", {})
    queue.finish(job.id, "failed", "the disk is full")
    queue.close()
    assert queue_rows(str(tmp_path)) == [[job.id, "film", "failed", 0, 0, "the disk is full"]]


def test_speed_controls_reach_the_plan():
    choices = PlanChoices(width=64, height=48, step_cache="fbc", fp8=True, loras="a.safetensors:0.5, b.safetensors")
    _, plan, _ = make_plan(str(EXAMPLES / "greenhouse_2d.txt"), choices)
    acc = plan.acceleration
    assert (acc.cache, acc.fp8, acc.loras) == ("fbc", True, (("a.safetensors", 0.5), ("b.safetensors", 1.0)))
    distilled = make_plan(str(EXAMPLES / "greenhouse_2d.txt"), PlanChoices(distill="lightx2v"))[1]
    assert (distilled.steps, distilled.guidance) == (4, 1.0)
    with pytest.raises(WanWeaveError, match="LoRA weight 9"):
        make_plan(str(EXAMPLES / "greenhouse_2d.txt"), PlanChoices(loras="a.safetensors:9"))
