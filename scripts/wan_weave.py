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


check_packages()
# The tab, settings section and API routes register here when the UI issue ([E]) lands.
