"""Names become text, never markup: a clip folder or method label full of HTML and Markdown stays inert."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from void_eval.cli import main

HOSTILE_CLIP = "<img src=x onerror=alert(1)>*[a](javascript:b)*"
HOSTILE_LABEL = "m|<b>x<i>_"  # a label cannot hold "/"


def test_report_md_and_html_escape_clip_and_method_names(make_clip, tmp_path, capsys):
    clip = make_clip(HOSTILE_CLIP, frames=6)
    out = tmp_path / "run"
    args = ["bench", "--clips", str(clip), "--methods", f"{HOSTILE_LABEL}=copy", "--out", str(out)]
    assert main([*args, "--metrics", "psnr", "--quiet"]) == 0, capsys.readouterr().err
    markdown = (out / "report" / "report.md").read_text()
    assert "<img src=x" not in markdown and "<b>" not in markdown and "<i>" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    rendered = MarkdownIt("commonmark").render(markdown)
    images = re.findall(r"<img [^>]*>", rendered)  # each exactly a local src and a text alt: no onerror attribute
    assert images and all(re.fullmatch(r'<img src="[\w%.-]+\.png" alt="[^"<>]*" />', tag) for tag in images), images
    assert "<b>" not in rendered and "<i>" not in rendered and 'href="javascript' not in rendered
    assert HOSTILE_CLIP in re.sub(r"&lt;", "<", re.sub(r"&gt;", ">", rendered)).replace("\\", "")
    page = (out / "report" / "index.html").read_text()
    assert "<img src=x" not in page and "<b>x<i>" not in page
    assert (out / "report" / f"strip_{HOSTILE_CLIP}.png").is_file()
