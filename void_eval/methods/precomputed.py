"""``precomputed``: score outputs made elsewhere (Runway exports, ComfyUI, upstream VOID runs).

For a clip named ``<clip>`` the output is looked up in ``folder`` under these names, in order; exactly one may
exist:

- ``<clip>.mp4`` (the generic convention),
- ``<clip>-fg=-1-0001.mp4`` (upstream VOID pass 1, ``predict_v2v.py``),
- ``<clip>_warped_noise_inference.mp4`` (upstream VOID pass 2),

or under ``pattern`` (e.g. ``"{clip}_runway.mp4"``) when given. Upstream's ``*_tuple.mp4`` side-by-side files are
never picked.

Upstream VOID pads a clip of ``N`` frames to exactly :func:`~void_eval.void.padding.padded_length` ``(N)`` frames
(85 for ``N <= 85``, else the next ``4k+1`` with ``k`` odd, at most 197) by appending it played backwards, keeps
that length in its output, and works at 384x672 whatever the input size. So a source longer than the input is
accepted only when its length is that padded length (anything else is not upstream padding, and silently cutting
it would score a misaligned or wrong video); it is trimmed to its first ``N`` frames. ``trim="any"`` also accepts
other longer sources, only under a non-upstream file name. The source is resized back to the input size
(INTER_AREA when shrinking, INTER_LINEAR otherwise); trimming and resizing are recorded in
:attr:`PrecomputedMethod.last_run`, which the runner stores with the cell. A source shorter than the input is an
error (upstream reads at most 197 frames, so its outputs of longer inputs are too short). The output is written at
the input's frame rate. ``composite="remove"`` (or ``"remove+affected"``) pastes the input back outside those
quadmask levels. These steps are :mod:`void_eval.methods.align`'s, shared with the ``external`` method.

Examples
--------
>>> method = PrecomputedMethod(folder="/tmp")
>>> candidate_names("BigBen")
('BigBen.mp4', 'BigBen-fg=-1-0001.mp4', 'BigBen_warped_noise_inference.mp4')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.hashing import file_sha256
from void_eval.methods.align import CHUNK_FRAMES, check_composite, check_length, write_aligned
from void_eval.methods.base import LEVEL_SETS, FrameMethod
from void_eval.quadmask import QuadLevel
from void_eval.video import VideoReader, VideoWriter

UPSTREAM_PASS1_SUFFIX = "-fg=-1-0001.mp4"
UPSTREAM_PASS2_SUFFIX = "_warped_noise_inference.mp4"
#: Accepted ``trim`` modes: "upstream" (a longer source must have upstream's padded length), "any" (also any longer
#: source under a non-upstream name), "none" (a longer source is an error). True means "upstream", False "none".
TRIM_MODES = ("upstream", "any", "none")


def is_upstream_name(file_name: str) -> bool:
    """True for upstream VOID output names (pass 1 ``-fg=-1-0001.mp4``, pass 2 ``_warped_noise_inference.mp4``).

    Examples
    --------
    >>> is_upstream_name("BigBen-fg=-1-0001.mp4"), is_upstream_name("BigBen.mp4")
    (True, False)
    """
    return file_name.endswith((UPSTREAM_PASS1_SUFFIX, UPSTREAM_PASS2_SUFFIX))


def _trim_mode(trim: bool | str) -> str:
    if trim is True:
        return "upstream"
    if trim is False:
        return "none"
    if isinstance(trim, str) and trim in TRIM_MODES:
        return trim
    raise ValueError(f"trim must be True, False or one of {TRIM_MODES}, got {trim!r}")


def candidate_names(clip_name: str) -> tuple[str, ...]:
    """File names tried for ``clip_name``, in order."""
    return (f"{clip_name}.mp4", f"{clip_name}{UPSTREAM_PASS1_SUFFIX}", f"{clip_name}{UPSTREAM_PASS2_SUFFIX}")


class PrecomputedMethod(FrameMethod):
    """Read each clip's output from a folder of videos made elsewhere; trim and resize them to the input.

    Parameters
    ----------
    folder : str or Path, keyword-only
        Folder holding the outputs.
    pattern : str or None, keyword-only
        File name with ``{clip}`` standing for the clip name; ``None`` tries :func:`candidate_names`.
    trim : {True, "upstream", "any", False, "none"}, keyword-only
        Longer sources: ``True``/``"upstream"`` (default) accepts only upstream's padded length
        (:func:`~void_eval.void.padding.padded_length` of the input's frame count) and keeps the first frames;
        ``"any"`` also accepts any longer source whose file name is not an upstream VOID name; ``False``/``"none"``
        makes any longer source an error.
    resize : bool, keyword-only
        Resize a source of another size to the input's. When False, another size is an error.
    composite : {None, "remove", "remove+affected"}, keyword-only
        Paste the input back outside these quadmask levels (grown by ``composite_dilation`` px); None (default)
        keeps the source's pixels everywhere. Also sets the levels the method declares it rewrites.
    composite_dilation : int, keyword-only
        Growth of the composited region, in px (square kernel).
    output_kind : {"lossless", "h264"}, keyword-only
        Encoding of the aligned copy written to the run folder.
    """

    name = "precomputed"
    version = "2"
    description = "outputs made elsewhere, read from a folder (<clip>.mp4, upstream VOID names); trimmed/resized"
    rewrites = frozenset(QuadLevel)

    def __init__(
        self,
        *,
        folder: str | Path | None = None,
        pattern: str | None = None,
        trim: bool | str = True,
        resize: bool = True,
        composite: str | None = None,
        composite_dilation: int = 0,
        output_kind: str = "lossless",
    ) -> None:
        super().__init__(output_kind=output_kind)
        if folder is None:
            raise ValueError("precomputed needs folder=<folder of output videos>")
        if pattern is not None and "{clip}" not in pattern:
            raise ValueError(f"pattern must contain '{{clip}}', got {pattern!r}")
        self.folder = Path(folder).expanduser().resolve()
        self.pattern = pattern
        self.trim = _trim_mode(trim)
        self.resize = bool(resize)
        self.composite = check_composite(composite, composite_dilation)
        self.composite_dilation = int(composite_dilation)
        if self.composite:
            self.rewrites = LEVEL_SETS[self.composite]

    def _params(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "pattern": self.pattern,
            "trim": self.trim,
            "resize": self.resize,
            "composite": self.composite,
            "composite_dilation": self.composite_dilation,
        }

    def source_for(self, clip: Clip) -> Path:
        """The output file for ``clip``; raises :class:`InputError` when none or several match."""
        if not self.folder.is_dir():
            raise InputError(self.folder, "precomputed outputs folder not found")
        names = (self.pattern.format(clip=clip.name),) if self.pattern else candidate_names(clip.name)
        found = [self.folder / name for name in names if (self.folder / name).is_file()]
        if not found:
            raise InputError(self.folder, f"no output for clip {clip.name!r} (looked for {', '.join(names)})")
        if len(found) > 1:
            raise InputError(
                self.folder,
                f"several outputs for clip {clip.name!r}: {', '.join(p.name for p in found)}; pass pattern=",
            )
        return found[0]

    def fingerprint(self, clip: Clip) -> dict[str, str]:
        """The source file and its sha256: part of the runner's cache key."""
        source = self.source_for(clip)
        return {"source": source.name, "source_sha256": file_sha256(source)}

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        source = self.source_for(clip)
        reader = VideoReader(source)
        info = reader.info
        upstream = is_upstream_name(source.name)
        hint = "" if upstream else '; pass trim="any" to keep its first frames anyway'
        check_length(source, info.frames, clip.frames, trim=self.trim, upstream_name=upstream, hint=hint)
        if (info.height, info.width) != (clip.height, clip.width) and not self.resize:
            raise InputError(
                source, f"is {info.width}x{info.height}, the input is {clip.width}x{clip.height} (resize=False)"
            )
        aligned = write_aligned(
            reader.chunks(CHUNK_FRAMES, stop=clip.frames),
            clip,
            writer,
            source_size=(info.height, info.width),
            composite=self.composite,
            composite_dilation=self.composite_dilation,
        )
        self.last_run = {
            "source": str(source),
            "source_frames": info.frames,
            "source_size": [info.height, info.width],
            "source_fps": info.fps,
            "trimmed_frames": info.frames - clip.frames,
            **aligned,
        }
