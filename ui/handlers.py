"""The tab's handlers: thin glue between the widgets, ui/state.py (which decides) and the generation
worker (which renders). No gradio import: the layout lives in ui/tab.py."""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

from movement.errors import WanWeaveError
from wan.jobs.client import JobCancelled, WorkerClient

from . import deforum_files as files
from . import state as S
from .camera_plot import camera_plot

ERROR_NONE = ""
CLEARED = ("", None, None, "")  # progress, latest clip, video, output folder
# "Leave this output as it is": a job that fails or is still running must not take away the video
# already on screen (the Preview the user is watching). ui/tab.py turns it into gr.update().
KEEP = object()


@dataclass
class UIConfig:
    models_dir: str
    out_root: str
    worker_python: str | None = None
    profile: str = "auto"
    enhancer: str = "template"
    deforum_roots: list[str] = field(default_factory=list)
    before_render: object = None  # callable: the WebUI unloads its checkpoint here
    setup_problem: str | None = None  # why WAN renders and Qwen prompts cannot run here yet, and what to do


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def error_text(exc: BaseException) -> str:
    """One readable line for the page's Markdown box: the message's own characters (`__init__.py`,
    `*`, `<...>`) are escaped so Markdown shows them as they are. Anything but our own typed errors
    is a bug: its whole traceback goes to the console, where a bug report can take it from."""
    if isinstance(exc, WanWeaveError):
        text = exc.one_line()
    else:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        print(f"Wan Weave: unexpected error in the tab\n{trace}", file=sys.stderr, flush=True)
        text = f"{type(exc).__name__}: {exc} (unexpected: the console shows the traceback)"
    return f"**Error:** {escape(text)}"


def escape(text: str) -> str:
    """Text as Markdown shows it, characters and all (`__init__.py`, `*`, `<...>`)."""
    return _MARKDOWN.sub(r"\\\1", text)


class TabHandlers:
    def __init__(self, config: UIConfig, worker: WorkerClient) -> None:
        self.config, self.worker = config, worker
        self._cancelling = threading.Event()

    # Loading: (state, table rows, camera plot, summary, path, error) and, cleared, the previous
    # file's (progress, latest clip, video, output folder): they belong to another film.
    def load(self, upload, path, latest_flag, model, mode, steps, width, height, joining, *speed):
        try:
            if latest_flag:
                source = files.latest_deforum_settings(self.config.deforum_roots)
            else:
                source = S.settings_source(upload, path)
            choices = S.PlanChoices(model, mode, steps or 0, width or 0, height or 0, joining, *speed,
                                    available=self._available())  # fmt: skip
            st, plan, settings = files.make_plan(source, choices)
            plot = camera_plot(S.camera_series(settings, plan))
            return st, S.plan_rows(plan), plot, self._summary(plan), source, ERROR_NONE, *CLEARED
        except Exception as exc:  # shown in the page; the app stays usable
            return S.UIState(), [], None, "", path or "", error_text(exc), *CLEARED

    def _available(self) -> tuple[str, ...] | None:
        """The models the folder serves, for the plan's default mode (None when it cannot be read:
        the plan then defaults as without a folder, and the summary says why)."""
        from wan.models.discovery import served_models

        try:
            return served_models(self.config.models_dir)
        except OSError:
            return None

    def _summary(self, plan) -> str:
        """The plan's summary and the weights a WAN Render would load for it (a tiny stand-in, a
        single file, or nothing), found as the worker will find them; reads configs, not weights."""
        from wan.models.discovery import ModelNotFoundError, find_model

        try:
            found = find_model(self.config.models_dir, plan.model)
        except ModelNotFoundError as exc:
            runs = f"Render: {escape(exc.one_line())}"
        except Exception as exc:  # an unreadable models folder must not stop a settings file loading
            runs = f"Render: cannot look through {escape(self.config.models_dir)} ({escape(str(exc))})"
        else:
            runs = f"Render loads {escape(found.name)} ({escape(found.source)})"
        return f"{S.summary(plan)} · {runs}"

    def load_upload(self, upload, *choices):
        if upload is None:
            return S.UIState(), [], None, "", "", ERROR_NONE, *CLEARED
        return self.load(upload, None, False, *choices)

    def load_path(self, path, *choices):
        return self.load(None, path, False, *choices)

    def load_latest(self, *choices):
        return self.load(None, None, True, *choices)

    def replan(self, st, *choices):
        if not st.settings_path:
            return st, [], None, "", ERROR_NONE
        result = self.load(None, st.settings_path, False, *choices)
        if result[5] != ERROR_NONE:
            # A choice that does not plan (a half-typed post block, a model the mode refuses) says
            # why and keeps the loaded plan, its edits and its file: the next good choice re-plans.
            return st, KEEP, KEEP, KEEP, result[5]
        return result[0], result[1], result[2], result[3], result[5]

    # Jobs: each yields (progress, latest clip, video, output folder, error, table rows, state)
    def preview(self, st, rows, profile):
        yield from self.run("render", st, rows, "preview", profile, "template")

    def enhance(self, st, rows, enhancer):
        yield from self.run("enhance", st, rows, "wan", "auto", enhancer)

    def render(self, st, rows, engine, profile, enhancer):
        yield from self.run("render", st, rows, engine, profile, enhancer)

    def cancel(self):
        """Asks the running job to stop. Its own stream then says "cancelling..." and, last,
        "cancelled": written here, the line could reach the page after the stream's last one (both
        travel at once) and leave the page saying "cancelling" for good."""
        if not self.worker.cancel():
            return "nothing to cancel"
        self._cancelling.set()
        return KEEP

    def run(self, kind, st, rows, engine, profile, enhancer) -> Iterator[tuple]:
        try:
            st = S.apply_rows(st, rows)
            plan = st.plan_value()
            if plan is None:
                raise WanWeaveError("load a settings file first")
            needs_models = (kind == "render" and engine == "wan") or (kind == "enhance" and enhancer != "template")
            if needs_models and self.config.setup_problem:
                raise WanWeaveError(self.config.setup_problem)
        except Exception as exc:
            yield "", None, KEEP, "", error_text(exc), rows, st
            return
        out = os.path.join(self.config.out_root, f"{plan.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        job = self._job(kind, st, out, engine, profile, enhancer)
        outcome: dict = {}
        latest = None
        folder = out if kind != "enhance" else ""
        for progress, latest in self.stream(job, outcome):
            yield progress, latest, KEEP, folder, ERROR_NONE, rows, st
        yield self._finish(kind, outcome, latest, out, rows, st)

    def _job(self, kind, st, out, engine, profile, enhancer) -> dict:
        if kind == "enhance":
            return {"type": "enhance", "plan": st.plan, "enhance": enhancer, "models": self.config.models_dir}
        if engine == "wan" and callable(self.config.before_render):
            self.config.before_render()
        options = {"engine": engine, "models_dir": self.config.models_dir, "profile": profile}
        return {"type": "render", "plan": st.plan, "out": out, "options": options,
                "enhance": enhancer if enhancer != "template" else None}  # fmt: skip

    def stream(self, job: dict, outcome: dict) -> Iterator[tuple[str, str | None]]:
        """(progress line, latest clip file) as the worker reports; fills `outcome` at the end."""
        events: queue.Queue = queue.Queue()

        def work():
            try:
                outcome["result"] = self.worker.run(job, events.put)
            except Exception as exc:
                outcome["error"] = exc
            events.put(None)

        threading.Thread(target=work, daemon=True).start()
        progress, latest = "starting the worker...", None
        self._cancelling.clear()
        yield progress, latest
        while (event := events.get()) is not None:
            text = S.progress_text(event)
            if text and self._cancelling.is_set():
                text = f"cancelling after the current step... ({text})"
            if event.get("event") == "clip_done" and event.get("file"):
                latest = event["file"]
            if text:
                progress = text
                yield progress, latest

    def _finish(self, kind, outcome: dict, latest, out, rows, st) -> tuple:
        if "error" in outcome:
            exc = outcome["error"]
            message = "cancelled: the finished clips are in the output folder" if isinstance(exc, JobCancelled) else ""
            return message or "stopped", latest, KEEP, out, "" if message else error_text(exc), rows, st
        result = outcome["result"]
        if kind == "enhance":
            st = S.UIState(st.settings_path, result["plan"])
            model = result.get("model") or "template"
            return f"prompts written ({model})", None, KEEP, "", ERROR_NONE, S.plan_rows(st.plan_value()), st
        done = f"done: {result['frames']} frames in {result['seconds']:.1f} s"
        return done, latest, result["video"], os.path.dirname(result["video"]), ERROR_NONE, rows, st
