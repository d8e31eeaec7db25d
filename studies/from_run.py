"""Study media straight from a finished benchmark run: no copying files into a ``CLIPS/<clip>/<method>.mp4`` tree.

:func:`run_media` reads ``RUN/run.json`` and, for the chosen method labels, takes each clip whose cells all
finished: the output ``RUN/cells/<method>/<clip>/output.mp4`` (its sha256 must still be the one the run recorded)
and the clip's ``input_video.mp4`` for the copy-input check (its sha256 must match the input the outputs were made
from). A clip where one of the methods failed is left out with a note, so every screen compares outputs of the
same clips.

Run outputs are usually lossless RGB h264, which browsers do not play; and a study should not let compression tell
options apart. So :func:`encode_for_browser` re-encodes every video of the study, the input included, the same way
(h264 yuv420p, one crf) at the clip's frame rate.

Example
-------
>>> RunMedia(clips=["a"], sources={}, notes=[]).clips
['a']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from studies.responses import COPY_INPUT
from void_eval.errors import InputError

#: Quality of the study's re-encoded videos (libx264 crf; 18 is visually lossless for most footage).
STUDY_CRF = 18


@dataclass
class RunMedia:
    """Clips every chosen method finished, the file behind each ``(clip, method)``, and what was left out."""

    clips: list[str]
    sources: dict[tuple[str, str], Path]
    notes: list[str] = field(default_factory=list)


def _read_run(run_dir: Path) -> dict:
    path = run_dir / "run.json"
    if not path.is_file():
        raise InputError(run_dir, "not a finished run: no run.json (run `void-eval run` or `bench` first)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InputError(path, f"unreadable: {err}") from err


def run_media(
    run_dir: str | Path, methods: list[str], *, clips: list[str] | None = None, with_input: bool = True
) -> RunMedia:
    """The study media of ``methods`` (run labels) in ``run_dir``; ``clips`` restricts to those names."""
    from void_eval.hashing import file_sha256

    run_dir = Path(run_dir)
    record = _read_run(run_dir)
    labels = [spec["label"] for spec in record.get("config", {}).get("methods", [])]
    unknown = [m for m in methods if m not in labels]
    if unknown:
        raise InputError(run_dir, f"has no method(s) {', '.join(unknown)} (its methods: {', '.join(labels)})")
    folders = {Path(p).name: Path(p) for p in record.get("config", {}).get("clip_folders", [])}
    cells = {(c["method"], c["clip"]): c for c in record.get("cells", [])}
    names = clips if clips is not None else sorted({clip for _, clip in cells})
    missing = [name for name in names if name not in folders]
    if missing:
        raise InputError(run_dir, f"has no clip(s) {', '.join(missing)}")
    media = RunMedia(clips=[], sources={})
    for clip in names:
        failed = [m for m in methods if cells.get((m, clip), {}).get("status") != "done"]
        if failed:
            media.notes.append(f"left out clip {clip}: {', '.join(failed)} did not finish it")
            continue
        for method in methods:
            output = run_dir / "cells" / method / clip / "output.mp4"
            if not output.is_file() or file_sha256(output) != cells[(method, clip)]["output_sha256"]:
                raise InputError(output, "missing or changed since the run recorded it (rerun the run to restore it)")
            media.sources[(clip, method)] = output
        if with_input:
            media.sources[(clip, COPY_INPUT)] = _input_of(folders[clip], cells[(methods[0], clip)])
        media.clips.append(clip)
    if not media.clips:
        raise InputError(run_dir, f"no clip was finished by all of {', '.join(methods)}; " + "; ".join(media.notes))
    return media


def _input_of(folder: Path, cell: dict) -> Path:
    from void_eval.hashing import file_sha256

    path = folder / "input_video.mp4"
    if not path.is_file():
        raise InputError(path, "the clip's input is gone (needed by the copy-input check; or use 0 copy-input checks)")
    if cell.get("input_sha256") and file_sha256(path) != cell["input_sha256"]:
        raise InputError(path, "differs from the input the run's outputs were made from")
    return path


def encode_for_browser(source: Path, target: Path, *, crf: int = STUDY_CRF) -> Path:
    """Re-encode ``source`` as h264 yuv420p at its frame rate (written atomically) for the study's pages."""
    from void_eval.video import VideoReader, VideoWriter

    reader = VideoReader(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(target, reader.info.fps, kind="h264", crf=crf) as writer:
        for chunk in reader.chunks(16):
            writer.write(chunk)
    return target
