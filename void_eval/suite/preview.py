"""Contact sheets of a suite: per family, a few frames as rows of factual | counterfactual | quadmask | shadow.

The quadmask panel shows the factual frame dimmed, with REMOVE in red, OVERLAP in yellow and AFFECTED in blue;
the shadow panel shows the removed object's shadow pixels in magenta over the dimmed factual frame.

Examples
--------
>>> paths = write_previews("suite_out")  # doctest: +SKIP
>>> [path.name for path in paths]  # doctest: +SKIP
['preview_occlusion.png', 'preview_shadow.png', 'preview_support.png', 'preview_collision.png', 'preview_chain.png']
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from void_eval.atomic import atomic_path
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.quadmask import QuadLevel, read_quadmask
from void_eval.video import read_video

LEVEL_COLOURS = {
    QuadLevel.REMOVE: (230, 30, 30),
    QuadLevel.OVERLAP: (250, 220, 20),
    QuadLevel.AFFECTED: (40, 110, 255),
}
SHADOW_COLOUR = (255, 0, 255)
PANELS = ("factual (input)", "counterfactual", "quadmask", "shadow")


def _overlay(frame: np.ndarray, regions: list[tuple[np.ndarray, tuple[int, int, int]]]) -> np.ndarray:
    out = (frame.astype(np.float32) * 0.45).astype(np.uint8)
    for region, colour in regions:
        out[region] = colour
    return out


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    out = panel.copy()
    scale = float(np.clip(panel.shape[0] / 480, 0.25, 1.0))
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    out[: height + baseline + 4, : width + 6] //= 3
    cv2.putText(out, text, (3, height + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def contact_sheet(clip_folder: str | Path, *, rows: int = 4) -> np.ndarray:
    """The contact sheet of one clip as an RGB uint8 image (``rows`` evenly spaced frames, last frame included)."""
    clip = Clip.load(clip_folder)
    if clip.counterfactual_path is None:
        raise InputError(clip.path, "has no counterfactual.mp4: not a suite clip")
    factual = read_video(clip.input_path)
    counterfactual = read_video(clip.counterfactual_path)
    levels = read_quadmask(clip.mask_files[0]).levels
    shadow_path = clip.path / "shadow_mask.mp4"
    shadow = read_video(shadow_path)[..., 0] > 127 if shadow_path.exists() else np.zeros(levels.shape, bool)
    picks = np.unique(np.linspace(0, clip.frames - 1, max(1, rows)).round().astype(int))
    lines = []
    for frame in picks:
        quad = _overlay(factual[frame], [(levels[frame] == level, colour) for level, colour in LEVEL_COLOURS.items()])
        shade = _overlay(factual[frame], [(shadow[frame], SHADOW_COLOUR)])
        panels = [factual[frame], counterfactual[frame], quad, shade]
        texts = [f"{PANELS[0]} t={frame}", PANELS[1], PANELS[2], PANELS[3]]
        separator = np.full((factual.shape[1], 2, 3), 255, np.uint8)
        row = []
        for panel, text in zip(panels, texts, strict=True):
            row.extend([_label(panel, text), separator])
        lines.append(np.concatenate(row[:-1], axis=1))
        lines.append(np.full((2, lines[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(lines[:-1], axis=0)


def write_previews(suite_dir: str | Path, *, out_dir: str | Path | None = None, rows: int = 4) -> list[Path]:
    """Write ``preview_<family>.png`` for the first clip of each family in ``suite_dir``; returns the PNG paths.

    ``out_dir`` defaults to ``suite_dir`` itself (files, not a folder, so tools that treat every sub-folder as a
    clip are not disturbed).
    """
    suite_dir = Path(suite_dir)
    if not suite_dir.is_dir():
        raise InputError(suite_dir, "suite folder not found")
    firsts: dict[str, Path] = {}
    for folder in sorted(path for path in suite_dir.iterdir() if path.is_dir() and (path / "meta.json").exists()):
        scenario = Clip.load(folder).scenario
        firsts.setdefault(scenario, folder)
    if not firsts:
        raise InputError(suite_dir, "holds no suite clips (folders with meta.json)")
    out_dir = suite_dir if out_dir is None else Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for scenario, folder in firsts.items():
        sheet = contact_sheet(folder, rows=rows)
        path = out_dir / f"preview_{scenario}.png"
        with atomic_path(path) as temp:
            if not cv2.imwrite(str(temp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
                raise InputError(path, "could not write PNG")
        paths.append(path)
    return paths
