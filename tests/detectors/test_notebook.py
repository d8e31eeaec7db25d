"""notebooks/detection_check.ipynb runs top to bottom (one clip from detection to verdict)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "detection_check.ipynb"


@pytest.mark.slow
def test_detection_notebook_executes():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(
        notebook, kernel_name="python3", timeout=240, resources={"metadata": {"path": str(NOTEBOOK.parent.parent)}}
    ).execute()
    text = "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "declared-edit" in text and "mean pixel AUC" in text and "video score, telea output" in text
    assert any(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
