"""scripts/wan_weave.py refuses to run with another extension's package of the same name."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

LOAD = "import runpy, sys; sys.path[:0] = {paths!r}; runpy.run_path({script!r})"


def run_glue(paths: list[str]) -> subprocess.CompletedProcess[str]:
    code = LOAD.format(paths=paths, script=str(ROOT / "scripts" / "wan_weave.py"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60)


def test_our_packages_load():
    result = run_glue([str(ROOT)])
    assert result.returncode == 0, result.stderr


def test_clashing_package_is_named(tmp_path):
    clash = tmp_path / "movement"
    clash.mkdir()
    (clash / "__init__.py").write_text("")
    result = run_glue([str(tmp_path), str(ROOT)])
    assert result.returncode != 0
    assert "PackageClashError" in result.stderr
    assert str(clash / "__init__.py") in result.stderr
