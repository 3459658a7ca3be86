"""The Wan Weave tab: gradio Blocks that work on gradio 3.41.2 (A1111) and 4.40 (Forge, standalone).

Only API common to both: Blocks/Row/Column, File, Textbox, Dropdown, Number, Dataframe(type=
"array"), Image(numpy), Video, Button, Markdown, State; generator handlers with the queue; no
gr.update. Handlers are thin: ui/state.py decides, the worker renders.
"""

from __future__ import annotations

import gradio as gr

from wan.jobs.client import WorkerClient
from wan.plan.continuity import PRESETS
from wan.plan.profiles import PROFILES
from wan.plan.registry import MODES, model_names
from wan.plan.speed import ATTENTION, CACHES, DISTILL

from . import state as S
from .handlers import KEEP, TabHandlers, UIConfig
from .keyframes import keyframes
from .queue_rows import queue_rows

__all__ = ["UIConfig", "build_blocks"]


def keeping(handler):
    """A job handler whose KEEP outputs leave the component as it is (gr.update() in 3.41 and 4.40)."""

    def run(*args):
        for outputs in handler(*args):
            yield tuple(gr.update() if value is KEEP else value for value in outputs)

    return run


def keep_or(value):
    return gr.update() if value is KEEP else value


def build_blocks(config: UIConfig, worker: WorkerClient | None = None) -> gr.Blocks:
    worker = worker or WorkerClient(config.worker_python)
    h = TabHandlers(config, worker)

    with gr.Blocks(analytics_enabled=False, title="Wan Weave") as blocks:
        st = gr.State(S.UIState())
        gr.Markdown("## Wan Weave\nTurn a Deforum animation into a WAN video.")
        with gr.Row():
            upload = gr.File(label="Deforum settings file", file_types=[".txt", ".json"],
                             elem_id="wan_weave_settings_file")  # fmt: skip
            with gr.Column():
                path = gr.Textbox(label="...or its path", elem_id="wan_weave_settings_path")
                with gr.Row():
                    load_button = gr.Button("Load path", elem_id="wan_weave_load_path")
                    latest_button = gr.Button("Latest Deforum run", elem_id="wan_weave_latest")
        info = gr.Markdown(elem_id="wan_weave_summary")
        with gr.Row():
            model = gr.Dropdown([S.AUTO, *model_names()], value=S.AUTO, label="model", elem_id="wan_weave_model")
            mode = gr.Dropdown([S.AUTO, *MODES], value=S.AUTO, label="mode", elem_id="wan_weave_mode")
            steps = gr.Number(value=0, precision=0, label="steps (0: model's)", elem_id="wan_weave_steps")
            width = gr.Number(value=0, precision=0, label="width (0: auto)", elem_id="wan_weave_width")
            height = gr.Number(value=0, precision=0, label="height (0: auto)", elem_id="wan_weave_height")
        with gr.Row():
            engine = gr.Dropdown(["wan", "preview"], value="wan", label="engine for Render", elem_id="wan_weave_engine")
            profile = gr.Dropdown(["auto", *PROFILES], value=config.profile, label="VRAM profile",
                                  elem_id="wan_weave_profile")  # fmt: skip
            joining = gr.Dropdown(list(PRESETS), value="standard", label="continuity (joins)",
                                  elem_id="wan_weave_continuity")  # fmt: skip
            enhancer = gr.Textbox(value=config.enhancer, label="prompt enhancer (template, auto, or a Qwen name)",
                                  elem_id="wan_weave_enhancer")  # fmt: skip
        with gr.Accordion("Speed (recorded in the plan)", open=False):
            with gr.Row():
                attention = gr.Dropdown(list(ATTENTION), value="native", label="attention backend",
                                        elem_id="wan_weave_attention")  # fmt: skip
                step_cache = gr.Dropdown(list(CACHES), value="none", label="step cache", elem_id="wan_weave_step_cache")
                compile_box = gr.Checkbox(value=False, label="torch.compile", elem_id="wan_weave_compile")
                fp8 = gr.Checkbox(value=False, label="fp8 weights", elem_id="wan_weave_fp8")
                distill = gr.Dropdown(["none", *DISTILL], value="none", label="step distillation",
                                      elem_id="wan_weave_distill")  # fmt: skip
            loras = gr.Textbox(label="LoRAs (path:weight, comma-separated)", elem_id="wan_weave_loras")
        with gr.Accordion("Keyframes: from one paragraph (or the loaded settings) to keyframe images", open=False):
            paragraph = gr.Textbox(label="the film in a few sentences (empty: keyframes for the loaded settings)",
                                   lines=3, elem_id="wan_weave_paragraph")  # fmt: skip
            with gr.Row():
                seconds = gr.Number(value=8, label="seconds", elem_id="wan_weave_seconds")
                film_fps = gr.Number(value=24, label="fps", elem_id="wan_weave_film_fps")
                planner = gr.Textbox(value="template", label="storyboard (template: a shot per sentence; auto or a "
                                     "Qwen name)", elem_id="wan_weave_planner")  # fmt: skip
                keyframes_button = gr.Button("Make keyframes", elem_id="wan_weave_keyframes")
        with gr.Accordion("Finishing (recorded in the plan: docs/post.md)", open=False):
            post = gr.Textbox(label="post: interpolate=opencv|blend|nearest, upscale=FILE under <models>/upscale, "
                              "contrast=, saturation=, brightness=, sharpen=", placeholder="interpolate=opencv",
                              elem_id="wan_weave_post")  # fmt: skip
        table = gr.Dataframe(headers=S.COLUMNS, datatype=S.DATATYPES, type="array", interactive=True, col_count=(7, "fixed"),
                             label="plan (edit 'prompt for WAN' or 'seed')", elem_id="wan_weave_plan")  # fmt: skip
        plot = gr.Image(label="camera schedules", show_label=False, type="numpy", interactive=False,
                        elem_id="wan_weave_plot")  # fmt: skip  (the figure carries its own title)
        with gr.Row():
            preview_button = gr.Button("Preview (animatic)", elem_id="wan_weave_preview")
            enhance_button = gr.Button("Enhance prompts", elem_id="wan_weave_enhance")
            render_button = gr.Button("Render", variant="primary", elem_id="wan_weave_render")
            cancel_button = gr.Button("Cancel", variant="stop", elem_id="wan_weave_cancel")
        progress = gr.Textbox(label="progress", interactive=False, elem_id="wan_weave_progress")
        with gr.Row():
            clip_video = gr.Video(label="latest finished clip", interactive=False, elem_id="wan_weave_clip")
            video = gr.Video(label="video", interactive=False, elem_id="wan_weave_video")
        folder = gr.Textbox(label="output folder", interactive=False, elem_id="wan_weave_output")
        error = gr.Markdown(elem_id="wan_weave_error")
        with gr.Accordion("Queue (batch and API jobs in the output folder)", open=False):
            queue_table = gr.Dataframe(headers=["job", "name", "state", "attempts", "clips", "error or video"],
                                       type="array", interactive=False, elem_id="wan_weave_queue")  # fmt: skip
            refresh = gr.Button("Refresh", elem_id="wan_weave_queue_refresh")

        choices = [model, mode, steps, width, height, joining, attention, step_cache, compile_box, fp8, loras, distill,
                   post]  # fmt: skip
        shown = [st, table, plot, info, path, error, progress, clip_video, video, folder]
        upload.change(h.load_upload, [upload, *choices], shown)
        load_button.click(h.load_path, [path, *choices], shown)
        latest_button.click(h.load_latest, choices, shown)
        replan = lambda *a: tuple(keep_or(v) for v in h.replan(*a))  # noqa: E731
        for control in choices:
            if control is not post:  # free text: re-planned when written (Enter or leaving it), not per key
                control.change(replan, [st, *choices], [st, table, plot, info, error])
        post.submit(replan, [st, *choices], [st, table, plot, info, error])
        post.blur(replan, [st, *choices], [st, table, plot, info, error])
        outs = [progress, clip_video, video, folder, error, table, st]

        preview_button.click(keeping(h.preview), [st, table, profile], outs)
        enhance_button.click(keeping(h.enhance), [st, table, enhancer], outs)
        render_button.click(keeping(h.render), [st, table, engine, profile, enhancer], outs)
        cancel_button.click(lambda: keep_or(h.cancel()), None, progress, queue=False)
        keyframes_button.click(keeping(lambda *a: keyframes(h, *a)), [paragraph, seconds, film_fps, planner, st, *choices],
                               [*shown, mode])  # fmt: skip
        refresh.click(lambda: queue_rows(config.out_root), None, queue_table, queue=False)
    blocks.wan_weave_worker = worker  # the host closes it on shutdown
    return blocks
