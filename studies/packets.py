"""Write a designed study to disk: experimenter files, and a ``site/`` folder to give to participants.

Layout of ``out``::

    design.json          settings, seed, balance report (experimenter only)
    trials.csv           every trial of every packet, screen order recorded (experimenter only)
    media_manifest.csv   clip, method, media file (experimenter only: it unblinds the file names)
    site/packets/P01.html  one self-contained page per participant (inline CSS, JS and trial list)
    site/media/<clip>/<code>.mp4  the videos, under opaque names (hash of seed, clip and method)

Videos come from a clips folder laid out as ``CLIPS/<clip>/<method>.mp4`` (``.webm`` also accepted), with
``CLIPS/<clip>/input_video.mp4`` for the copy-input check; they are hard-linked into ``site/media`` when the
file system allows, else copied. With only a list of clip names no media is written: the manifest says which
file goes where.

Method names are in the page (base64-encoded so they do not show at a glance; this is not a security measure)
because the downloaded CSV must name them.

Example
-------
>>> import tempfile, pathlib
>>> from studies.design import make_design
>>> design = make_design(["a", "b"], ["c1"], participants=2, seed=0)
>>> paths = write_study(design, pathlib.Path(tempfile.mkdtemp()) / "study")
>>> sorted(p.name for p in paths)[:4]
['P01.html', 'P02.html', 'design.json', 'media_manifest.csv']
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from studies.design import StudyDesign, design_to_json_text
from studies.responses import COPY_INPUT
from void_eval.atomic import write_text_atomic
from void_eval.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".webm")
INPUT_VIDEO = "input_video.mp4"


def study_id(design: StudyDesign) -> str:
    """Short stable id of a design (hash of its settings and trials)."""
    text = json.dumps(design.to_json(), sort_keys=True) + design.trials_frame().to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def media_code(design: StudyDesign, clip: str, method: str) -> str:
    """Opaque file stem of one clip's output of one method (participants cannot read the method off it)."""
    return hashlib.sha256(f"{design.seed}\x1f{study_id(design)}\x1f{clip}\x1f{method}".encode()).hexdigest()[:16]


def discover_clips(folder: str | Path, methods) -> list[str]:
    """Clip names in a clips folder: sub-folders holding an output of at least one of ``methods``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "clips folder not found")
    clips = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and any((entry / f"{m}{s}").is_file() for m in methods for s in VIDEO_SUFFIXES)
    )
    if not clips:
        raise InputError(folder, f"no clip sub-folder holds <method>.mp4 for any of {', '.join(methods)}")
    return clips


def _source_file(clips_folder: Path, clip: str, method: str) -> Path:
    if method == COPY_INPUT:
        path = clips_folder / clip / INPUT_VIDEO
        if not path.is_file():
            raise InputError(path, "input video missing (needed by the copy-input check; or use 0 copy-input checks)")
        return path
    for suffix in VIDEO_SUFFIXES:
        path = clips_folder / clip / f"{method}{suffix}"
        if path.is_file():
            return path
    raise InputError(clips_folder / clip / f"{method}.mp4", "output video missing")


def render_page(
    design: StudyDesign,
    participant: str,
    *,
    media_prefix: str = "../media",
    title: str | None = None,
    suffixes: dict[tuple[str, str], str] | None = None,
) -> str:
    """The self-contained HTML page of one participant's packet."""
    trials = design.trials_for(participant)
    if not trials:
        raise ValueError(f"participant {participant!r} has no trials in this design")
    ident = study_id(design)
    suffixes = suffixes or {}

    def option(clip: str, method: str) -> dict:
        suffix = suffixes.get((clip, method), ".mp4")
        return {
            "name": base64.b64encode(method.encode()).decode(),
            "src": f"{media_prefix}/{clip}/{media_code(design, clip, method)}{suffix}",
        }

    packet = {
        "study": ident,
        "participant": participant,
        "mode": design.mode,
        "allow_tie": design.allow_tie,
        "questions": [{"key": key, "text": text} for key, text in design.questions.items()],
        "trials": [
            {
                "trial": t.trial,
                "clip": t.clip,
                "attention": t.attention,
                "options": [option(t.clip, m) for m in t.options],
            }
            for t in trials
        ],
    }
    package = resources.files("studies.page")
    template = package.joinpath("page.html").read_text(encoding="utf-8")
    packet_json = embedded_json(packet)
    page_title = html.escape(title or "Video comparison study")
    return (
        template.replace("__TITLE__", page_title)
        .replace("/*__CSS__*/", package.joinpath("page.css").read_text(encoding="utf-8"))
        .replace("//__JS__", package.joinpath("page.js").read_text(encoding="utf-8"))
        .replace("__PACKET__", packet_json)
    )


def embedded_json(value: Any) -> str:
    """JSON safe inside an HTML ``<script>`` element: ``<``, ``>`` and ``&`` as ``\\u`` escapes.

    A clip or method named ``<!--<script>`` or ``</script>`` would otherwise end the element early or switch the
    HTML parser into its script-data-escaped state (the page's own script then never runs); ``JSON.parse`` reads
    the escapes back as the same characters.

    Examples
    --------
    >>> print(embedded_json({"clip": "<!--<script></script>&"}))
    {"clip":"\\u003c!--\\u003cscript\\u003e\\u003c/script\\u003e\\u0026"}
    """
    text = json.dumps(value, separators=(",", ":"))  # ASCII only: U+2028 and U+2029 are escaped already
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_study(
    design: StudyDesign,
    out: str | Path,
    *,
    clips_folder: str | Path | None = None,
    copy_media: bool = False,
    title: str | None = None,
    force: bool = False,
    media: dict[tuple[str, str], Path] | None = None,
    encode: bool = False,
) -> list[Path]:
    """Write the design files, one page per participant and (with ``clips_folder`` or ``media``) the media.

    ``media`` maps ``(clip, method)`` to a video file (e.g. :func:`studies.from_run.run_media`'s sources) instead of
    a clips folder; ``encode`` re-encodes every video the same way for browsers
    (:func:`studies.from_run.encode_for_browser`) instead of linking it. Refuses a non-empty ``out`` unless
    ``force``. Every file is written atomically. Returns the paths written.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError(out, "output folder is not empty (use --force to overwrite)")
    needed = sorted({(t.clip, m) for t in design.trials for m in t.options})
    sources: dict[tuple[str, str], Path] = {}
    if media is not None:
        absent = [f"{clip}/{method}" for clip, method in needed if (clip, method) not in media]
        if absent:
            raise InputError("study media", f"no video for {', '.join(absent)}")
        sources = {key: Path(media[key]) for key in needed}
    elif clips_folder is not None:
        clips_folder = Path(clips_folder)
        for clip, method in needed:
            sources[(clip, method)] = _source_file(clips_folder, clip, method)
    suffixes = {
        key: path.suffix if path.suffix in VIDEO_SUFFIXES and not encode else ".mp4" for key, path in sources.items()
    }
    (out / "site" / "packets").mkdir(parents=True, exist_ok=True)
    written = [write_text_atomic(out / "design.json", design_to_json_text(design) + "\n")]
    written.append(write_text_atomic(out / "trials.csv", design.trials_frame().to_csv(index=False)))
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\n")
    writer.writerow(["clip", "method", "media_file", "source"])
    for clip, method in needed:
        relative = f"site/media/{clip}/{media_code(design, clip, method)}{suffixes.get((clip, method), '.mp4')}"
        writer.writerow([clip, method, relative, str(sources.get((clip, method), ""))])
        if (clip, method) in sources and encode:
            from studies.from_run import encode_for_browser

            written.append(encode_for_browser(sources[(clip, method)], out / relative))
        elif (clip, method) in sources:
            written.append(_place_media(sources[(clip, method)], out / relative, copy=copy_media))
    written.append(write_text_atomic(out / "media_manifest.csv", manifest.getvalue()))
    for participant in design.participants:
        page = render_page(design, participant, title=title, suffixes=suffixes)
        written.append(write_text_atomic(out / "site" / "packets" / f"{participant}.html", page))
    return written


def _place_media(source: Path, target: Path, *, copy: bool) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    if temporary.exists():
        temporary.unlink()
    if not copy:
        try:
            os.link(source, temporary)
        except OSError:
            copy = True
    if copy:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)
    return target
