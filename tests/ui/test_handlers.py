"""The tab's handlers without gradio: what a user sees when the worker cannot render here yet."""

from __future__ import annotations

from tests.conftest import EXAMPLES
from ui.deforum_files import make_plan
from ui.handlers import KEEP, TabHandlers, UIConfig, error_text
from ui.state import PlanChoices, plan_rows


class NoWorker:
    def run(self, job, on_event):  # a render must not reach the worker when setup is missing
        raise AssertionError("the worker was asked to render")


def test_render_says_how_to_install_the_workers_packages(tmp_path):
    problem = "the generation worker's packages are not installed: run python install.py"
    handlers = TabHandlers(UIConfig(str(tmp_path), str(tmp_path), setup_problem=problem), NoWorker())
    state, plan, _ = make_plan(str(EXAMPLES / "greenhouse_2d.txt"), PlanChoices(width=64, height=48))
    shown = list(handlers.run("render", state, plan_rows(plan), "wan", "auto", "template"))
    assert len(shown) == 1 and "install.py" in shown[0][4]
    assert shown[0][2] is KEEP  # the video already on screen (a Preview) stays


def test_error_lines_keep_file_names_intact():
    # Markdown would show `__init__.py` as a bold "init.py".
    from movement.errors import WanWeaveError

    text = error_text(WanWeaveError("cannot import name 'x' from 'kornia/geometry/transform/__init__.py'"))
    assert "\\_\\_init\\_\\_.py" in text and text.startswith("**Error:**")


def test_an_unexpected_error_is_one_line_in_the_page_and_a_traceback_in_the_console(capsys):
    def deep():
        return {}["missing"]

    try:
        deep()
    except KeyError as exc:
        text = error_text(exc)
    console = capsys.readouterr().err
    assert "Traceback" in console and "in deep" in console and "KeyError" in console
    assert "\n" not in text and "KeyError" in text and "console" in text
    from movement.errors import WanWeaveError

    error_text(WanWeaveError("a bad file"))  # our own, typed errors are input problems, not bugs
    assert capsys.readouterr().err == ""


def test_the_summary_names_the_weights_a_render_would_load(tmp_path, tiny_models):
    choices = (None, None, 0, 64, 48, "standard")
    empty = TabHandlers(UIConfig(str(tmp_path / "none"), str(tmp_path)), NoWorker())
    summary = empty.load(None, str(EXAMPLES / "greenhouse_2d.txt"), False, *choices)[3]
    assert "wan2.1-t2v-1.3b" in summary and "Render: " in summary and "no folder for wan2.1-t2v-1.3b" in summary
    tiny = TabHandlers(UIConfig(str(tiny_models), str(tmp_path)), NoWorker())
    summary = tiny.load(None, str(EXAMPLES / "greenhouse_2d.txt"), False, *choices)[3]
    # The plan names the real model; the folder that would run is the tiny stand-in, and it says so.
    # The tiny VACE model serves a guided mode: the tab's default plan uses it.
    assert "vace_guide with wan2.1-vace-1.3b" in summary and "Render loads wan2.1-vace-tiny" in summary


class SteppingWorker:
    """The worker process's side of the protocol: progress events until a cancel arrives."""

    def __init__(self):
        import threading

        self.asked = threading.Event()
        self.running = False

    def cancel(self) -> bool:
        if self.running:
            self.asked.set()
        return self.running

    def run(self, job, on_event):
        from wan.jobs.client import JobCancelled

        self.running = True
        try:
            for step in range(1, 1000):
                on_event({"event": "progress", "clip": 0, "clips": 3, "step": step, "steps": 1000, "eta": None})
                if self.asked.wait(0.01):
                    on_event({"event": "progress", "clip": 0, "clips": 3, "step": step + 1, "steps": 1000, "eta": None})
                    raise JobCancelled("cancelled; 0 clip(s) finished", "Cancelled")
            raise AssertionError("the cancel never arrived")
        finally:
            self.running = False


def test_cancel_leaves_the_progress_line_to_the_job_stream(tmp_path):
    # The cancel's own answer and the job's last line travel at once: the cancel must not write the
    # line, or it can land last and the page says "cancelling" after the job has ended.
    worker = SteppingWorker()
    handlers = TabHandlers(UIConfig(str(tmp_path), str(tmp_path)), worker)
    assert handlers.cancel() == "nothing to cancel"
    state, plan, _ = make_plan(str(EXAMPLES / "greenhouse_2d.txt"), PlanChoices(width=64, height=48))
    lines = []
    for shown in handlers.run("render", state, plan_rows(plan), "wan", "auto", "template"):
        lines.append(shown[0])
        if len(lines) == 3:
            assert handlers.cancel() is KEEP
    assert lines[-1].startswith("cancelled") and shown[4] == ""
    assert any(line.startswith("cancelling after the current step") for line in lines[3:-1])
    assert not any("cancelling" in line for line in lines[:3])


def test_a_half_typed_finishing_box_keeps_the_loaded_plan(tmp_path):
    handlers = TabHandlers(UIConfig(str(tmp_path), str(tmp_path)), NoWorker())
    choices = ["auto", "auto", 2, 64, 48, "standard", "native", "none", False, False, "", "none", ""]
    st = handlers.load(None, str(EXAMPLES / "greenhouse_2d.txt"), False, *choices)[0]
    assert st.plan_value() is not None
    choices[-1] = "interpolate=op"
    kept, table, _, summary, error = handlers.replan(st, *choices)
    assert kept is st and table is KEEP and summary is KEEP and "interpolate must be one of" in error
    choices[-1] = "interpolate=blend,sharpen=0.5"
    planned, table, _, summary, error = handlers.replan(kept, *choices)
    assert error == "" and planned.plan_value().post.interpolate == "blend" and "graded" in summary
    assert planned.settings_path == st.settings_path and len(table) == 3
