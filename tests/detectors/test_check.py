"""The check verdict: provenance first. The table with real VerifyResult objects of files the toolkit signs
itself (the detector's side given as a DetectionResult), and end to end through ``void-eval check``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import forensics.check
from forensics.check import EXIT_CODES, check_file, decide, threshold_evidence
from forensics.detectors.detect import DetectionResult
from forensics.detectors.fusion import load_card, load_model
from forensics.provenance.verify import VerifyResult, verify_file
from void_eval.cli import main

FIRES, QUIET = 0.9, 0.1


def _detection(score: float) -> DetectionResult:
    return DetectionResult(file="x.mp4", video_score=score, frame_scores=[score, score / 2])


@pytest.fixture(scope="module")
def signed_files(tmp_path_factory):
    """Files the toolkit signs itself: trusted, untrusted signer, a trusted child of an untrusted parent, a tampered
    copy, an unsigned edit and the untouched original; plus the trust anchor."""
    import numpy as np

    from forensics.provenance.keys import make_dev_pki
    from forensics.provenance.sign import sign_file
    from tests.provenance.conftest import top_level_boxes
    from void_eval.video import write_video

    folder = tmp_path_factory.mktemp("check")
    ours, theirs = make_dev_pki(folder / "ours"), make_dev_pki(folder / "theirs")
    frames = np.random.default_rng(0).integers(0, 255, (4, 32, 48, 3), dtype=np.uint8)
    original = write_video(folder / "original.mp4", frames, 8)
    edited = write_video(folder / "edited.mp4", frames[::-1], 8)
    common = {"parent": original, "method": "telea"}
    files = {
        "trusted": sign_file(edited, chain=ours.chain, key=ours.key, out=folder / "trusted.mp4", **common),
        "untrusted": sign_file(edited, chain=theirs.chain, key=theirs.key, out=folder / "untrusted.mp4", **common),
        "unsigned-edited": edited,
        "untouched": original,
    }
    files["trusted-child-of-untrusted"] = sign_file(
        original, parent=files["untrusted"], chain=ours.chain, key=ours.key, out=folder / "child.mp4"
    )
    data = bytearray(files["trusted"].read_bytes())
    [(offset, size)] = [(offset, size) for kind, offset, size in top_level_boxes(data) if kind == "mdat"][:1]
    data[offset + size // 2] ^= 1
    files["tampered"] = folder / "tampered.mp4"
    files["tampered"].write_bytes(bytes(data))
    return files, ours.root


@pytest.mark.parametrize(
    ("kind", "score", "expected"),
    [
        ("trusted", QUIET, "declared-edit"),
        ("trusted", FIRES, "declared-edit"),
        ("untrusted", QUIET, "declared-edit-untrusted"),
        ("untrusted", FIRES, "declared-edit-untrusted"),
        ("trusted-child-of-untrusted", QUIET, "declared-edit-untrusted"),  # trusted itself, its parent is not
        ("tampered", QUIET, "tampered"),
        ("tampered", FIRES, "tampered"),
        ("unsigned-edited", FIRES, "undeclared-edit-suspected"),
        ("untouched", QUIET, "no-evidence"),
    ],
)
def test_verdict_table_on_signed_files(signed_files, kind, score, expected):
    files, root = signed_files
    provenance = verify_file(files[kind], trust=root)
    verdict, evidence = decide(provenance, _detection(score), threshold=0.5)
    assert verdict == expected, evidence
    assert evidence[0].startswith("manifest:") and any(line.startswith("detector:") for line in evidence)
    if expected == "tampered":
        assert "assertion.bmffHash.mismatch" in evidence[0]
    if expected == "declared-edit-untrusted":
        assert any(line.startswith("trust: not trusted") for line in evidence)
    assert (EXIT_CODES[verdict] == 0) == (expected in ("declared-edit", "no-evidence"))


@pytest.mark.parametrize(
    ("state", "removal", "score", "expected"),
    [
        ("Trusted", None, FIRES, "undeclared-edit-suspected"),  # intact, but it declares no removal
        ("Trusted", None, QUIET, "no-evidence"),
        ("Invalid", None, QUIET, "tampered"),  # an unreadable store keeps its code: still Invalid
        ("Remote", None, QUIET, "provenance-unverified"),
        ("NoManifest", None, QUIET, "no-evidence"),
    ],
)
def test_decision_table_edges(state, removal, score, expected):
    failures = ["algorithm.unsupported"] if state == "Invalid" else []
    provenance = VerifyResult(file="x.mp4", state=state, failures=failures, removal=removal)
    if state == "Remote":
        provenance.remote_url = "https://example.com/manifest.c2pa"
    verdict, _ = decide(provenance, _detection(score))
    assert verdict == expected


def test_exit_codes_per_verdict():
    assert list(EXIT_CODES) == [
        "tampered",
        "provenance-unverified",
        "declared-edit-untrusted",
        "declared-edit",
        "undeclared-edit-suspected",
        "no-evidence",
    ]
    assert [EXIT_CODES[name] for name in EXIT_CODES] == [1, 5, 4, 0, 3, 0]


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("where", "text", "row"),
    [
        ("forensics.check", forensics.check.__doc__, r"^``([a-z-]+)``\s+(\d)\s"),
        ("README.md", (ROOT / "README.md").read_text(), r"^\| `([a-z-]+)` \| (\d) \|"),
        ("docs/provenance.md", (ROOT / "docs/provenance.md").read_text(), r"^\| `([a-z-]+)` \| (\d) \|"),
    ],
)
def test_documented_verdict_tables_match_the_exit_codes(where, text, row):
    table = {verdict: int(code) for verdict, code in re.findall(row, text, re.MULTILINE) if verdict in EXIT_CODES}
    assert table == EXIT_CODES, f"{where}: the verdict table differs from forensics.check.EXIT_CODES"


def test_threshold_evidence_states_the_cards_measured_false_alarms():
    card = load_card()
    calibration = load_model().extra["calibration"]
    line = threshold_evidence(calibration, card)
    cv = card["cross_validation"]
    measured = f"{cv['targets']['untouched_flagged']['value']:.1%} of {cv['untouched_videos']} untouched videos"
    assert f"{calibration['false_alarm_rate']:.0%} of {calibration['videos']}" in line
    assert f"{measured} flagged in cross-validation" in line and "on held-out footage" in line
    assert "no model card gives" in threshold_evidence(calibration, None)  # a model without card: said, not guessed


def test_cli_exit_codes_follow_the_verdict(signed_files, capsys, tmp_path):
    files, root = signed_files
    assert main(["check", str(files["tampered"]), "--trust", str(root)]) == 1
    assert "tampered" in capsys.readouterr().out
    assert main(["check", str(files["untrusted"]), "--trust", str(root)]) == 4
    assert "declared-edit-untrusted" in capsys.readouterr().out
    assert main(["check", str(tmp_path), "--trust", str(root)]) == 2  # a directory: nothing judged
    assert "is a directory" in capsys.readouterr().err
    assert main(["check", str(files["untrusted"]), "--threshold", "1.5"]) == 2  # a usage error: nothing judged
    assert "--threshold" in capsys.readouterr().err


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
        assert any("flagged in cross-validation" in line for line in result.evidence)

    for name, path in (("trusted", trusted), ("untrusted", untrusted), ("tampered", tampered)):
        capsys.readouterr()
        code = main(["check", str(path), "--trust", str(ours.root), "--json"])
        document = json.loads(capsys.readouterr().out)
        assert document["verdict"] == results[name].verdict
        assert code == document["exit_code"] == EXIT_CODES[results[name].verdict]
    assert [EXIT_CODES[results[name].verdict] for name in ("trusted", "untrusted", "tampered")] == [0, 4, 1]
