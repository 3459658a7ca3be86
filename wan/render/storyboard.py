"""A film's settings from a paragraph: the template (a shot per sentence) or a local Qwen model.
One path for the `storyboard` command and the worker's keyframes job (the tab)."""

from __future__ import annotations

from prompt_enhance.storyboard import StoryboardError, storyboard, template_storyboard


def film_settings(paragraph: str, seconds: float, fps: float, planner: str, models_root: str, log,
                  attempts: int = 3) -> dict:  # fmt: skip
    """Deforum settings for `paragraph`; `planner` is "template", "auto", a Qwen name or folder."""
    if not (0 < seconds <= 3600 and 1 <= fps <= 120):
        raise StoryboardError(f"seconds must be in (0, 3600] and fps in [1, 120], got {seconds:g} and {fps:g}")
    if planner == "template":
        return template_storyboard(paragraph, seconds, fps)
    from prompt_enhance.qwen import open_chat

    chat, reason = open_chat(planner, models_root, False, log)
    if chat is None:
        raise StoryboardError(f"the storyboard needs a local Qwen model: {reason}",
                              hint="or the template planner: one shot per sentence")  # fmt: skip
    log(f"planner: {reason}")
    try:
        return storyboard(chat, paragraph, seconds, fps, attempts, log)
    finally:
        chat.unload()
