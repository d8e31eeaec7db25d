"""notebooks/detection_check.ipynb runs top to bottom from its own folder (one clip from detection to verdict)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._notebooks import execute_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "detection_check.ipynb"


@pytest.mark.slow
def test_detection_notebook_executes():
    run = execute_notebook(NOTEBOOK, timeout=300)
    assert "declared-edit" in run.text and "mean pixel AUC" in run.text and "video score, telea" in run.text
    assert run.has_image()
