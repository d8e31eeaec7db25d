"""Fixtures of the method tests: fake tool checkouts for the ``external`` method's recipes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

FAKE_TOOLS = Path(__file__).parent / "fake_tools"
#: The fake tools are scripts the tests run, not tests (MiniMax-Remover's is named test_minimax_remover.py).
collect_ignore_glob = ["fake_tools/*"]

#: Weight files each fake checkout needs (relative to the checkout), as the recipe's defaults expect them. They are
#: git-ignored, as weights are in real checkouts, so the checkout stays clean.
FAKE_WEIGHTS: dict[str, tuple[str, ...]] = {
    "propainter": ("weights/ProPainter.pth", "weights/recurrent_flow_completion.pth", "weights/raft-things.pth"),
    "diffueraser": (
        "weights/stable-diffusion-v1-5/model_index.json",
        "weights/sd-vae-ft-mse/config.json",
        "weights/diffuEraser/config.json",
        "weights/propainter/ProPainter.pth",
        "weights/PCM_Weights/sd15/pcm_sd15_smallcfg_2step_converted.safetensors",
    ),
    "minimax-remover": ("vae/config.json", "transformer/config.json", "scheduler/scheduler_config.json"),
    "rose": ("models/Wan2.1-Fun-1.3B-InP/config.json", "weights/transformer/config.json"),
    "e2fgvi": ("release_model/E2FGVI-HQ-CVPR22.pth",),
    "lama": ("big-lama/config.yaml", "big-lama/models/best.ckpt"),
    "void-model": (
        "CogVideoX-Fun-V1.5-5b-InP/transformer/config.json",
        "void_pass1.safetensors",
        "void_pass2.safetensors",
    ),
}
#: The fake checkout each shipped recipe runs against.
FAKE_FOR_RECIPE = {name: name for name in FAKE_WEIGHTS} | {"void-pass1": "void-model", "void-pass2": "void-model"}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def fake_checkout(tmp_path: Path) -> Callable[..., Path]:
    """A git checkout of the fake tool ``name`` (scripts, its weights, fakefill.py beside each script)."""

    def build(name: str, *, git: bool = True) -> Path:
        repo = tmp_path / f"{name}-checkout"
        shutil.copytree(FAKE_TOOLS / name, repo)
        for script in list(repo.rglob("*.py")):
            if "from fakefill import" in script.read_text():
                shutil.copy(FAKE_TOOLS / "_common" / "fakefill.py", script.parent / "fakefill.py")
        weights = FAKE_WEIGHTS.get(name, ())
        for relative in weights:
            path = repo / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"fake {name} weights: {relative}".encode())
        if git:
            (repo / ".gitignore").write_text("".join(f"/{w}\n" for w in weights) + "__pycache__/\n")
            _git(repo, "init", "-q")
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "-m", "fake checkout")
        return repo

    return build
