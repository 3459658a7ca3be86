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


def models_root() -> str:
    """Where the WebUI's Wan Weave looks for models (flag, then setting, then <models_path>/wan)."""
    from modules import paths, shared

    from wan.discovery import webui_models_dir

    flag = getattr(shared.cmd_opts, "wan_weave_models_dir", None)
    return webui_models_dir(flag, shared.opts.data.get("wan_weave_models_dir"), paths.models_path)


def on_ui_settings() -> None:
    from modules import shared

    shared.opts.add_option(
        "wan_weave_models_dir",
        shared.OptionInfo(
            "",
            "Folder with WAN and Qwen models (empty: <models_path>/wan; --wan-weave-models-dir wins)",
            section=SECTION,
        ),
    )


check_packages()
try:
    from modules import script_callbacks
except ImportError:  # loaded outside the WebUI (tests, tools): nothing to register with
    script_callbacks = None
if script_callbacks is not None:
    script_callbacks.on_ui_settings(on_ui_settings)
# The tab and API routes register here when the UI issue ([E]) lands.
