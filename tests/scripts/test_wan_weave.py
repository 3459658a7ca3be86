"""scripts/wan_weave.py refuses to run with another extension's package of the same name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

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


FAKE_WEBUI = ROOT / "tests" / "fake_webui"
RESOLVE = (
    "import runpy, sys; sys.path[:0] = {paths!r}; glue = runpy.run_path({script!r})\n"
    "from modules import script_callbacks, shared\n"
    "for fn in script_callbacks.registered['ui_settings']: fn()\n"
    "print(shared.opts.infos['wan_weave_models_dir'].section)\n"
    "print(glue['models_root']())\n"
    "shared.opts.data['wan_weave_models_dir'] = {setting!r}\n"
    "print(glue['models_root']())\n"
)


def resolve(tmp_path, flag, setting):
    code = RESOLVE.format(paths=[str(FAKE_WEBUI), str(ROOT)], script=str(ROOT / "scripts" / "wan_weave.py"),
                          setting=setting)  # fmt: skip
    env = {**os.environ, "WAN_WEAVE_FAKE_MODELS_PATH": str(tmp_path / "models"),
           "WAN_WEAVE_FAKE_CMD_OPTS": json.dumps({"wan_weave_models_dir": flag} if flag else {})}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_webui_models_folder_default_setting_and_flag(tmp_path):
    section, default, with_setting = resolve(tmp_path, None, str(tmp_path / "mine"))
    assert section == "('wan_weave', 'Wan Weave')"
    assert default == str(tmp_path / "models" / "wan")
    assert with_setting == str(tmp_path / "mine")
    _, flagged, still_flagged = resolve(tmp_path, str(tmp_path / "flag"), str(tmp_path / "mine"))
    assert flagged == still_flagged == str(tmp_path / "flag")  # the launch flag wins over the setting


def test_install_hook_skips_is_idempotent_and_never_touches_the_host(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("wan_weave_install", ROOT / "install.py")
    install = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install)
    overlay = str(tmp_path / "overlay")
    monkeypatch.delenv("COMMANDLINE_ARGS", raising=False)
    assert install.decide(["install.py", "--skip-install"], overlay) == "skip"
    monkeypatch.setenv("COMMANDLINE_ARGS", "--xformers --skip-install")  # how the WebUI passes its flags
    assert install.decide(["install.py"], overlay) == "skip"
    monkeypatch.delenv("COMMANDLINE_ARGS")
    assert install.decide(["install.py"], overlay) == "install"
    os.makedirs(overlay)
    (tmp_path / "overlay" / install.STAMP).write_text(install.wanted_digest())
    assert install.decide(["install.py"], overlay) == "current"  # the second start does nothing
    command = install.pip_command(overlay)
    assert command[command.index("--target") + 1] == overlay and "--no-deps" in command
    lines = (ROOT / "requirements-overlay.txt").read_text().splitlines()
    names = {line.split("==")[0].split(">=")[0] for line in lines if line and not line.startswith("#")}
    assert not names & {"torch", "numpy", "pillow", "gradio", "opencv-python"}  # the host's stay the host's
    skipped = subprocess.run([sys.executable, str(ROOT / "install.py"), "--skip-install"], capture_output=True,
                             text=True, env={**os.environ, "WAN_WEAVE_OVERLAY_DIR": overlay + "2"})  # fmt: skip
    assert skipped.returncode == 0 and "--skip-install" in skipped.stdout and not os.path.exists(overlay + "2")


def test_install_hook_failure_is_a_message_and_a_nonzero_exit(tmp_path):
    # No package index: pip fails at once, as it would with no network; the host reports exit 1.
    env = {**os.environ, "WAN_WEAVE_OVERLAY_DIR": str(tmp_path / "overlay"), "PIP_NO_INDEX": "1",
           "COMMANDLINE_ARGS": ""}  # fmt: skip
    failed = subprocess.run([sys.executable, "-u", str(ROOT / "install.py")], capture_output=True, text=True, env=env,
                            timeout=300)  # fmt: skip
    assert failed.returncode == 1
    lines = failed.stdout.splitlines()
    assert lines[0].startswith("Wan Weave: [1/3] installing") or "torch" in lines[0]
    assert "could not be installed" in failed.stdout and not (tmp_path / "overlay" / ".installed").exists()


def test_the_workers_torch_requirement_is_checked():
    from wan.models.stack import torch_problem

    assert "needs torch >= 2.6" in torch_problem("2.3.1+cu121")
    assert "needs torch >= 2.6" in torch_problem("2.1.2")
    assert torch_problem("2.6.0") is None and torch_problem("2.13.0+cpu") is None
    assert "not installed" in torch_problem(None)
