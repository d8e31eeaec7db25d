"""Check a clip folder end to end: container facts plus the mask's decoded content.

Examples
--------
>>> report = check_clip("../shared/data/void_samples/BigBen")  # doctest: +SKIP
>>> report.valid, report.frames, report.mask_file  # doctest: +SKIP
(True, 50, 'trimask_quadmask.mp4')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.quadmask import QuadmaskStats

#: A mask whose pixels disagree across R, G and B this often is a colour video, not a mask.
COLOUR_SHARE_LIMIT = 0.01
#: More than this share of pixels to remove suggests a mask saved with the opposite polarity.
INVERTED_REMOVE_SHARE = 0.5


@dataclass
class ClipCheck:
    """The outcome of :func:`check_clip`; :meth:`to_json` gives the ``clip check --json`` object."""

    clip: str
    path: str
    valid: bool
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    fps: float | None = None
    mask_file: str | None = None
    fractions: dict[str, float] | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_clip(path: str | Path, *, allow_resize: bool = False, chunk_size: int = 16) -> ClipCheck:
    """Load a clip and decode its mask, collecting every warning and error instead of stopping at the first.

    Fractions are pixel shares over all frames at the mask's native size, after quantisation.
    """
    folder = Path(path)
    report = ClipCheck(clip=folder.name, path=str(folder), valid=False)
    try:
        clip = Clip.load(folder, allow_resize=allow_resize)
    except InputError as err:
        report.errors.append(str(err))
        return report
    report.frames, report.height, report.width = clip.frames, clip.height, clip.width
    report.fps = clip.fps
    report.mask_file = ",".join(path.name for path in clip.mask_files)
    report.warnings.extend(clip.warnings)

    stats = QuadmaskStats(scheme="quadmask" if clip.mask_scheme != "binary" else "binary")
    try:
        if clip.mask_scheme == "binary":
            for chunk in clip.iter_masks(chunk_size):
                stats.update_levels(chunk)
        else:
            for (raw,) in clip.iter_raw_masks(chunk_size):
                stats.update(raw)
    except InputError as err:
        report.errors.append(str(err))
        return report
    report.fractions = stats.fractions()
    mask_name = clip.mask_files[0].name
    if stats.colour_share > COLOUR_SHARE_LIMIT:
        report.errors.append(
            f"{clip.mask_files[0]}: a colour video, not a mask ({stats.colour_share:.1%} of pixels have R, G, B "
            f"differing by more than {stats.colour_tolerance})"
        )
    if stats.off_level_pixels:
        report.warnings.append(
            f"{mask_name}: {stats.off_level_pixels} pixels off the four levels {{0, 63, 127, 255}} "
            f"({stats.off_level_pixels / stats.pixels:.3%}), quantised with cut points 31/95/191"
        )
    if stats.affected_on_first_frame:
        report.warnings.append(
            f"{mask_name}: {stats.affected_on_first_frame} affected (127) pixels on frame 0; upstream's convention "
            "is none on the first frame"
        )
    remove_share = report.fractions["remove"] + report.fractions["overlap"]
    if remove_share == 0:
        report.warnings.append(f"{mask_name}: nothing to remove (no pixel at levels 0 or 63 in any frame)")
    elif remove_share > INVERTED_REMOVE_SHARE:
        report.warnings.append(
            f"{mask_name}: {remove_share:.0%} of pixels are to be removed; is the mask inverted? (quadmasks are "
            "BLACK = remove; binary mask_*.mp4 files are WHITE = remove)"
        )
    report.valid = not report.errors
    return report
