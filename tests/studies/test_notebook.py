"""The user-study notebook runs top to bottom on the shipped fixtures (so it cannot rot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._notebooks import execute_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "user_study_analysis.ipynb"


@pytest.mark.slow
def test_notebook_executes():
    run = execute_notebook(NOTEBOOK, timeout=180)
    assert "81" in run.text and "[0.561, 0.726]" in run.text  # 64.8% = 81/125: the press claim's Wilson interval
    assert "Goodman simultaneous" in run.text and "participant bootstrap" in run.text
    assert not run.has_error()
