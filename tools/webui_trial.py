#!/usr/bin/env python3
"""Try Wan Weave inside a real Forge or Automatic1111 checkout, on this machine's CPU, end to end.

    python3 tools/webui_trial.py WEBUI_DIR [--port P] [--shots DIR] [--kind forge|a1111]

WEBUI_DIR is a git checkout of stable-diffusion-webui-forge or stable-diffusion-webui (v1.10.1).
The script:

1. prepares the checkout's environment (idempotent; reuses WEBUI_DIR/venv): Python 3.11, the CPU
   torch 2.13.0 wheel that lies on this disk, torchvision 0.28.0 with its Meta registrations
   guarded, the host's requirements (minus torch and setuptools) and, for Forge, the requirements
   of the built-in extensions whose install.py would otherwise pip-install them at start;
2. places the helper repositories that launch_utils.py would `git clone` (GitHub is out of reach
   here) from snapshots under --mirrors, checked out at the commits launch_utils.py pins;
3. copies this repository (tracked files plus the working tree's untracked, non-ignored files) to
   WEBUI_DIR/extensions/wan-weave, keeping an already installed .worker-deps overlay;
4. starts the WebUI on 127.0.0.1 on the CPU, console saved to a log, and waits for the page;
5. drives the Wan Weave tab with Playwright (Debian's chromium): load examples/greenhouse_2d.txt by
   path, 64x48, 2 steps, Preview, then Render with tiny random-weight models; a screenshot each step;
6. submits a REST job (POST /wan-weave/v1/jobs, engine preview) and polls it to its end;
7. prints one JSON summary and stops the WebUI (its whole process group).

Everything the trial writes besides the checkout's venv and the extension copy goes to
WEBUI_DIR/.wan-weave-trial/ (logs, requirement files, tiny models, the Playwright venv, screenshots
unless --shots). Every workaround here is for the host on this machine; none touches Wan Weave.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the Wan Weave repository this file lives in
EXTENSION_NAME = "wan-weave"
TORCH = "torch==2.13.0"  # the CPU wheel on this machine's disk (cp311); a bare `torch` pulls CUDA builds
TORCHVISION = "torchvision==0.28.0"  # the release paired with torch 2.13
SETUPTOOLS = "setuptools==80.9.0"  # torch needs >=77; the hosts import pkg_resources, gone in >=81
PLAYWRIGHT = "playwright>=1.40"
CHROMIUM = "/usr/bin/chromium"
# Chromium without these flags keeps trying Google's hosts, which this machine's network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# What this script does differently from a user's `./webui.sh` on a networked GPU machine, and why.
HOST_WORKAROUNDS = [
    "venv on Python 3.11 with torch==2.13.0 (CPU wheel on disk) and torchvision==0.28.0, installed before "
    "launch.py so its TORCH_COMMAND (CUDA torch 2.1.2/2.3.1 from download.pytorch.org) never runs",
    "torchvision/_meta_registrations.py: register_fake(nms, qnms) guarded like its other Meta registrations "
    "(PyPI's torchvision is a CUDA build whose _C.so cannot load beside the CPU torch)",
    "setuptools==80.9.0 instead of the pinned 69.5.1 (torch 2.13 needs >=77; pkg_resources, which the "
    "hosts import, is gone from >=81): REQS_FILE is requirements_versions.txt without torch and setuptools",
    "Forge: the built-in extensions' requirements (controlnet, legacy preprocessors) pre-installed in the same "
    "pip resolution, so their install.py at start finds them and installs nothing",
    "PIP_CONSTRAINT (torch, torchvision, numpy pins) for every pip the host runs at start",
    "CLIP_PACKAGE=openai-clip and OPENCLIP_PACKAGE=open-clip-torch==2.20.0 instead of GitHub zip URLs",
    "repositories/<name> cloned from fetched snapshots at the pinned commits (GitHub is unreachable); "
    "files the snapshots lack (>= 4 MiB, e.g. BLIP.gif) left out with a sparse-checkout pattern",
    "flags: --skip-torch-cuda-test --use-cpu all --no-half --precision full --skip-version-check "
    "--no-download-sd-model (Forge also --always-cpu); 127.0.0.1 only (no --listen)",
]
EXAMPLE = "examples/greenhouse_2d.txt"
SIZE = {"width": 64, "height": 48, "steps": 2}


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the final JSON summary."""
    print(f"[webui-trial {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], log_file: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run a setup command; its output is appended to log_file (kept for the report) when given."""
    log("$ " + " ".join(str(c) for c in cmd))
    if log_file is None:
        return subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    with open(log_file, "a", encoding="utf-8") as fh:
        fh.write(f"\n$ {' '.join(str(c) for c in cmd)}\n")
        fh.flush()
        return subprocess.run(cmd, text=True, stdout=fh, stderr=subprocess.STDOUT, **kwargs)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def sha256(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def du(path: Path) -> str | None:
    """Disk used, as `du -sh` says it (None when the path is missing)."""
    if not path.exists():
        return None
    out = subprocess.run(["du", "-sh", str(path)], text=True, capture_output=True).stdout.split()
    return out[0] if out else None


# ---------------------------------------------------------------------------------------------
# The Playwright driver runs from its own small venv (the host's venv stays as the host wants it).
# ---------------------------------------------------------------------------------------------


def ensure_playwright(state: Path) -> None:
    """Re-run this script inside a venv that has Playwright when the current Python lacks it."""
    try:
        import playwright.sync_api  # noqa: F401

        return
    except ImportError:
        pass
    venv = state / "driver-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import playwright.sync_api"], capture_output=True).returncode != 0:
        log("installing Playwright for Python into " + str(venv))
        subprocess.run([str(python), "-m", "pip", "install", "-q", PLAYWRIGHT], check=True)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def ensure_chromium() -> None:
    """Playwright drives Debian's chromium (a browser download of Playwright's own cannot work here)."""
    if os.path.exists(CHROMIUM):
        return
    log("installing Debian's chromium with apt")
    subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True, capture_output=True)


# ---------------------------------------------------------------------------------------------
# 1. The host's environment
# ---------------------------------------------------------------------------------------------


def detect_kind(webui: Path) -> str:
    return "forge" if (webui / "modules_forge").is_dir() else "a1111"


def host_python(webui: Path) -> Path:
    return webui / "venv" / "bin" / "python"


def installed_version(python: Path, dist: str) -> str | None:
    code = f"import importlib.metadata as m\ntry: print(m.version({dist!r}))\nexcept Exception: pass"
    out = subprocess.run([str(python), "-c", code], text=True, capture_output=True).stdout.strip()
    return out or None


def ensure_venv_with_torch(webui: Path, setup_log: Path) -> list[str]:
    """WEBUI_DIR/venv on Python 3.11 with the CPU torch from this disk; returns what it did."""
    done = []
    python = host_python(webui)
    if not python.exists():
        if sys.version_info[:2] != (3, 11):
            raise SystemExit(
                f"Python 3.11 is needed for the venv (the torch wheel on disk is cp311); this is {sys.version}"
            )
        # the driver venv is itself a venv: build the host's from the interpreter under it
        base = getattr(sys, "_base_executable", sys.executable)
        run([base, "-m", "venv", str(webui / "venv")], setup_log).check_returncode()
        done.append("created venv")
    wanted = {"torch": TORCH, "torchvision": TORCHVISION, "setuptools": SETUPTOOLS}
    missing = [spec for dist, spec in wanted.items()
               if (installed_version(python, dist) or "").split("+")[0] != spec.split("==")[1]]  # fmt: skip
    if missing:
        run([str(python), "-m", "pip", "install", *missing], setup_log).check_returncode()
        done.append("installed " + " ".join(missing))
    return done


def guard_torchvision(webui: Path) -> str:
    """PyPI's torchvision 0.28 is a CUDA build: its _C.so needs libtorch_cuda.so, absent beside the
    CPU torch, so its ops are never registered, and two unguarded `register_fake("torchvision::nms")`
    decorators then fail the import ('operator torchvision::nms does not exist'). Guard those two
    the way torchvision guards its other Meta registrations (only when its ops loaded). torchvision
    imports then; its compiled ops (nms, roi_align) stay unavailable, which the WebUIs don't need
    to start."""
    found = list((webui / "venv" / "lib").glob("python3*/site-packages/torchvision/_meta_registrations.py"))
    if not found:
        return "torchvision not found"
    path = found[0]
    text = path.read_text(encoding="utf-8")
    guarded = re.sub(
        r'^@torch\.library\.register_fake\("torchvision::(q?nms)"\)$',
        r'@(torch.library.register_fake("torchvision::\1") if torchvision.extension._has_ops() else (lambda fn: fn))',
        text,
        flags=re.M,
    )
    if guarded == text:
        return "already guarded"
    path.write_text(guarded, encoding="utf-8")
    return f"guarded register_fake(nms, qnms) in {path}"


def host_requirements(webui: Path, kind: str) -> list[str]:
    """The host's requirements_versions.txt without torch (on disk already) and setuptools (69.5.1 is
    too old for torch 2.13), plus, for Forge, the requirement files that built-in extensions'
    install.py scripts pip-install one by one at each start (pre-installing them in one resolution
    keeps numpy 1.26 / protobuf 3.20 / opencv 4.11 consistent instead of upgraded piecemeal)."""
    lines = []
    for line in (webui / "requirements_versions.txt").read_text(encoding="utf-8").splitlines():
        name = re.split(r"[=<>~!\s#\[]", line.strip(), maxsplit=1)[0].lower()
        if name and name not in ("torch", "setuptools"):
            lines.append(line.split("#")[0].strip())
    if kind == "forge":
        for req in sorted((webui / "extensions-builtin").glob("*/requirements.txt")):
            if (req.parent / "install.py").exists():
                lines += [
                    x.strip()
                    for x in req.read_text(encoding="utf-8").splitlines()
                    if x.strip() and not x.startswith("#")
                ]
    return sorted(set(lines), key=lines.index)


def install_host_requirements(webui: Path, kind: str, state: Path, setup_log: Path) -> tuple[Path, Path, str]:
    """Write REQS_FILE and a pip constraints file, install them once (a stamp remembers)."""
    reqs = state / "requirements-host.txt"
    reqs.write_text("\n".join(host_requirements(webui, kind)) + "\n", encoding="utf-8")
    # The constraints also go to the host's own installers at start (PIP_CONSTRAINT): no installer
    # may swap the CPU torch for a CUDA one or move numpy to 2.x under packages built for 1.26.
    numpy = next((x for x in reqs.read_text().splitlines() if x.lower().startswith("numpy==")), "numpy<2")
    constraints = state / "constraints.txt"
    constraints.write_text("\n".join([TORCH, TORCHVISION, numpy]) + "\n", encoding="utf-8")
    stamp = state / "requirements.stamp"
    digest = sha256(reqs.read_text(), constraints.read_text())
    if stamp.exists() and stamp.read_text().strip() == digest:
        return reqs, constraints, "requirements already installed (stamp matches)"
    result = run([str(host_python(webui)), "-m", "pip", "install", "-c", str(constraints), "-r", str(reqs)], setup_log)
    if result.returncode != 0:
        raise RuntimeError(f"pip could not install the host's requirements; see {setup_log}:\n{tail(setup_log)}")
    stamp.write_text(digest)
    return reqs, constraints, "installed the host's requirements"


# ---------------------------------------------------------------------------------------------
# 2. The helper repositories launch_utils.py clones
# ---------------------------------------------------------------------------------------------


def pinned_repositories(webui: Path) -> list[dict]:
    """(dir, url, commit) for each live `git_clone(..., repo_dir('X'), ...)` in launch_utils.py."""
    source = (webui / "modules" / "launch_utils.py").read_text(encoding="utf-8")
    defaults = dict(re.findall(r"^\s*(\w+) = os\.environ\.get\('\w+', [\"']([^\"']+)[\"']\)", source, flags=re.M))
    repos = []
    for url_var, name, hash_var in re.findall(
        r"^\s*git_clone\((\w+), repo_dir\('([^']+)'\), \"[^\"]*\", (\w+)\)", source, flags=re.M
    ):
        repos.append({"dir": name, "url": defaults[url_var], "commit": defaults[hash_var]})
    return repos


def mirror_for(url: str, mirrors: Path) -> Path:
    owner, name = re.match(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?$", url).groups()
    return mirrors / f"{owner}+{name}" / "repo"


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, text=True, capture_output=True)


def place_repository(target: Path, mirror: Path, url: str, commit: str) -> str:
    """Clone the snapshot and check out the pinned commit, as launch_utils' git_clone would (it then
    finds HEAD == the pin and never touches the network). Snapshots lack files of 4 MiB and more
    (BLIP.gif): those are left out of the checkout with a sparse pattern, so HEAD stays the pin."""
    if target.exists() and git("-C", str(target), "rev-parse", "HEAD").stdout.strip() == commit:
        return "at the pinned commit already"
    if not mirror.exists():
        raise RuntimeError(f"no snapshot at {mirror}: fetch {url} with the search tool's fetch first")
    shutil.rmtree(target, ignore_errors=True)
    git("clone", "-q", "--no-checkout", str(mirror), str(target)).check_returncode()
    listing = git("-C", str(target), "ls-tree", "-r", commit).stdout.splitlines()
    blobs = [(line.split()[2], line.split("\t", 1)[1]) for line in listing if line.split()[1] == "blob"]
    check = subprocess.run(["git", "-C", str(target), "cat-file", "--batch-check"], input="\n".join(h for h, _ in blobs) + "\n",
                           text=True, capture_output=True).stdout.splitlines()  # fmt: skip
    absent = [path for (_, path), answer in zip(blobs, check) if answer.endswith(" missing")]
    if absent:
        git(
            "-C", str(target), "sparse-checkout", "set", "--no-cone", "/*", *[f"!/{p}" for p in absent]
        ).check_returncode()
    git("-C", str(target), "checkout", "-q", commit).check_returncode()
    git("-C", str(target), "remote", "set-url", "origin", url)
    return f"cloned from {mirror}" + (f" (without {', '.join(absent)}: not in the snapshot)" if absent else "")


def place_repositories(webui: Path, mirrors: Path) -> dict:
    done = {}
    for repo in pinned_repositories(webui):
        done[repo["dir"]] = f"{repo['commit'][:10]}: " + place_repository(
            webui / "repositories" / repo["dir"], mirror_for(repo["url"], mirrors), repo["url"], repo["commit"]
        )
    return done


# ---------------------------------------------------------------------------------------------
# 3. The extension
# ---------------------------------------------------------------------------------------------


def install_extension(webui: Path) -> dict:
    """A fresh copy of this repository's files (what `git clone` would give, plus uncommitted work).
    .worker-deps (the overlay install.py put there at an earlier start) is kept: install.py's stamp
    decides whether it is current."""
    target = webui / "extensions" / EXTENSION_NAME
    overlay = target / ".worker-deps"
    kept = None
    if overlay.exists():
        kept = webui / "extensions" / f".{EXTENSION_NAME}-worker-deps"
        shutil.rmtree(kept, ignore_errors=True)
        overlay.rename(kept)
    shutil.rmtree(target, ignore_errors=True)
    files = git("-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z").stdout.split("\0")
    copied = 0
    for rel in filter(None, files):
        source = REPO / rel
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
            copied += 1
    if kept is not None:
        kept.rename(overlay)
    return {"path": str(target), "files": copied, "kept_overlay": kept is not None}


def make_tiny_models(webui: Path, models: Path, setup_log: Path) -> dict:
    """`python -m wan make-tiny-models` with the host's python and the overlay (the worker's own
    path), from the extension folder. If that python cannot (e.g. the host's kornia breaks the
    overlay's diffusers), fall back to this repository's .venv, so Render still gets models to load:
    the models are plain files, whichever python wrote them."""
    if (models / ".complete").exists():
        return {"made_with": "earlier run", "dir": str(models)}
    extension = webui / "extensions" / EXTENSION_NAME
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(extension / ".worker-deps"), str(extension)])}
    attempts = {}
    for label, python in (
        ("host venv", host_python(webui)),
        ("repo .venv (fallback)", REPO / ".venv" / "bin" / "python"),
    ):
        if not python.exists():
            continue
        shutil.rmtree(models, ignore_errors=True)
        result = run([str(python), "-m", "wan", "make-tiny-models", str(models)], setup_log, cwd=extension,
                     env=env if label == "host venv" else {**os.environ, "PYTHONPATH": str(extension)})  # fmt: skip
        if result.returncode == 0:
            (models / ".complete").write_text(label)
            return {"made_with": label, "dir": str(models), "failed_first": attempts or None}
        attempts[label] = tail(setup_log, 3)
    return {"made_with": None, "dir": str(models), "errors": attempts}


# ---------------------------------------------------------------------------------------------
# 4. Start, wait, stop
# ---------------------------------------------------------------------------------------------


def webui_flags(kind: str, port: int, models: Path) -> list[str]:
    flags = ["--skip-torch-cuda-test", "--use-cpu", "all", "--no-half", "--precision", "full",
             "--skip-version-check", "--no-download-sd-model", "--port", str(port), "--api",
             "--wan-weave-models-dir", str(models)]  # fmt: skip
    if kind == "forge":
        flags.append("--always-cpu")  # Forge's backend ignores --use-cpu for its device choice
    return flags  # no --listen: the server binds 127.0.0.1 only


def webui_env(reqs: Path, constraints: Path) -> dict:
    return {
        **os.environ,
        "REQS_FILE": str(reqs),
        "TORCH_COMMAND": f"pip install {TORCH} {TORCHVISION}",  # only used if torch went missing
        "CLIP_PACKAGE": "openai-clip",  # PyPI's copy of openai/CLIP, instead of a GitHub zip
        "OPENCLIP_PACKAGE": "open-clip-torch==2.20.0",  # instead of a GitHub zip (already installed)
        "PIP_CONSTRAINT": str(constraints),
        "WEBUI_LAUNCH_LIVE_OUTPUT": "1",  # installers' output straight into the console log
        "PYTHONUNBUFFERED": "1",
    }


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def start_webui(
    webui: Path, kind: str, port: int, models: Path, reqs: Path, constraints: Path, console: Path
) -> subprocess.Popen:
    """launch.py in its own process group (so stopping it also stops the worker it starts)."""
    cmd = [str(host_python(webui)), "launch.py", *webui_flags(kind, port, models)]
    log(f"starting {kind}: {' '.join(cmd)} (console: {console})")
    fh = open(console, "w", encoding="utf-8")  # noqa: SIM115 - stays open as the child's stdout
    return subprocess.Popen(cmd, cwd=webui, env=webui_env(reqs, constraints), stdout=fh, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def wait_for_page(proc: subprocess.Popen, url: str, console: Path, timeout: float) -> float:
    """Seconds until GET / answers 200; raises with the console's tail if the WebUI exits first."""
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the WebUI exited with code {proc.returncode} before serving:\n{tail(console, 40)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return time.time() - start
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(2)
    raise RuntimeError(f"no page at {url} after {timeout:.0f} s:\n{tail(console, 40)}")


def stop_webui(proc: subprocess.Popen) -> str:
    if proc.poll() is not None:
        return f"had exited with code {proc.returncode}"
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
        return "stopped (SIGTERM to its process group)"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "killed (SIGKILL to its process group)"


# ---------------------------------------------------------------------------------------------
# 5. The tab in a browser
# ---------------------------------------------------------------------------------------------


def textbox(page, elem_id: str):
    """gradio 3 and 4 both render a Textbox as a textarea inside the element carrying the id."""
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def inner_text(page, elem_id: str) -> str:
    # gradio 3.41 gives a Markdown's elem_id to two nested elements: the outer one holds the text.
    node = page.locator(f"#{elem_id}")
    return node.first.inner_text() if node.count() else ""


def click_and_wait(page, button_id: str, timeout_s: float) -> dict:
    """Click a job button, then poll until #wan_weave_progress starts with 'done' or
    #wan_weave_error says 'Error'. The progress box still shows the previous job's 'done: ...', so
    its displayed value is blanked first (gradio overwrites it with the new job's first line)."""
    page.evaluate("document.querySelector('#wan_weave_progress textarea').value = ''")
    t0 = time.time()
    page.click(f"#{button_id}")
    seen, progress, error = [], "", ""
    while time.time() - t0 < timeout_s:
        progress = textbox(page, "wan_weave_progress").input_value()
        # while a job runs gradio puts its timer ('0.2s') inside every output, the error box too
        error = inner_text(page, "wan_weave_error").strip()
        error = error if "Error" in error else ""
        if progress and (not seen or seen[-1] != progress):
            seen.append(progress)
        if progress.startswith("done") or error:
            break
        time.sleep(0.5)
    outcome = {"ok": progress.startswith("done") and not error, "progress": progress, "error": error or None,
               "seen": seen[-8:], "seconds": round(time.time() - t0, 1)}  # fmt: skip
    if not (progress.startswith("done") or error):
        outcome["timed_out"] = True
    return outcome


def set_number(page, elem_id: str, value: int) -> None:
    field = page.locator(f"#{elem_id} input").first
    field.fill(str(value))
    field.press("Enter")  # gradio fires the change on Enter/blur, not on each keystroke
    field.blur()


def drive_tab(url: str, webui: Path, shots: Path, job_timeout: float, make_models) -> dict:
    """Open the page, use the Wan Weave tab as a person would, screenshot each step."""
    from playwright.sync_api import sync_playwright

    steps: dict = {}
    example = webui / "extensions" / EXTENSION_NAME / EXAMPLE
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1900})
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        def shot(name: str) -> str:
            path = shots / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            return str(path)

        try:
            t0 = time.time()
            page.goto(url, timeout=180_000)
            page.wait_for_selector("#tabs > .tab-nav > button", timeout=180_000)
            tabs = [t.strip() for t in page.locator("#tabs > .tab-nav > button").all_inner_texts()]
            steps["open_page"] = {
                "ok": True,
                "seconds": round(time.time() - t0, 1),
                "tabs": tabs,
                "shot": shot("01-page"),
            }
            tab = page.locator("#tabs > .tab-nav > button", has_text=re.compile(r"^\s*Wan Weave\s*$"))
            if tab.count() == 0:
                steps["tab"] = {"ok": False, "error": "no 'Wan Weave' tab on the page", "tabs": tabs}
                return steps
            tab.first.click()
            page.wait_for_selector("#wan_weave_settings_path", state="visible", timeout=30_000)
            steps["tab"] = {"ok": True, "shot": shot("02-tab")}

            textbox(page, "wan_weave_settings_path").fill(str(example))
            page.click("#wan_weave_load_path")
            page.wait_for_function(
                "(document.querySelector('#wan_weave_summary')?.innerText || '').includes('clips')"
                " || (document.querySelector('#wan_weave_error')?.innerText || '').includes('Error')",
                timeout=120_000,
            )
            error = inner_text(page, "wan_weave_error").strip()
            error = error if "Error" in error else ""  # not gradio's timer text
            steps["load"] = {
                "ok": not error,
                "summary": inner_text(page, "wan_weave_summary").strip()[:400],
                "error": error or None,
            }
            for name in ("width", "height", "steps"):
                set_number(page, f"wan_weave_{name}", SIZE[name])
            try:  # the summary names the size once the re-plan has landed
                page.wait_for_function(
                    f"(document.querySelector('#wan_weave_summary')?.innerText || '').includes('{SIZE['width']}x{SIZE['height']}')",
                    timeout=60_000,
                )
                steps["size"] = {"ok": True, "summary": inner_text(page, "wan_weave_summary").strip()[:400]}
            except Exception as exc:  # recorded, the trial goes on
                steps["size"] = {
                    "ok": False,
                    "error": str(exc).splitlines()[0],
                    "summary": inner_text(page, "wan_weave_summary").strip()[:400],
                }
            steps["load"]["shot"] = shot("03-loaded")

            steps["preview"] = {**click_and_wait(page, "wan_weave_preview", job_timeout), "shot": shot("04-preview")}

            steps["tiny_models"] = make_models()
            steps["render"] = {**click_and_wait(page, "wan_weave_render", job_timeout), "shot": shot("05-render")}
        except Exception as exc:  # a failed step is a finding, not a crash
            steps["exception"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            try:
                steps["exception_shot"] = shot("99-exception")
            except Exception:
                pass
        finally:
            steps["browser_console_errors"] = console_errors[:20]
            browser.close()
    return steps


# ---------------------------------------------------------------------------------------------
# 6. The REST API
# ---------------------------------------------------------------------------------------------


def http_json(method: str, url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            raw = answer.read()
            status = answer.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")[:500]


def try_rest_job(base: str, webui: Path, timeout_s: float) -> dict:
    """POST a preview job with the example's settings and poll it until it ends."""
    result: dict = {}
    result["status_route"] = http_json("GET", f"{base}/wan-weave/v1/status")
    settings = json.loads((webui / "extensions" / EXTENSION_NAME / EXAMPLE).read_text(encoding="utf-8"))
    body = {
        "name": "api-trial",
        "settings": settings,
        "options": {"engine": "preview", "width": SIZE["width"], "height": SIZE["height"]},
    }
    status, answer = http_json("POST", f"{base}/wan-weave/v1/jobs", body)
    result["submit"] = {"http": status, "body": answer}
    if status >= 300 or not isinstance(answer, dict) or "job_id" not in answer:
        result["ok"] = False
        return result
    t0, job = time.time(), None
    while time.time() - t0 < timeout_s:
        status, job = http_json("GET", f"{base}/wan-weave/v1/jobs/{answer['job_id']}")
        if isinstance(job, dict) and job.get("state") in ("done", "failed", "cancelled"):
            break
        time.sleep(2)
    result.update(ok=isinstance(job, dict) and job.get("state") == "done", seconds=round(time.time() - t0, 1), job=job)
    return result


# ---------------------------------------------------------------------------------------------
# 7. What the console said about Wan Weave
# ---------------------------------------------------------------------------------------------

PIP_NOISE = re.compile(
    r"^\s*(Collecting|Processing|Downloading|Requirement already|WARNING: Location|Looking in|Using cached)|━"
)


def wan_weave_console(console: Path) -> dict:
    """Lines that mention Wan Weave (minus pip's per-package chatter) and every error block or
    traceback that mentions it; plus the host's own 'Startup time' line."""
    lines = console.read_text(encoding="utf-8", errors="replace").splitlines() if console.exists() else []
    mentions = [ln for ln in lines if re.search(r"wan[ _-]?weave", ln, re.I) and not PIP_NOISE.search(ln)]
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("*** ") or line.startswith("Traceback (most recent call last)"):
            j = i + 1
            if line.startswith("*** "):  # the WebUIs' errors.report: '*** what', traceback, '---'
                while j < len(lines) and lines[j].strip() != "---" and not lines[j].startswith("*** "):
                    j += 1
            else:  # a bare traceback: indented frames, then the exception line
                while j < len(lines) and (lines[j].startswith(" ") or lines[j].startswith("Traceback")):
                    j += 1
                j += 1
            block = "\n".join(lines[i:j])
            if re.search(r"wan[ _-]?weave|wan_weave|extensions/wan-weave", block, re.I):
                blocks.append(block)
            i = max(j, i + 1)
        else:
            i += 1
    startup = [ln for ln in lines if ln.startswith("Startup time:")]
    return {"mentions": mentions[-60:], "error_blocks": blocks, "startup_time_line": startup[-1] if startup else None}


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("webui", type=Path, help="a Forge or A1111 git checkout")
    p.add_argument("--port", type=int, default=7861)
    p.add_argument(
        "--shots", type=Path, default=None, help="screenshot folder (default: WEBUI_DIR/.wan-weave-trial/shots)"
    )
    p.add_argument("--kind", choices=["forge", "a1111"], default=None, help="default: forge if modules_forge/ exists")
    p.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"), help="fetched snapshots, as owner+name/repo")
    p.add_argument("--start-timeout", type=float, default=1800, help="seconds for the first page (installs included)")
    p.add_argument(
        "--job-timeout", type=float, default=600, help="seconds for each of Preview, Render and the REST job"
    )
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    webui = args.webui.resolve()
    state = webui / ".wan-weave-trial"
    state.mkdir(parents=True, exist_ok=True)
    ensure_playwright(state)  # may re-exec this script in the driver venv
    ensure_chromium()
    kind = args.kind or detect_kind(webui)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logs = state / "logs"
    logs.mkdir(exist_ok=True)
    shots = (args.shots or state / "shots" / stamp).resolve()
    shots.mkdir(parents=True, exist_ok=True)
    setup_log, console = logs / f"setup-{stamp}.log", logs / f"console-{stamp}.log"
    models = state / "tiny-models"
    summary: dict = {"kind": kind, "webui": str(webui), "commit": git("-C", str(webui), "describe", "--tags", "--always").stdout.strip(),
                     "extension_repo": str(REPO), "port": args.port, "logs": {"setup": str(setup_log), "console": str(console)},
                     "shots": str(shots), "timings_s": {}, "host_workarounds": list(HOST_WORKAROUNDS)}  # fmt: skip
    timings = summary["timings_s"]
    proc = None

    def timed(name: str, fn, *a):
        t0 = time.time()
        try:
            return fn(*a)
        finally:
            timings[name] = round(time.time() - t0, 1)

    try:
        summary["venv"] = timed("venv_and_torch", ensure_venv_with_torch, webui, setup_log)
        summary["torchvision_guard"] = guard_torchvision(webui)
        reqs, constraints, what = timed("host_requirements", install_host_requirements, webui, kind, state, setup_log)
        summary["requirements"] = {"reqs_file": str(reqs), "constraints": str(constraints), "did": what}
        summary["repositories"] = timed("helper_repositories", place_repositories, webui, args.mirrors.resolve())
        summary["extension"] = timed("copy_extension", install_extension, webui)
        if not port_is_free(args.port):
            raise RuntimeError(f"port {args.port} on 127.0.0.1 is taken")
        summary["command"] = f"cd {webui} && venv/bin/python launch.py {' '.join(webui_flags(kind, args.port, models))}"
        base = f"http://127.0.0.1:{args.port}"
        t0 = time.time()
        proc = start_webui(webui, kind, args.port, models, reqs, constraints, console)
        timings["start_to_page"] = round(wait_for_page(proc, base + "/", console, args.start_timeout), 1)
        log(f"page answers after {timings['start_to_page']} s")
        summary["ui"] = drive_tab(base + "/", webui, shots, args.job_timeout,
                                  lambda: timed("tiny_models", make_tiny_models, webui, models, setup_log))  # fmt: skip
        summary["rest"] = timed("rest_job", try_rest_job, base, webui, args.job_timeout)
    except Exception as exc:  # reported in the summary
        summary["fatal"] = f"{type(exc).__name__}: {exc}"
    finally:
        if proc is not None:
            summary["stopped"] = stop_webui(proc)
            timings["webui_alive"] = round(time.time() - t0, 1)
    summary["console"] = wan_weave_console(console)
    summary["disk"] = {"venv": du(webui / "venv"), "overlay": du(webui / "extensions" / EXTENSION_NAME / ".worker-deps"),
                       "trial_state": du(state), "checkout_total": du(webui)}  # fmt: skip
    ui = summary.get("ui", {})
    summary["worked"] = {k: bool(v.get("ok")) for k, v in ui.items() if isinstance(v, dict) and "ok" in v}
    summary["worked"]["rest_job"] = bool(summary.get("rest", {}).get("ok"))
    (logs / f"summary-{stamp}.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0 if "fatal" not in summary else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
