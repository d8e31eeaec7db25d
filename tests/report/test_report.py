"""The report: self-contained HTML that renders in headless chromium with no broken image, Markdown, notebook."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests._notebooks import execute_notebook
from void_eval.report.build import build_report

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("VOID_EVAL_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
CHROMIUM = "/usr/bin/chromium"


def test_report_files_are_self_contained(bench_run):
    index = build_report(bench_run)
    text = index.read_text()
    sources = re.findall(r"<img[^>]*src='([^']*)'", text)
    assert len(sources) == 3 + 8  # per-scenario, per-region, run times, one strip per clip
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert "http://" not in text and "https://" not in text
    for needle in ("Leaderboard", "cf_score ↑ affected", "psnr ↑ remove", "Frame strips", "Run times", "Provenance"):
        assert needle in text
    markdown = (index.parent / "report.md").read_text()
    assert "| method |" in markdown and "![per scenario](per_scenario.png)" in markdown
    # the metric guide: a sentence per metric and where it applies (traj_err: not on occlusion, yes on support)
    guide = markdown.split("## The metrics")[1].split("## ")[0]
    traj = next(line for line in guide.splitlines() if line.startswith("| traj\\_err"))
    header = next(line for line in guide.splitlines() if line.startswith("| metric"))
    cells = dict(zip(header.strip("|").split("|"), traj.strip("|").split("|"), strict=True))
    assert cells[" occlusion "].strip() == "n/a" and cells[" support "].strip() == "✓" and "↓ \\[0, inf\\]" in traj
    assert [line.split("|")[1].strip() for line in guide.splitlines() if line.startswith("| ")][1:] == [
        "psnr", "flicker", "cf\\_score", "motion\\_agreement", "traj\\_err"
    ]  # fmt: skip
    assert "flicker_cf" not in text.split("<h2>The metrics</h2>")[0]  # the truth's own value ranks nothing
    assert "<h2>The metrics</h2>" in text and "moves as in the counterfactual" in text
    assert (index.parent / "strip_000_occlusion.png").exists()


@pytest.mark.browser
def test_report_renders_in_chromium(bench_run):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"headless chromium is missing at {CHROMIUM} (make browser installs it)")
    from playwright.sync_api import sync_playwright

    index = build_report(bench_run)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "report_page.png"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    args += ["--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(index.as_uri())
            page.wait_for_load_state("load")
            widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
            rows = page.eval_on_selector_all("table:first-of-type tbody tr", "rows => rows.length")
            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    assert len(widths) == 11 and all(width > 0 for width in widths), widths
    assert rows == 6 and not errors
    assert screenshot.stat().st_size > 10_000


def test_notebook_reproduces_leaderboard(bench_run, monkeypatch):
    source = REPO_ROOT / "notebooks" / "benchmark_report.ipynb"
    # kernel in notebooks/ as Jupyter starts it; a run path relative to the repository is found from there
    monkeypatch.setenv("VOID_EVAL_RUN_DIR", os.path.relpath(bench_run, REPO_ROOT))
    monkeypatch.setenv("VOID_EVAL_COMPARE", "flowprop,telea")
    run = execute_notebook(source, timeout=240)
    text = run.text
    assert "leaderboard" in text and "oracle" in text and "flowprop" in text
    assert "**flowprop vs telea**" in text and "flowprop better on" in text and "of 8 clips" in text
    assert "sign test p =" in text and "sign_p" in text
    images = [output for output in run.outputs if "image/png" in output.get("data", {})]
    assert len(images) == 3  # per scenario, per region, paired differences per scenario family
