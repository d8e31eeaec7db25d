"""The check verdict: provenance first. The table with real VerifyResult objects of files the toolkit signs
itself (the detector's side given as a DetectionResult), and end to end through ``void-eval check``."""

from __future__ import annotations

import pytest

from forensics.check import EXIT_CODES, check_file, decide
from forensics.detectors.detect import DetectionResult
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


def test_cli_exit_codes_follow_the_verdict(signed_files, capsys, tmp_path):
    files, root = signed_files
    assert main(["check", str(files["tampered"]), "--trust", str(root)]) == 1
    assert "tampered" in capsys.readouterr().out
    assert main(["check", str(files["untrusted"]), "--trust", str(root)]) == 4
    assert "declared-edit-untrusted" in capsys.readouterr().out
    assert main(["check", str(tmp_path), "--trust", str(root)]) == 2  # a directory: nothing judged
    assert "is a directory" in capsys.readouterr().err


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
