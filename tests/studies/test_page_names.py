"""Clip and method names cannot break the participant page: its embedded packet escapes ``<!--`` and ``<script``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from studies.design import make_design
from studies.packets import write_study

HOSTILE_CLIP = "<!--<script>"
HOSTILE_METHOD = "<script>alert(1)<!--"  # a name cannot hold "/", so no "</script>" here


def _packet_text(page: str) -> str:
    match = re.search(r'<script type="application/json" id="packet">(.*?)</script>', page, re.DOTALL)
    assert match, "no packet element"
    return match.group(1)


def _study(tmp_path: Path) -> Path:
    design = make_design([HOSTILE_METHOD, "telea"], [HOSTILE_CLIP, "street"], participants=1, seed=2)
    write_study(design, tmp_path / "study")
    return tmp_path / "study" / "site" / "packets" / "P01.html"


def test_the_packet_is_inert_html_and_parses_back(tmp_path):
    page = _study(tmp_path).read_text()
    text = _packet_text(page)
    assert "<" not in text and ">" not in text and "&" not in text
    packet = json.loads(text)
    assert {trial["clip"] for trial in packet["trials"]} >= {HOSTILE_CLIP}
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the packet and the page's own script


@pytest.mark.browser
def test_the_page_script_runs_with_hostile_names(tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.studies.test_page import ARGS, CHROMIUM

    path = _study(tmp_path)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(path.as_uri())
        assert page.evaluate("typeof window.studyPage") == "object"
        page.click("#start")
        assert page.locator("#progress-text").inner_text().startswith("Trial 1 of ")
        browser.close()
    assert not errors
