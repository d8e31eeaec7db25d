"""One verdict per file from provenance (C2PA) and detection together, provenance first.

=============================  ====  ==============================================================================
verdict                        exit  when
=============================  ====  ==============================================================================
``tampered``                   5     the manifest (or an ingredient's) is ``Invalid``: the file changed after it was
                                     signed; whatever the detector says
``declared-edit-untrusted``    4     an intact manifest carries a removal record (``org.voideval.removal``), but its
                                     signer (or a signed ingredient's) does not chain to the trust anchors (``Valid``)
``declared-edit``              0     an intact manifest from a trusted signer (``Trusted``, signed ingredients too)
                                     carries a removal record; whatever the detector says
``undeclared-edit-suspected``  3     no removal declared (no manifest, or an intact one without a removal record)
                                     and the detector's video score reaches the threshold
``no-evidence``                0     no removal declared and the detector's video score stays below the threshold
=============================  ====  ==============================================================================

Exit 1 is bad input (a file that cannot be read). A declaration is only as good as its signer: anyone can sign with
a key of their own, so an untrusted declaration never gets the trusted verdict or exit 0, and an untrusted manifest
without removal record says so in the evidence. Every verdict lists its evidence: the manifest state, failure codes
and signer, the removal record's method, the video score against the threshold, and the frames the detector flags.

Examples
--------
>>> verdict = check_file("delivery.mp4", trust="root.pem")  # doctest: +SKIP
>>> verdict.verdict, verdict.evidence[0]  # doctest: +SKIP
('declared-edit', 'manifest: Trusted (signed by void-eval dev signer)')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

Verdict = Literal["tampered", "declared-edit-untrusted", "declared-edit", "undeclared-edit-suspected", "no-evidence"]
INTACT_STATES = frozenset({"Trusted", "Valid"})
DEFAULT_THRESHOLD = 0.5
#: ``void-eval check`` exit codes per verdict (module table).
EXIT_CODES: dict[str, int] = {
    "declared-edit": 0,
    "no-evidence": 0,
    "undeclared-edit-suspected": 3,
    "declared-edit-untrusted": 4,
    "tampered": 5,
}


@dataclass
class CheckResult:
    """The verdict on one file and why.

    Attributes
    ----------
    file : Path
        The file checked.
    verdict : {"tampered", "declared-edit-untrusted", "declared-edit", "undeclared-edit-suspected", "no-evidence"}
        See the module table.
    evidence : list of str
        Human-readable facts behind the verdict, most important first.
    provenance : dict
        :meth:`VerifyResult.to_json` of the provenance check.
    video_score : float
        Detector video score in [0, 1].
    threshold : float
        Video score from which the detector counts as firing.
    frames_flagged : int
        Frames whose frame score reaches the threshold.
    heatmap : Path or None
        Heatmap video when an output folder was given.
    """

    file: Path
    verdict: Verdict
    evidence: list[str]
    provenance: dict[str, Any]
    video_score: float
    threshold: float
    frames_flagged: int
    heatmap: Path | None = None
    frame_scores: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "file": str(self.file),
            "verdict": self.verdict,
            "exit_code": EXIT_CODES[self.verdict],
            "evidence": self.evidence,
            "video_score": self.video_score,
            "threshold": self.threshold,
            "frames_flagged": self.frames_flagged,
            "frames": len(self.frame_scores),
            "heatmap": str(self.heatmap) if self.heatmap else None,
            "provenance": self.provenance,
        }


def provenance_evidence(provenance) -> list[str]:
    """Evidence lines of a ``VerifyResult``: state, signer and failures, detail, removal record, ingredients."""
    state = provenance.state
    signer = (provenance.signer or {}).get("common_name")
    if state == "NoManifest":
        evidence = ["manifest: none (never signed, stripped, or re-encoded)"]
    else:
        line = f"manifest: {state}" + (f" (signed by {signer})" if signer else "")
        if provenance.failures:
            line += f"; failures: {', '.join(provenance.failures)}"
        evidence = [line]
    if state == "Valid":
        evidence.append("signer: not trusted (does not chain to the trust anchors given); anyone can sign so")
    if provenance.detail:
        evidence.append(f"manifest detail: {provenance.detail}")
    if state in INTACT_STATES:
        if provenance.removal is not None:
            method = provenance.removal.get("method")
            name = method.get("name") if isinstance(method, dict) else method
            evidence.append("removal record: declared" + (f" (method {name})" if name else ""))
        else:
            evidence.append("removal record: none in the manifest")
    if provenance.worst_state != state:
        evidence.append(f"ingredients: worst state {provenance.worst_state}")
    return evidence


def decide(provenance, detection, *, threshold: float = DEFAULT_THRESHOLD) -> tuple[Verdict, list[str]]:
    """The verdict and evidence from a ``VerifyResult`` and a ``DetectionResult`` (pure; see the module table)."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    evidence = provenance_evidence(provenance)
    scores = np.asarray(detection.frame_scores, np.float64)
    flagged = int((scores >= threshold).sum())
    fires = detection.video_score >= threshold
    evidence.append(
        f"detector: video score {detection.video_score:.3f} {'>=' if fires else '<'} threshold {threshold:.2f}; "
        f"{flagged} of {len(scores)} frames flagged"
    )
    worst = provenance.worst_state
    if worst == "Invalid":
        return "tampered", evidence
    if provenance.state in INTACT_STATES and provenance.removal is not None:
        return ("declared-edit" if worst == "Trusted" else "declared-edit-untrusted"), evidence
    if fires:
        return "undeclared-edit-suspected", evidence
    return "no-evidence", evidence


def check_file(
    path: str | Path,
    *,
    trust: str | Path | None = None,
    threshold: float | None = None,
    model=None,
    out_dir: str | Path | None = None,
) -> CheckResult:
    """Verify the provenance of ``path``, run the detector on it, and return the combined verdict.

    Parameters
    ----------
    path : str or Path
        A video file.
    trust : str or Path, optional, keyword-only
        PEM trust anchor(s) for the manifest check.
    threshold : float, optional, keyword-only
        Video score in (0, 1) from which the detector fires (frames are flagged from the same value). Default: the
        model's calibrated threshold, chosen on held-out untouched footage for the false-alarm rate its card states.
    model : FusionModel, optional, keyword-only
        Detector model (default: the shipped one).
    out_dir : str or Path, optional, keyword-only
        Where to write the heatmap video and overlay strip.
    """
    from forensics.detectors.detect import detect_video
    from forensics.provenance.verify import verify_file

    path = Path(path)
    provenance = verify_file(path, trust=trust)
    detection = detect_video(path, model=model, out_dir=out_dir)
    threshold = detection.threshold if threshold is None else threshold
    verdict, evidence = decide(provenance, detection, threshold=threshold)
    if detection.calibration and threshold == detection.threshold:
        rate, videos = detection.calibration["false_alarm_rate"], detection.calibration["videos"]
        evidence.append(
            f"detector threshold: calibrated to flag at most {rate:.0%} of {videos} untouched held-out videos"
        )
    if detection.heatmap is not None:
        evidence.append(f"heatmap: {detection.heatmap}")
    return CheckResult(
        file=path,
        verdict=verdict,
        evidence=evidence,
        provenance=provenance.to_json(),
        video_score=detection.video_score,
        threshold=threshold,
        frames_flagged=int((np.asarray(detection.frame_scores) >= threshold).sum()),
        heatmap=detection.heatmap,
        frame_scores=detection.frame_scores,
    )
