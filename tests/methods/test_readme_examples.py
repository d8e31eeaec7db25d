"""The README's two ``precomputed`` examples, run as written against small stand-ins of the exports they name."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import cv2
import numpy as np

from void_eval.cli import main
from void_eval.video import read_video, write_video

README = Path(__file__).resolve().parents[2] / "README.md"


def _section_commands(marker: str) -> list[list[str]]:
    """The ``void-eval bench`` commands of the README section "Scoring outputs made elsewhere" that use ``marker``."""
    text = README.read_text()
    section = text.split("## Scoring outputs made elsewhere", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    commands = []
    for block in blocks:
        for command in block.replace("\\\n", " ").splitlines():
            if "void-eval bench" in command and marker in command:
                commands.append(shlex.split(command.split("#")[0])[1:])
    return commands


def _ping_pong(frames: np.ndarray, length: int) -> np.ndarray:
    out = list(frames)
    while len(out) < length:
        out = (out + out[::-1])[:length]
    return np.stack(out)


def _cells(run: Path) -> dict[str, dict]:
    return {f"{c['method']}/{c['clip']}": c for c in json.loads((run / "run.json").read_text())["cells"]}


def test_runway_and_upstream_void_examples(make_clip, tmp_path, monkeypatch):
    clips = tmp_path / "shared" / "data" / "void_samples"
    clips.mkdir(parents=True)
    for name in ("BigBen", "ducky-float"):
        make_clip(name, frames=8, height=24, width=32).rename(clips / name)
    cwd = tmp_path / "work"
    (cwd / "exports").mkdir(parents=True)
    for folder in ("void_out", "void_out2"):
        (cwd / folder).mkdir()
    for name in ("BigBen", "ducky-float"):
        frames = read_video(clips / name / "input_video.mp4")
        big = np.stack([cv2.resize(f, (64, 48), interpolation=cv2.INTER_LINEAR) for f in frames])
        write_video(cwd / "exports" / f"{name}_runway.mp4", big, 24)  # another size, h264, as an export
        upstream = np.stack([cv2.resize(f, (672, 384), interpolation=cv2.INTER_AREA) for f in _ping_pong(frames, 85)])
        write_video(cwd / "void_out" / f"{name}-fg=-1-0001.mp4", upstream, 12)
        write_video(cwd / "void_out" / f"{name}-fg=-1-0001_tuple.mp4", upstream[:, :, :100], 12)  # never read
        write_video(cwd / "void_out2" / f"{name}_warped_noise_inference.mp4", upstream, 12)
    monkeypatch.chdir(cwd)
    commands = _section_commands("runway=precomputed") + _section_commands("void1=precomputed")
    assert len(commands) == 2
    for command in commands:
        command = [arg.replace("../shared", str(tmp_path / "shared")) for arg in command]
        assert main([*command, "--metrics", "psnr", "--quiet"]) == 0, command
    runway = _cells(cwd / "RUN_RUNWAY")
    assert runway["runway/BigBen"]["method_run"]["resized_from"] == [48, 64]
    assert runway["runway_keep/BigBen"]["method_run"]["composite"] == "remove"
    void = _cells(cwd / "RUN_VOID")
    for key in ("void1/BigBen", "void2/ducky-float"):
        assert void[key]["method_run"]["trimmed_frames"] == 77 and void[key]["method_run"]["resized_from"] == [384, 672]
