"""The participant page in headless Debian chromium: click through a packet, download and parse the CSV."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from studies.analysis import analyze
from studies.design import make_design
from studies.packets import write_study
from studies.responses import COPY_INPUT, read_responses
from void_eval.video import write_video

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = pytest.mark.browser


def _clips(root: Path) -> Path:
    """Two clips, two methods and the input: small h264 videos of a moving square (each method its own tint)."""
    for clip in ("beach", "street"):
        for channel, name in enumerate(("void", "telea", "input_video")):
            frames = np.full((24, 72, 96, 3), 40, np.uint8)
            for t in range(24):
                frames[t, ..., channel] = 90 + 5 * t
                frames[t, 20:40, 3 * t : 3 * t + 20] = 250
            (root / clip).mkdir(parents=True, exist_ok=True)
            write_video(root / clip / f"{name}.mp4", frames, 12.0)
    return root


def _wait_for(page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll a JS expression (the page's CSP forbids the string eval behind page.wait_for_function)."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def test_click_through_a_packet_and_parse_the_csv(tmp_path):
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    clips = _clips(tmp_path / "clips")
    design = make_design(
        ["void", "telea"], ["beach", "street"], participants=2, questions="plausibility,artifacts", rounds=2, seed=4
    )
    write_study(design, tmp_path / "study", clips_folder=clips)
    page_path = tmp_path / "study" / "site" / "packets" / "P01.html"
    html = page_path.read_text()
    assert "<script src" not in html and "<link" not in html and "http" not in html.split("<script>")[1]
    trials = design.trials_for("P01")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(accept_downloads=True, viewport={"width": 1100, "height": 820})
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(page_path.as_uri())
        page.click("#start")
        assert page.locator("video").count() == 2
        _wait_for(page, "Array.from(document.querySelectorAll('video')).every(v => v.readyState >= 2)")
        # synchronised playback: play, then the videos stay within 0.1 s of each other
        page.keyboard.press("Space")
        _wait_for(page, "document.querySelector('video').currentTime > 0.6")
        assert page.evaluate("window.studyPage.maxDrift()") < 0.1
        page.keyboard.press("Space")
        assert page.evaluate("Array.from(document.querySelectorAll('video')).every(v => v.paused)")
        page.locator("#scrub").fill("500")
        page.wait_for_timeout(100)
        assert page.evaluate("window.studyPage.maxDrift()") < 0.01
        times = page.evaluate("Array.from(document.querySelectorAll('video')).map(v => v.currentTime)")
        assert times[0] == pytest.approx(1.0, abs=0.1)
        assert page.locator("#next").is_disabled()
        page.screenshot(path=str(tmp_path / "page.png"))
        expected: dict[tuple[int, str], str] = {}
        for index, trial in enumerate(trials):
            assert page.locator("#progress-text").inner_text().startswith(f"Trial {index + 1} of {len(trials)}")
            page.wait_for_timeout(30)
            if trial.check == COPY_INPUT:  # a careful participant picks the real removal for both questions
                good = 1 - trial.options.index(COPY_INPUT)
                page.keyboard.press(str(good + 1))
                page.keyboard.press(str(good + 1))
                expected[(index, "plausibility")] = expected[(index, "artifacts")] = trial.options[good]
                page.keyboard.press("n")
            elif index % 2:  # keyboard: 2 answers the highlighted question, then 0 (tie) the next
                page.keyboard.press("2")
                page.keyboard.press("0")
                expected[(index, "plausibility")] = trial.options[1]
                expected[(index, "artifacts")] = "tie"
                page.keyboard.press("Enter")
            else:  # mouse: click option A for both questions
                page.locator(".question").nth(0).locator(".choice").nth(0).click()
                page.locator(".question").nth(1).locator(".choice").nth(0).click()
                expected[(index, "plausibility")] = expected[(index, "artifacts")] = trial.options[0]
                page.click("#next")
        assert page.locator("#done").is_visible()
        assert page.locator("#progress-text").inner_text().endswith(f"{len(trials)} complete")
        with page.expect_download() as download:
            page.click("#download-final")
        assert download.value.suggested_filename == "responses_P01.csv"
        csv_path = tmp_path / "responses_P01.csv"
        download.value.save_as(csv_path)
        browser.close()
    assert not errors
    frame = read_responses(csv_path)
    assert len(frame) == 2 * len(trials)
    for row in frame.itertuples():
        trial = trials[row.trial]
        assert row.participant == "P01" and row.clip == trial.clip and row.options == trial.options
        assert row.attention == trial.attention and row.choice == expected[(row.trial, row.question)]
        assert row.rt_ms > 0
    assert frame.options.map(lambda o: COPY_INPUT in o).sum() == 2  # one copy-input check, two questions
    result = analyze(frame, salt="x", bootstrap=20, mixed_model=False, min_rt_ms=0)
    counts = result.summary["exclusions"]
    assert counts["attention_answers"] == 4 and counts["participants_excluded"] == 0
    assert counts["answers_analysed"] == 2 * (len(trials) - 2)


def test_forced_choice_page_offers_no_tie(tmp_path):
    from playwright.sync_api import sync_playwright

    design = make_design(["void", "telea"], ["beach"], participants=1, seed=1, allow_tie=False)
    write_study(design, tmp_path / "study")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto((tmp_path / "study" / "site" / "packets" / "P01.html").as_uri())
        page.click("#start")
        assert page.locator(".choice").count() == 2  # A and B only, no "No preference"
        page.keyboard.press("0")
        page.keyboard.press("t")
        assert page.evaluate("window.studyPage.csvText()").count("\n") == 1  # header only: nothing recorded
        page.keyboard.press("1")
        assert "tie" not in page.evaluate("window.studyPage.csvText()").splitlines()[1]
        browser.close()
