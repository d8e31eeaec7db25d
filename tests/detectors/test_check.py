"""The check verdict: the documented table with real VerifyResult objects, and end to end on trusted, untrusted,
tampered, unsigned-edited and untouched files (real C2PA signing and verification, the shipped detector)."""

from __future__ import annotations

import json

import pytest

from forensics.check import EXIT_CODES, check_file, decide
from forensics.detectors.detect import DetectionResult
from forensics.detectors.fusion import load_model
from forensics.provenance.verify import VerifyResult
from void_eval.cli import main

TELEA = {"method": {"name": "telea"}}
TAMPERED = ["assertion.bmffHash.mismatch"]
UNTRUSTED = ["signingCredential.untrusted"]


def _detection(score: float) -> DetectionResult:
    return DetectionResult(file="x.mp4", video_score=score, frame_scores=[score, score / 2])


def _ingredient(state: str) -> dict:
    return {"title": "parent.mp4", "state": state, "failures": [], "relationship": "parentOf"}


@pytest.mark.parametrize(
    ("state", "removal", "ingredient", "score", "expected"),
    [
        ("Trusted", TELEA, None, 0.1, "declared-edit"),
        ("Trusted", TELEA, None, 0.9, "declared-edit"),
        ("Valid", TELEA, None, 0.1, "declared-edit-untrusted"),
        ("Valid", TELEA, None, 0.9, "declared-edit-untrusted"),
        ("Trusted", TELEA, "Valid", 0.1, "declared-edit-untrusted"),
        ("Trusted", TELEA, "NoManifest", 0.1, "declared-edit"),
        ("Invalid", TELEA, None, 0.9, "tampered"),
        ("Invalid", None, None, 0.1, "tampered"),
        ("Trusted", TELEA, "Invalid", 0.1, "tampered"),
        ("Trusted", None, None, 0.9, "undeclared-edit-suspected"),
        ("Valid", None, None, 0.9, "undeclared-edit-suspected"),
        ("Valid", None, None, 0.1, "no-evidence"),
        ("NoManifest", None, None, 0.9, "undeclared-edit-suspected"),
        ("NoManifest", None, None, 0.2, "no-evidence"),
    ],
)
def test_decision_table(state, removal, ingredient, score, expected):
    failures = {"Invalid": TAMPERED, "Valid": UNTRUSTED}.get(state, [])
    ingredients = [_ingredient(ingredient)] if ingredient else []
    provenance = VerifyResult(file="x.mp4", state=state, failures=failures, removal=removal, ingredients=ingredients)
    verdict, evidence = decide(provenance, _detection(score))
    assert verdict == expected
    assert evidence[0].startswith("manifest:") and any(line.startswith("detector:") for line in evidence)
    assert EXIT_CODES[verdict] == {"declared-edit": 0, "no-evidence": 0}.get(verdict, EXIT_CODES[verdict])
    if failures:
        assert failures[0] in evidence[0]
    if state == "Valid":
        assert any(line.startswith("signer: not trusted") for line in evidence)


def test_every_verdict_but_two_exits_non_zero_and_codes_are_distinct():
    assert {name for name, code in EXIT_CODES.items() if code == 0} == {"declared-edit", "no-evidence"}
    non_zero = [code for code in EXIT_CODES.values() if code]
    assert len(set(non_zero)) == len(non_zero) and 1 not in non_zero  # 1 is bad input


def _flip_in_mdat(data: bytes) -> bytes:
    from tests.provenance.conftest import top_level_boxes

    offset, size = next((offset, size) for name, offset, size in top_level_boxes(data) if name == "mdat")
    changed = bytearray(data)
    changed[offset + 16 + (size - 16) // 2] ^= 0x01
    return bytes(changed)


def _sign(source, parent, pki, out, clip):
    from forensics.provenance.sign import sign_file

    return sign_file(source, parent=parent, chain=pki.chain, key=pki.key, out=out, clip=clip, method="telea")


def test_trusted_untrusted_tampered_unsigned_and_untouched_files(telea_fill, tmp_path, capsys):
    from forensics.provenance.keys import make_dev_pki

    clip_path, output = telea_fill
    threshold = load_model().extra["calibration"]["flag_at"]
    ours, attacker = make_dev_pki(tmp_path / "ours"), make_dev_pki(tmp_path / "attacker")
    parent = clip_path / "input_video.mp4"
    trusted = _sign(output, parent, ours, tmp_path / "trusted.mp4", clip_path)
    untrusted = _sign(output, parent, attacker, tmp_path / "untrusted.mp4", clip_path)
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(_flip_in_mdat(trusted.read_bytes()))

    results = {
        "trusted": check_file(trusted, trust=ours.root),
        "untrusted": check_file(untrusted, trust=ours.root),
        "tampered": check_file(tampered, trust=ours.root),
        "unsigned": check_file(output, trust=ours.root),
        "untouched": check_file(parent, trust=ours.root),
    }
    assert results["trusted"].verdict == "declared-edit" and results["trusted"].provenance["state"] == "Trusted"
    assert results["untrusted"].verdict == "declared-edit-untrusted"
    assert results["untrusted"].provenance["state"] == "Valid"
    assert results["tampered"].verdict == "tampered" and results["tampered"].provenance["state"] == "Invalid"
    for name in ("unsigned", "untouched"):
        result = results[name]
        assert result.provenance["state"] == "NoManifest" and result.threshold == threshold
        fires = result.video_score >= threshold
        assert result.verdict == ("undeclared-edit-suspected" if fires else "no-evidence")
        assert any("calibrated to flag at most" in line for line in result.evidence)

    for name, path in (("trusted", trusted), ("untrusted", untrusted), ("tampered", tampered)):
        capsys.readouterr()
        code = main(["check", str(path), "--trust", str(ours.root), "--json"])
        document = json.loads(capsys.readouterr().out)
        assert document["verdict"] == results[name].verdict
        assert code == document["exit_code"] == EXIT_CODES[results[name].verdict]
    assert [EXIT_CODES[results[name].verdict] for name in ("trusted", "untrusted", "tampered")] == [0, 4, 5]
