"""Code and docstrings cite the project's own ``docs/*.md``: every cited page exists in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"docs/([A-Za-z0-9_-]+\.md)")


def test_every_cited_docs_page_exists():
    cited: dict[str, list[str]] = {}
    for folder in ("void_eval", "forensics", "studies", "benchmarks", "tests", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            if "node_modules" in path.parts or ".venv" in path.parts:
                continue
            for name in CITATION.findall(path.read_text(encoding="utf-8")):
                cited.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert {"metrics.md", "void-format.md", "protocols.md"} <= set(cited)
    missing = {name: where for name, where in cited.items() if not (ROOT / "docs" / name).is_file()}
    assert not missing, f"cited but not in docs/: {missing}"
