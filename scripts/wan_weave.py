"""The only module that talks to the WebUI (`modules`).

Every extension folder is on the WebUI's sys.path and our top-level package names are generic,
so before anything else we check that `movement`, `wan`, `prompt_enhance` and `ui` resolve to this
extension; otherwise another extension's package would be used silently.
"""

from __future__ import annotations

import importlib.util
import os
import sys

EXTENSION_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUR_PACKAGES = ("movement", "wan", "prompt_enhance", "ui")


class PackageClashError(ImportError):
    pass


def check_packages(extension_dir: str = EXTENSION_DIR) -> None:
    """Raise PackageClashError naming the clashing path when a package is not ours."""
    if extension_dir not in sys.path:
        sys.path.insert(0, extension_dir)
    for name in OUR_PACKAGES:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module else None
        if origin is None:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec else None
        expected = os.path.join(extension_dir, name, "__init__.py")
        if origin is None or os.path.normcase(os.path.abspath(origin)) != os.path.normcase(expected):
            raise PackageClashError(
                f"Wan Weave: the package '{name}' resolves to {origin or 'nothing'}, not {expected}. "
                "Another extension or installed package uses the same name; remove it or rename it, "
                "then restart the WebUI."
            )


SECTION = ("wan_weave", "Wan Weave")
OPTIONS = {
    # key: (default, label); the tab reads them when the WebUI builds it
    "wan_weave_models_dir": (
        "",
        "Folder with WAN and Qwen models (empty: <models_path>/wan; --wan-weave-models-dir wins)",
    ),
    "wan_weave_profile": (
        "auto",
        "Default VRAM profile (auto, full, balanced, low, minimal; --wan-weave-profile wins)",
    ),
    "wan_weave_enhancer": ("template", "Prompt enhancer: template, auto, or a Qwen model name under <models>/LLM"),
    "wan_weave_output_dir": ("", "Output folder (empty: <webui>/outputs/wan-weave)"),
}
_tab = {}  # the built Blocks, for the status route and shutdown


def models_root() -> str:
    """Where the WebUI's Wan Weave looks for models (flag, then setting, then <models_path>/wan)."""
    from modules import paths, shared

    from wan.models.discovery import webui_models_dir

    flag = getattr(shared.cmd_opts, "wan_weave_models_dir", None)
    return webui_models_dir(flag, shared.opts.data.get("wan_weave_models_dir"), paths.models_path)


def _option(key: str) -> str:
    from modules import shared

    value = shared.opts.data.get(key)
    return value if value not in (None, "") else OPTIONS[key][0]


def on_ui_settings() -> None:
    from modules import shared

    for key, (default, label) in OPTIONS.items():
        shared.opts.add_option(key, shared.OptionInfo(default, label, section=SECTION))


def free_webui_vram() -> None:
    """Before a WAN render: the WebUI's own checkpoint leaves the GPU (the worker needs it)."""
    from modules import devices, sd_models

    sd_models.unload_model_weights()
    devices.torch_gc()


def on_ui_tabs():
    from modules import paths, shared

    from ui.tab import UIConfig, build_blocks

    root = getattr(paths, "script_path", os.getcwd())
    out = _option("wan_weave_output_dir") or os.path.join(root, "outputs", "wan-weave")
    deforum = getattr(shared.opts, "outdir_img2img_samples", "") or os.path.join(root, "outputs", "img2img-images")
    config = UIConfig(
        models_dir=models_root(),
        out_root=out,
        worker_python=getattr(shared.cmd_opts, "wan_weave_worker_python", None),
        profile=getattr(shared.cmd_opts, "wan_weave_profile", None) or _option("wan_weave_profile"),
        enhancer=_option("wan_weave_enhancer"),
        deforum_roots=[deforum, root],
        before_render=free_webui_vram,
    )
    blocks = build_blocks(config)
    _tab["blocks"], _tab["config"] = blocks, config
    return [(blocks, "Wan Weave", "wan_weave")]


def on_app_started(_demo, app) -> None:
    """API routes under /wan-weave/v1: status, and the job queue (wan/jobs/api.py) once the tab exists."""
    import wan

    def status():
        config = _tab.get("config")
        return {"version": wan.__version__, "models_dir": config.models_dir if config else models_root()}

    app.add_api_route("/wan-weave/v1/status", status, methods=["GET"])
    blocks, config = _tab.get("blocks"), _tab.get("config")
    if blocks is not None:
        from modules import shared

        from wan.jobs.api import QueueRunner, mount

        runner = QueueRunner(config.out_root, blocks.wan_weave_worker, config.models_dir)
        mount(app, runner, getattr(shared.cmd_opts, "api_auth", None))


def on_script_unloaded() -> None:
    blocks = _tab.pop("blocks", None)
    if blocks is not None:
        blocks.wan_weave_worker.close()  # ending the worker frees its VRAM


check_packages()
try:
    from modules import script_callbacks
except ImportError:  # loaded outside the WebUI (tests, tools): nothing to register with
    script_callbacks = None
if script_callbacks is not None:
    script_callbacks.on_ui_settings(on_ui_settings)
    script_callbacks.on_ui_tabs(on_ui_tabs)
    script_callbacks.on_app_started(on_app_started)
    script_callbacks.on_script_unloaded(on_script_unloaded)
