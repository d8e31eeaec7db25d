"""Execute a notebook the way a user would (fresh kernel started in the notebook's own folder, as Jupyter does;
stored outputs cleared) and collect what it printed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ExecutedNotebook:
    outputs: list[dict]
    text: str

    def has_image(self) -> bool:
        return any("image/png" in output.get("data", {}) for output in self.outputs)

    def has_error(self) -> bool:
        return any(output.get("output_type") == "error" for output in self.outputs)


def execute_notebook(path: Path, *, timeout: int = 180) -> ExecutedNotebook:
    """Run every code cell of ``path`` in a python3 kernel started in ``path``'s folder; raises on a failing cell.

    The kernel inherits this process's environment (``VOID_EVAL_*`` settings, ``PYTHONPATH``).
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(
        notebook, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(Path(path).parent)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "\n".join(
        str(output.get("text", ""))
        + str(output.get("data", {}).get("text/markdown", "") or "")
        + str(output.get("data", {}).get("text/plain", ""))
        for output in outputs
    )
    return ExecutedNotebook(outputs=outputs, text=text)
