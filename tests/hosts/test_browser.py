"""The standalone app in a real browser (Playwright + Debian's chromium), with tiny models: load an
example, see the plan, render and watch progress and the video; cancel; survive a broken file.
Screenshots go to test-artifacts/ (kept by CI as what the browser saw)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.hosts.conftest import API_AUTH
from wan.media.video import probe

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("WAN_WEAVE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def page(app, request):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: tools/test.py installs Debian's chromium")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
        # The app runs with --api-auth: every route, the page included, asks for the credentials.
        page = browser.new_page(viewport={"width": 1300, "height": 1900},
                                http_credentials={"username": API_AUTH[0], "password": API_AUTH[1]})  # fmt: skip
        page.goto(app[0])
        page.wait_for_selector("#wan_weave_settings_file")
        yield page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        browser.close()


def progress(page) -> str:
    return page.locator("#wan_weave_progress textarea").input_value()


def load(page, settings: Path, width=64, height=48, steps=2) -> None:
    page.set_input_files("#wan_weave_settings_file input[type=file]", str(settings))
    page.wait_for_function("document.querySelector('#wan_weave_summary').innerText.includes('clips')")
    for elem, value in (("width", width), ("height", height), ("steps", steps)):
        page.fill(f"#wan_weave_{elem} input", str(value))
        page.keyboard.press("Enter")
    # Each field re-plans on its own event: wait for the last one's result, not an earlier one's.
    page.wait_for_function(f"document.querySelector('#wan_weave_summary').innerText.includes('{width}x{height}') && "
                           f"document.querySelector('#wan_weave_summary').innerText.includes(' {steps} steps')")  # fmt: skip


def wait_for_progress(page, text: str, timeout: int = 180_000) -> None:
    page.wait_for_function(
        f"document.querySelector('#wan_weave_progress textarea').value.startsWith({json.dumps(text)})", timeout=timeout
    )


def time_ranges(page) -> set[str]:
    """The 'time (s)' cells of the plan table (gradio 4 adds a hidden measuring row: a set)."""
    rows = page.locator("#wan_weave_plan tbody tr").all_inner_texts()
    return {[cell.strip() for cell in row.split("\t")][1] for row in rows if "\t" in row}


def test_load_render_and_watch_the_video(page, app):
    load(page, EXAMPLES / "greenhouse_2d.txt")
    assert "3 clips" in page.locator("#wan_weave_summary").inner_text()
    assert time_ranges(page) == {"0.00-4.00", "4.00-8.00", "8.00-12.00"}
    page.click("#wan_weave_enhance")
    wait_for_progress(page, "prompts written (template)")
    # The table may paint a moment after the progress line it came with.
    page.wait_for_function("document.querySelector('#wan_weave_plan').innerText.includes('Cinematic shot, natural light')",
                           timeout=30_000)  # fmt: skip
    page.click("#wan_weave_render")
    seen = set()
    deadline = time.time() + 240
    while time.time() < deadline and not progress(page).startswith("done"):
        seen.add(progress(page))
        assert "Error" not in page.locator("#wan_weave_error").inner_text()
        time.sleep(0.2)
    assert progress(page).startswith("done: 180 frames")
    assert any("· step" in s for s in seen) and any(s.startswith("clip 3/3") for s in seen)
    src = page.locator("#wan_weave_video video").get_attribute("src")
    video = Path(app[1]) / "downloaded.mp4"
    video.write_bytes(page.request.get(src).body())
    info = probe(str(video))
    assert (info.frames, info.fps) == (180, 15.0) and info.seconds == pytest.approx(12.0, abs=0.05)
    assert page.locator("#wan_weave_clip video").get_attribute("src")  # the latest finished clip


def test_cancel_stops_a_render(page, app):
    # 1000 steps: a tiny model's render must not finish before the click reaches the worker (at 6
    # steps a fast machine finished all three clips first and the test waited for "cancelled" in vain).
    load(page, EXAMPLES / "harbor_3d.txt", steps=1000)
    page.click("#wan_weave_render")
    wait_for_progress(page, "clip 1/")
    page.click("#wan_weave_cancel")
    wait_for_progress(page, "cancelled")
    folder = Path(page.locator("#wan_weave_output textarea").input_value())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "cancelled" and manifest["stopped_at_clip"] < 3
    assert page.locator("#wan_weave_error").inner_text().strip() == ""


def test_a_broken_file_shows_an_error_and_the_app_stays_usable(page, tmp_path):
    broken = tmp_path / "broken_settings.txt"
    broken.write_text('{"max_frames": 120, "prompts": {"0": "a sea"}, "translation_x": "0: (1+"}')
    page.set_input_files("#wan_weave_settings_file input[type=file]", str(broken))
    page.wait_for_function("document.querySelector('#wan_weave_error').innerText.includes('Error')")
    message = page.locator("#wan_weave_error").inner_text()
    assert "broken_settings.txt" in message and "translation_x" in message and "Traceback" not in message
    page.fill("#wan_weave_settings_path textarea", str(EXAMPLES / "greenhouse_2d.txt"))  # the other way in
    page.click("#wan_weave_load_path")
    page.wait_for_function("document.querySelector('#wan_weave_summary').innerText.includes('3 clips')")
    assert page.locator("#wan_weave_error").inner_text().strip() == ""
    page.click("#wan_weave_preview")  # the animatic: no model, exact length
    wait_for_progress(page, "done: 180 frames")
    assert page.locator("#wan_weave_video video").get_attribute("src").endswith(".mp4")


def test_speed_options_from_the_tab(page, app):
    load(page, EXAMPLES / "greenhouse_2d.txt")
    page.click("text=Speed (recorded in the plan)")
    page.click("#wan_weave_fp8 input")
    page.wait_for_function("document.querySelector('#wan_weave_summary').innerText.includes('speed options on')")
    page.click("#wan_weave_render")
    wait_for_progress(page, "done: 180 frames", timeout=240_000)
    folder = Path(page.locator("#wan_weave_output textarea").input_value())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert any(line.startswith("fp8 weights") for line in manifest["speed"])


def test_keyframes_from_a_paragraph_in_the_tab(page, app):
    # The tab's path from one paragraph: the storyboard and the keyframe images in the worker, then
    # the keyframe settings loaded with flf2v_keyframes (tests/ui/test_keyframes_tab.py renders them).
    for elem, value in (("width", 64), ("height", 48), ("steps", 2)):
        page.fill(f"#wan_weave_{elem} input", str(value))
        page.keyboard.press("Enter")
    page.click("text=Keyframes: from one paragraph")
    page.fill("#wan_weave_paragraph textarea", "A lighthouse at dusk. Waves break on the rocks.")
    page.fill("#wan_weave_seconds input", "4")
    page.fill("#wan_weave_film_fps input", "15")
    page.click("#wan_weave_keyframes")
    wait_for_progress(page, "keyframes made")
    summary = page.locator("#wan_weave_summary").inner_text()
    assert "flf2v_keyframes" in summary and "2 clips" in summary and "64x48" in summary
    assert page.locator("#wan_weave_settings_path textarea").input_value().endswith("storyboard_keyframes.txt")
    folder = Path(page.locator("#wan_weave_output textarea").input_value())
    assert sorted(p.name for p in (folder / "keyframes").glob("*.png")) == ["kf_00000.png", "kf_00030.png", "kf_00059.png"]
    # The mode's change to flf2v_keyframes re-plans once more: its queue line shows in the error box
    # until it is done, then the box must be empty.
    page.wait_for_function("document.querySelector('#wan_weave_error').innerText.trim() === ''", timeout=30_000)
    assert "flf2v_keyframes" in page.locator("#wan_weave_summary").inner_text()
