"""One verdict per file from provenance (C2PA) and detection together, provenance first.

Provenance is judged over the whole manifest history (:attr:`VerifyResult.worst_state`: the file's manifest, the
manifests of its ingredients, and theirs). The detector only speaks where provenance declares nothing:

=============================  ====  ===========================================================================
verdict                        exit  when
=============================  ====  ===========================================================================
``tampered``                   1     a manifest of the history is ``Invalid`` (changed after signing, or not
                                     validatable), whatever the detector says
``provenance-unverified``      5     the file points to a remote manifest, which is never fetched (fetch it, then
                                     ``void-eval verify FILE --sidecar STORE``)
``declared-edit-untrusted``    4     intact manifests declare a removal, but a signer of the history is not
                                     trusted (``Valid``): anyone can make a key, so it does not say who edited
``declared-edit``              0     every manifest of the history is ``Trusted`` and one carries a removal record
                                     (``org.voideval.removal``)
``undeclared-edit-suspected``  3     no removal record (no manifest, or intact ones without one) and the
                                     detector's video score reaches the threshold
``no-evidence``                0     no removal record and the detector stays below the threshold
=============================  ====  ===========================================================================

Exit 2 is left to the command's input errors (a missing file, a directory, a bad ``--trust``): nothing is judged.
A removal record counts from any manifest of the history (the nearest one to the file), so a re-signed file keeps
its declaration. ``undeclared-edit-suspected`` is a lead to investigate, not proof: the evidence states the
detector's false-alarm rate measured on footage left out of its training (from the model card).

Every verdict lists its evidence: the manifest state, failure codes and signer, untrusted or invalid manifests of the
history, the removal record's method, the video score against the threshold, and the frames the detector flags.

Examples
--------
>>> from forensics.detectors.detect import DetectionResult
>>> from forensics.provenance.verify import VerifyResult
>>> quiet = DetectionResult(file="x.mp4", video_score=0.1, frame_scores=[0.1])
>>> decide(VerifyResult(file="x.mp4", state="Invalid", failures=["assertion.bmffHash.mismatch"]), quiet)[0]
'tampered'
>>> decide(VerifyResult(file="x.mp4", state="NoManifest"), quiet)[0]
'no-evidence'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

Verdict = Literal[
    "tampered",
    "provenance-unverified",
    "declared-edit-untrusted",
    "declared-edit",
    "undeclared-edit-suspected",
    "no-evidence",
]
DEFAULT_THRESHOLD = 0.5
#: ``void-eval check`` exit codes per verdict (2 is the command's input error).
EXIT_CODES: dict[str, int] = {
    "tampered": 1,
    "provenance-unverified": 5,
    "declared-edit-untrusted": 4,
    "declared-edit": 0,
    "undeclared-edit-suspected": 3,
    "no-evidence": 0,
}


@dataclass
class CheckResult:
    """The verdict on one file and why.

    Attributes
    ----------
    file : Path
        The file checked.
    verdict : str
        One of :data:`EXIT_CODES`' keys; see the module docstring.
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


def _provenance_evidence(provenance) -> list[str]:
    """Lines about the manifest: state, signer, failures; each untrusted or invalid manifest of the history."""
    state = provenance.state
    if state == "NoManifest":
        lines = ["manifest: none (never signed, stripped, or re-encoded)"]
    elif state == "Remote":
        lines = [f"manifest: remote, at {provenance.remote_url} (not fetched, so not verified)"]
    else:
        signer = (provenance.signer or {}).get("common_name")
        line = f"manifest: {state}" + (f" (signed by {signer})" if signer else "")
        lines = [line + (f"; failures: {', '.join(provenance.failures)}" if provenance.failures else "")]
    if provenance.detail and state != "Remote":
        lines.append(f"manifest detail: {provenance.detail}")
    for label in provenance.history():
        entry = provenance.manifests[label]
        if not entry["active"] and entry["state"] in ("Valid", "Invalid"):
            failures = ", ".join(entry["failures"]) or "no code"
            lines.append(f"history: manifest of {entry['title']} ({label}) is {entry['state']} ({failures})")
    if provenance.worst_state != state and state not in ("NoManifest", "Remote"):
        lines.append(f"history: worst state {provenance.worst_state}")
    return lines


def _detector_evidence(detection, threshold: float) -> tuple[bool, str]:
    scores = np.asarray(detection.frame_scores, np.float64)
    flagged = int((scores >= threshold).sum())
    fires = detection.video_score >= threshold
    line = (
        f"detector: video score {detection.video_score:.3f} {'>=' if fires else '<'} threshold {threshold:.2f}; "
        f"{flagged} of {len(scores)} frames flagged"
    )
    return fires, line


def decide(provenance, detection, *, threshold: float = DEFAULT_THRESHOLD) -> tuple[Verdict, list[str]]:
    """The verdict and evidence from a ``VerifyResult`` and a ``DetectionResult`` (pure; see the module table)."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    evidence = _provenance_evidence(provenance)
    worst = provenance.worst_state
    record = provenance.declared_removal() if worst in ("Trusted", "Valid") else None
    if record is not None:
        method = record.get("method")
        name = method.get("name") if isinstance(method, dict) else method
        evidence.append("removal record: declared" + (f" (method {name})" if name else ""))
    elif worst in ("Trusted", "Valid"):
        evidence.append("removal record: none in the manifest history")
    fires, line = _detector_evidence(detection, threshold)
    evidence.append(line)
    if worst == "Invalid":
        return "tampered", evidence
    if worst == "Remote":
        return "provenance-unverified", evidence
    if record is not None:
        if worst == "Valid":
            untrusted = ", ".join(provenance.untrusted()) or provenance.file
            evidence.append(f"trust: not trusted: {untrusted} (no --trust anchor for that signer)")
            return "declared-edit-untrusted", evidence
        return "declared-edit", evidence
    if fires:
        return "undeclared-edit-suspected", evidence
    return "no-evidence", evidence


def _measured_rate(figures: dict[str, Any], where: str) -> str | None:
    """``"2.3% of 256 untouched videos flagged WHERE (95% interval 0%-6%)"`` from a card's figures block."""
    flagged, videos = figures.get("targets", {}).get("untouched_flagged", {}), figures.get("untouched_videos")
    value, interval = flagged.get("value"), flagged.get("interval")
    if value is None or not videos:
        return None
    bounds = f" (95% interval {interval[0]:.0%}-{interval[1]:.0%})" if interval else ""
    return f"{value:.1%} of {videos} untouched videos flagged {where}{bounds}"


def threshold_evidence(calibration: dict[str, Any], card: dict[str, Any] | None) -> str:
    """The evidence line on the detector's calibrated threshold: what it was set for, and what it flags on footage
    left out of training as the model card measured it (or that no card says so).

    Examples
    --------
    >>> calibration = {"false_alarm_rate": 0.03, "videos": 256}
    >>> card = {"cross_validation": {"untouched_videos": 256,
    ...         "targets": {"untouched_flagged": {"value": 0.0234, "interval": [0.0, 0.06]}}}}
    >>> print(threshold_evidence(calibration, card))  # doctest: +NORMALIZE_WHITESPACE
    detector threshold: set to flag 3% of 256 untouched out-of-fold training videos; measured on footage left out
    of training: 2.3% of 256 untouched videos flagged in cross-validation (95% interval 0%-6%)
    """
    line = (
        f"detector threshold: set to flag {calibration['false_alarm_rate']:.0%} of {calibration['videos']} "
        "untouched out-of-fold training videos"
    )
    measured = [
        text
        for part, where in (("cross_validation", "in cross-validation"), ("held_out_footage", "on held-out footage"))
        if (text := _measured_rate((card or {}).get(part) or {}, where))
    ]
    if not measured:
        return f"{line}; no model card gives its false-alarm rate on footage left out of training"
    return f"{line}; measured on footage left out of training: {', '.join(measured)}"


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
    from forensics.detectors.fusion import load_card
    from forensics.provenance.verify import verify_file

    path = Path(path)
    provenance = verify_file(path, trust=trust)
    detection = detect_video(path, model=model, out_dir=out_dir)
    threshold = detection.threshold if threshold is None else threshold
    verdict, evidence = decide(provenance, detection, threshold=threshold)
    if detection.calibration and threshold == detection.threshold:
        evidence.append(threshold_evidence(detection.calibration, load_card() if model is None else None))
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
