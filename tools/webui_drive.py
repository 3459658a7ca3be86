"""The user side of tools/webui_trial.py: Playwright (Debian's chromium) drives the Wan Weave tab in a
running WebUI (load, Preview, Render), and a REST job goes through /wan-weave/v1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from webui_host import EXTENSION_NAME, log  # tools/ is on sys.path when run as a script

PLAYWRIGHT = "playwright>=1.40"


CHROMIUM = "/usr/bin/chromium"


# Chromium without these flags keeps trying Google's hosts, which this machine's network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


EXAMPLE = "examples/greenhouse_2d.txt"


SIZE = {"width": 64, "height": 48, "steps": 2}


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
    os.execv(str(python), [str(python), str(Path(sys.argv[0]).resolve()), *sys.argv[1:]])  # the trial script


def ensure_chromium() -> None:
    """Playwright drives Debian's chromium (a browser download of Playwright's own cannot work here)."""
    if os.path.exists(CHROMIUM):
        return
    log("installing Debian's chromium with apt")
    subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True, capture_output=True)


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
