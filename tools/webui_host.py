"""The host side of tools/webui_trial.py: a Forge or A1111 checkout's environment on this CPU machine
(venv, torch, pins, helper repositories), this repository installed as its extension, and the WebUI
started and stopped. Every workaround here is for the host on this machine; none touches Wan Weave."""

from __future__ import annotations

import hashlib
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

from devenv import ROOT as REPO
from devenv import TORCH_PIN as TORCH
from devenv import TORCHVISION_PIN, guard_torchvision  # noqa: F401 (webui_trial.py takes the guard from here)

EXTENSION_NAME = "wan-weave"




TORCHVISION = TORCHVISION_PIN


SETUPTOOLS = "setuptools==80.9.0"  # torch needs >=77; the hosts import pkg_resources, gone in >=81


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


def without_torch(requirements: Path) -> list[str]:
    """A host's pinned requirement lines without torch (the CPU wheel on disk stands in) and
    setuptools (69.5.1 is too old for torch 2.13; SETUPTOOLS stands in)."""
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name = re.split(r"[=<>~!\s#\[]", line.strip(), maxsplit=1)[0].lower()
        if name and name not in ("torch", "setuptools"):
            lines.append(line.split("#")[0].strip())
    return lines


def host_requirements(webui: Path, kind: str) -> list[str]:
    """The host's requirements_versions.txt without torch (on disk already) and setuptools (69.5.1 is
    too old for torch 2.13), plus, for Forge, the requirement files that built-in extensions'
    install.py scripts pip-install one by one at each start (pre-installing them in one resolution
    keeps numpy 1.26 / protobuf 3.20 / opencv 4.11 consistent instead of upgraded piecemeal)."""
    lines = without_torch(webui / "requirements_versions.txt")
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
