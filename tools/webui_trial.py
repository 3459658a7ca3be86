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
unless --shots). Every workaround here is for the host on this machine; none touches Wan Weave."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from webui_drive import (  # tools/ is on sys.path when run as a script
    drive_tab,
    ensure_chromium,
    ensure_playwright,
    try_rest_job,
)
from webui_host import (
    EXTENSION_NAME,
    HOST_WORKAROUNDS,
    REPO,
    detect_kind,
    du,
    ensure_venv_with_torch,
    git,
    guard_torchvision,
    install_extension,
    install_host_requirements,
    log,
    make_tiny_models,
    place_repositories,
    port_is_free,
    start_webui,
    stop_webui,
    wait_for_page,
    wan_weave_console,
    webui_flags,
)


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
        summary["torchvision_guard"] = guard_torchvision(webui / "venv")
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
