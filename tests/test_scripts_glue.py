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


FAKE_MODULES = {
    # The WebUI's `modules`, reduced to what the glue touches: a true boundary, faked on disk so the
    # real script runs behind it.
    "__init__.py": "",
    "paths.py": "models_path = {models_path!r}\n",
    "script_callbacks.py": "settings = []\ndef on_ui_settings(fn):\n    settings.append(fn)\n",
    "shared.py": (
        "import argparse\n"
        "cmd_opts = argparse.Namespace(wan_weave_models_dir={flag!r})\n"
        "class OptionInfo:\n"
        "    def __init__(self, default, label, section=None):\n"
        "        self.default, self.label, self.section = default, label, section\n"
        "class Options:\n"
        "    def __init__(self):\n"
        "        self.data, self.infos = {{}}, {{}}\n"
        "    def add_option(self, key, info):\n"
        "        self.infos[key] = info\n"
        "        self.data.setdefault(key, info.default)\n"
        "opts = Options()\n"
    ),
}

RESOLVE = (
    "import runpy, sys; sys.path[:0] = {paths!r}; glue = runpy.run_path({script!r})\n"
    "from modules import script_callbacks, shared\n"
    "for fn in script_callbacks.settings: fn()\n"
    "print(shared.opts.infos['wan_weave_models_dir'].section)\n"
    "print(glue['models_root']())\n"
    "shared.opts.data['wan_weave_models_dir'] = {setting!r}\n"
    "print(glue['models_root']())\n"
)


def resolve(tmp_path, flag, setting):
    fake = tmp_path / "webui"
    (fake / "modules").mkdir(parents=True, exist_ok=True)
    for name, text in FAKE_MODULES.items():
        (fake / "modules" / name).write_text(text.format(models_path=str(tmp_path / "models"), flag=flag))
    code = RESOLVE.format(paths=[str(fake), str(ROOT)], script=str(ROOT / "scripts" / "wan_weave.py"), setting=setting)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_webui_models_folder_default_setting_and_flag(tmp_path):
    section, default, with_setting = resolve(tmp_path, None, str(tmp_path / "mine"))
    assert section == "('wan_weave', 'Wan Weave')"
    assert default == str(tmp_path / "models" / "wan")
    assert with_setting == str(tmp_path / "mine")
    _, flagged, still_flagged = resolve(tmp_path, str(tmp_path / "flag"), str(tmp_path / "mine"))
    assert flagged == still_flagged == str(tmp_path / "flag")  # the launch flag wins over the setting
