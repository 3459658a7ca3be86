"""The Wan Weave tab: gradio Blocks that work on gradio 3.41.2 (A1111) and 4.40 (Forge, standalone).

Only API common to both: Blocks/Row/Column, File, Textbox, Dropdown, Number, Dataframe(type=
"array"), Image(numpy), Video, Button, Markdown, State; generator handlers with the queue; no
gr.update. Handlers are thin: ui/state.py decides, the worker renders.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field

import gradio as gr

from movement.errors import WanWeaveError
from wan.acceleration_settings import ATTENTION, CACHES, DISTILL
from wan.continuity_settings import PRESETS
from wan.profiles import PROFILES
from wan.registry import MODES, model_names
from wan.worker_client import JobCancelled, WorkerClient

from . import state as S

ERROR_NONE = ""


@dataclass
class UIConfig:
    models_dir: str
    out_root: str
    worker_python: str | None = None
    profile: str = "auto"
    enhancer: str = "template"
    deforum_roots: list[str] = field(default_factory=list)
    before_render: object = None  # callable: the WebUI unloads its checkpoint here


def _error(exc: BaseException) -> str:
    text = exc.one_line() if isinstance(exc, WanWeaveError) else f"{type(exc).__name__}: {exc}"
    return f"**Error:** {text}"


def build_blocks(config: UIConfig, worker: WorkerClient | None = None) -> gr.Blocks:
    worker = worker or WorkerClient(config.worker_python)

    def load(upload, path, latest_flag, model, mode, steps, width, height, joining, *speed):
        try:
            if latest_flag:
                source = S.latest_deforum_settings(config.deforum_roots)
            else:
                source = S.settings_source(upload, path)
            choices = S.PlanChoices(model, mode, steps or 0, width or 0, height or 0, joining, *speed)
            st, plan, settings = S.make_plan(source, choices)
            return st, S.plan_rows(plan), S.camera_plot(settings, plan), S.summary(plan), source, ERROR_NONE
        except Exception as exc:  # shown in the page; the app stays usable
            return S.UIState(), [], None, "", path or "", _error(exc)

    def load_upload(upload, *choices):
        if upload is None:
            return S.UIState(), [], None, "", "", ERROR_NONE
        return load(upload, None, False, *choices)

    def load_path(path, *choices):
        return load(None, path, False, *choices)

    def load_latest(*choices):
        return load(None, None, True, *choices)

    def replan(st, *choices):
        if not st.settings_path:
            return st, [], None, "", ERROR_NONE
        result = load(None, st.settings_path, False, *choices)
        return result[0], result[1], result[2], result[3], result[5]

    def run(kind, st, rows, engine, profile, enhancer):
        """A generator: progress, latest clip, final video, output folder, error, table, state."""
        try:
            st = S.apply_rows(st, rows)
            plan = st.plan_value()
            if plan is None:
                raise WanWeaveError("load a settings file first")
        except Exception as exc:
            yield "", None, None, "", _error(exc), rows, st
            return
        out = os.path.join(config.out_root, f"{plan.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        if kind == "enhance":
            job = {"type": "enhance", "plan": st.plan, "enhance": enhancer, "models": config.models_dir}
        else:
            if engine == "wan" and callable(config.before_render):
                config.before_render()
            options = {"engine": engine, "models_dir": config.models_dir, "profile": profile}
            job = {"type": "render", "plan": st.plan, "out": out, "options": options,
                   "enhance": enhancer if enhancer != "template" else None}  # fmt: skip
        events: queue.Queue = queue.Queue()
        outcome: dict = {}

        def work():
            try:
                outcome["result"] = worker.run(job, events.put)
            except Exception as exc:
                outcome["error"] = exc
            events.put(None)

        threading.Thread(target=work, daemon=True).start()
        progress, latest = "starting the worker...", None
        folder = out if kind != "enhance" else ""
        yield progress, latest, None, folder, ERROR_NONE, rows, st
        while (event := events.get()) is not None:
            text = S.progress_text(event)
            if event.get("event") == "clip_done" and event.get("file"):
                latest = event["file"]
            if text:
                progress = text
                yield progress, latest, None, folder, ERROR_NONE, rows, st
        if "error" in outcome:
            exc = outcome["error"]
            message = "cancelled: the finished clips are in the output folder" if isinstance(exc, JobCancelled) else ""
            yield message or "stopped", latest, None, out, "" if message else _error(exc), rows, st
            return
        result = outcome["result"]
        if kind == "enhance":
            st = S.UIState(st.settings_path, result["plan"])
            model = result.get("model") or "template"
            yield f"prompts written ({model})", None, None, "", ERROR_NONE, S.plan_rows(st.plan_value()), st
            return
        done = f"done: {result['frames']} frames in {result['seconds']:.1f} s"
        yield done, latest, result["video"], os.path.dirname(result["video"]), ERROR_NONE, rows, st

    def cancel():
        return "cancelling after the current step..." if worker.cancel() else "nothing to cancel"

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
        table = gr.Dataframe(headers=S.COLUMNS, datatype=S.DATATYPES, type="array", interactive=True, col_count=(7, "fixed"),
                             label="plan (edit 'prompt for WAN' or 'seed')", elem_id="wan_weave_plan")  # fmt: skip
        plot = gr.Image(label="camera schedules (grey: clip boundaries)", type="numpy", interactive=False,
                        elem_id="wan_weave_plot")  # fmt: skip
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

        choices = [model, mode, steps, width, height, joining, attention, step_cache, compile_box, fp8, loras, distill]
        shown = [st, table, plot, info, path, error]
        upload.change(load_upload, [upload, *choices], shown)
        load_button.click(load_path, [path, *choices], shown)
        latest_button.click(load_latest, choices, shown)
        for control in choices:
            control.change(replan, [st, *choices], [st, table, plot, info, error])
        outs = [progress, clip_video, video, folder, error, table, st]

        def preview(s, r, p):
            yield from run("render", s, r, "preview", p, "template")

        def enhance(s, r, e):
            yield from run("enhance", s, r, "wan", "auto", e)

        def render(s, r, g, p, e):
            yield from run("render", s, r, g, p, e)

        preview_button.click(preview, [st, table, profile], outs)
        enhance_button.click(enhance, [st, table, enhancer], outs)
        render_button.click(render, [st, table, engine, profile, enhancer], outs)
        cancel_button.click(cancel, None, progress, queue=False)
        refresh.click(lambda: S.queue_rows(config.out_root), None, queue_table, queue=False)
    blocks.wan_weave_worker = worker  # the host closes it on shutdown
    return blocks
