"""The check verdict: decision table with real VerifyResult objects, and end to end on signed and plain files."""

from __future__ import annotations

import pytest

from forensics.check import check_file, decide
from forensics.detectors.detect import DetectionResult
from forensics.provenance.verify import VerifyResult
from void_eval.cli import main


def _detection(score: float) -> DetectionResult:
    return DetectionResult(file="x.mp4", video_score=score, frame_scores=[score, score / 2])


@pytest.mark.parametrize(
    ("state", "removal", "score", "expected"),
    [
        ("Trusted", {"method": {"name": "telea"}}, 0.1, "declared-edit"),
        ("Valid", {"method": {"name": "telea"}}, 0.9, "declared-edit"),
        ("Invalid", {"method": {"name": "telea"}}, 0.9, "undeclared-edit-suspected"),
        ("Trusted", None, 0.9, "undeclared-edit-suspected"),
        ("NoManifest", None, 0.9, "undeclared-edit-suspected"),
        ("NoManifest", None, 0.2, "no-evidence"),
        ("Invalid", None, 0.2, "no-evidence"),
    ],
)
def test_decision_table(state, removal, score, expected):
    failures = ["assertion.bmffHash.mismatch"] if state == "Invalid" else []
    provenance = VerifyResult(file="x.mp4", state=state, failures=failures, removal=removal)
    verdict, evidence = decide(provenance, _detection(score))
    assert verdict == expected
    assert evidence[0].startswith("manifest:") and any(line.startswith("detector:") for line in evidence)
    if failures:
        assert "bmffHash" in evidence[0]


def test_plain_and_signed_files(telea_fill, tmp_path, capsys):
    from forensics.provenance.keys import make_dev_pki
    from forensics.provenance.sign import sign_file

    clip_path, output = telea_fill
    plain = check_file(output)
    assert plain.provenance["state"] == "NoManifest"
    assert plain.verdict == ("undeclared-edit-suspected" if plain.video_score >= 0.5 else "no-evidence")
    pki = make_dev_pki(tmp_path / "pki")
    signed = sign_file(
        output,
        parent=clip_path / "input_video.mp4",
        chain=pki.chain,
        key=pki.key,
        out=tmp_path / "signed.mp4",
        clip=clip_path,
        method="telea",
    )
    result = check_file(signed, trust=pki.root)
    assert result.verdict == "declared-edit" and result.provenance["state"] == "Trusted"
    assert main(["check", str(signed), "--trust", str(pki.root)]) == 0
    assert "declared-edit" in capsys.readouterr().out
    code = main(["check", str(output), "--json"])
    assert code == (3 if plain.verdict == "undeclared-edit-suspected" else 0)
