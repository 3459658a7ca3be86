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
    """Before a WAN render: the WebUI's own checkpoint leaves the GPU (the worker needs it). Only a
    model that is loaded is unloaded: in A1111, reading `shared.sd_model` when none is loaded
    *loads* the checkpoint (onto the GPU the worker is about to need), so it is never read."""
    from modules import devices, sd_models

    if hasattr(sd_models, "forge_model_reload"):
        # Forge: unload_model_weights() frees what its memory manager holds and never loads one.
        sd_models.unload_model_weights()
        devices.torch_gc()
        return
    data = getattr(sd_models, "model_data", None)
    loaded = getattr(data, "sd_model", None)  # the attribute, not shared.sd_model's loading property
    if loaded is not None:
        sd_models.unload_model_weights(loaded)
        devices.torch_gc()


def worker_setup_problem() -> str | None:
    """Why a WAN render or a Qwen enhancement cannot run in this WebUI yet, with what to do; None
    when the worker's packages are installed over a torch they can use."""
    from importlib import metadata

    from wan.models.stack import HINT, torch_problem

    spec = importlib.util.spec_from_file_location("wan_weave_install", os.path.join(EXTENSION_DIR, "install.py"))
    install = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install)
    try:
        with open(os.path.join(install.OVERLAY, install.STAMP), encoding="ascii") as fh:
            current = fh.read().strip() == install.wanted_digest()
    except OSError:
        current = False
    if not current:
        return (f"the generation worker's packages are not installed or out of date (the WebUI skipped "
                f"install.py, or it failed): run {sys.executable} {os.path.join(EXTENSION_DIR, 'install.py')}, "
                "then restart the WebUI")  # fmt: skip
    try:
        problem = torch_problem(metadata.version("torch"))
    except metadata.PackageNotFoundError:
        problem = torch_problem(None)
    return f"{problem}: {HINT}" if problem else None


def on_ui_tabs():
    from modules import paths, shared

    from ui.tab import UIConfig, build_blocks

    root = getattr(paths, "script_path", os.getcwd())
    out = _option("wan_weave_output_dir") or os.path.join(root, "outputs", "wan-weave")
    # Where Deforum writes its runs: the WebUI's samples folder when set, else img2img's.
    deforum = (getattr(shared.opts, "outdir_samples", "") or getattr(shared.opts, "outdir_img2img_samples", "")
               or os.path.join("outputs", "img2img-images"))  # fmt: skip
    deforum = deforum if os.path.isabs(deforum) else os.path.join(root, deforum)
    config = UIConfig(
        models_dir=models_root(),
        out_root=out,
        worker_python=getattr(shared.cmd_opts, "wan_weave_worker_python", None),
        profile=getattr(shared.cmd_opts, "wan_weave_profile", None) or _option("wan_weave_profile"),
        enhancer=_option("wan_weave_enhancer"),
        deforum_roots=[deforum],
        before_render=free_webui_vram,
        setup_problem=worker_setup_problem(),
    )
    blocks = build_blocks(config)
    _tab["blocks"], _tab["config"] = blocks, config
    return [(blocks, "Wan Weave", "wan_weave")]


def on_app_started(_demo, app) -> None:
    """The REST API under /wan-weave/v1, by the WebUI's own rules: only with --api (or --nowebui),
    and every route, /status included, behind --api-auth when it is set."""
    from modules import shared

    opts = shared.cmd_opts
    if not (getattr(opts, "api", False) or getattr(opts, "nowebui", False)):
        print("Wan Weave: the REST API /wan-weave/v1 is off; start the WebUI with --api to use it", flush=True)
        return
    from wan.jobs.api import QueueRunner, mount, mount_status

    auth = getattr(opts, "api_auth", None)

    def status():
        config = _tab.get("config")
        return {"version": wan.__version__, "models_dir": config.models_dir if config else models_root()}

    mount_status(app, status, auth)
    blocks, config = _tab.get("blocks"), _tab.get("config")
    if blocks is not None:
        runner = QueueRunner(config.out_root, blocks.wan_weave_worker, config.models_dir)
        mount(app, runner, auth)


def on_script_unloaded() -> None:
    blocks = _tab.pop("blocks", None)
    if blocks is not None:
        blocks.wan_weave_worker.close()  # ending the worker frees its VRAM


check_packages()
# A1111 puts this extension's folder on sys.path only while it loads this file and restores the
# old list afterwards (Forge keeps it): import our packages now, so the callbacks' imports (the
# tab, the routes) find them later in sys.modules; their submodules load through the packages' own
# __path__, whatever sys.path is by then.
for _name in OUR_PACKAGES:
    importlib.import_module(_name)
import wan  # noqa: E402  (the status route reports its version)

try:
    from modules import script_callbacks
except ImportError:  # loaded outside the WebUI (tests, tools): nothing to register with
    script_callbacks = None
if script_callbacks is not None:
    script_callbacks.on_ui_settings(on_ui_settings)
    script_callbacks.on_ui_tabs(on_ui_tabs)
    script_callbacks.on_app_started(on_app_started)
    script_callbacks.on_script_unloaded(on_script_unloaded)
