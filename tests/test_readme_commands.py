"""README.md's runnable commands, run as a new user runs them: in order, by bash, in a fresh folder.

The folder holds only what a checkout gives a user: ``.venv`` (a link to this interpreter's environment) and,
beside it, ``../shared`` (a link to the shared sample clips). A command fails the test on a non-zero exit or a
traceback anywhere in its output; a ``--json`` command must print one JSON document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._readme import MARKER, runnable_commands
from tests.conftest import REPO_ROOT, SAMPLES_ROOT

README = REPO_ROOT / "README.md"


def test_extractor_reads_only_marked_blocks():
    text = "```bash\nnot me\n```\n```bash runnable\na \\\n  b  # why\n\n# a note\nc\n```\n```python\nx = 1\n```\n"
    assert runnable_commands(text) == ["a b  # why", "c"]
    commands = runnable_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 10 and all(command.startswith(".venv/bin/void-eval ") for command in commands)


@pytest.fixture
def fresh_folder(tmp_path, samples_root) -> Path:
    environment = Path(sys.executable).parent.parent
    if not (environment / "bin" / "void-eval").is_file():
        pytest.fail(f"no void-eval script in {environment}/bin: run the tests from the project's environment")
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / ".venv").symlink_to(environment, target_is_directory=True)
    (tmp_path / "shared").symlink_to(SAMPLES_ROOT.parents[1], target_is_directory=True)
    return folder


@pytest.mark.slow
def test_every_runnable_readme_command_works_in_a_fresh_folder(fresh_folder):
    commands = runnable_commands(README.read_text(encoding="utf-8"))
    assert commands, f"no ```{MARKER} block in README.md"
    environment = {**os.environ, "COLUMNS": "80", "HF_HUB_OFFLINE": "1"}
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=fresh_folder, env=environment, capture_output=True, text=True, timeout=600
        )
        said = (
            f"$ {command}\nexit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
        assert done.returncode == 0, said
        assert "Traceback" not in done.stdout + done.stderr, said
        if "--json" in command.split("#")[0].split():
            json.loads(done.stdout)
    # what the walk-through promises is there
    report = (fresh_folder / "first" / "run" / "report" / "index.html").read_text(encoding="utf-8")
    assert "no CI: fewer than 5 clips back every mean" in report and "95% percentile-bootstrap" not in report
    assert sorted(path.name for path in (fresh_folder / "first" / "heatmaps").glob("*_heatmap.mp4")) == [
        "copy_000_occlusion_output_heatmap.mp4",
        "telea_000_occlusion_output_heatmap.mp4",
    ]
