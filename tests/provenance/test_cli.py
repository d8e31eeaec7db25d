"""The CLI: keys dev, sign, sign-run, verify with its exit codes and JSON."""

from __future__ import annotations

import json
import os
import shutil

import cv2
import numpy as np
import pandas as pd
import pytest

from forensics.provenance.verify import verify_file
from tests.provenance.conftest import top_level_boxes
from void_eval.cli import main


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keys_sign_verify_exit_codes(capsys, media, tmp_path):
    keys = tmp_path / "keys"
    code, out, _ = _run(capsys, "keys", "dev", keys, "--alg", "ps256")
    assert code == 0 and "NOT FOR PRODUCTION" in out
    signed = tmp_path / "signed.mp4"
    code, out, err = _run(
        capsys,
        "sign",
        media.edited_mp4,
        "--parent",
        media.original_mp4,
        "--chain",
        keys / "chain.pem",
        "--key",
        keys / "signer.key",
        "--out",
        signed,
        "--clip",
        media.clip,
        "--method",
        "telea",
        "--param",
        "radius=5",
    )
    assert code == 0, err
    assert _run(capsys, "verify", signed, "--trust", keys / "root.pem")[0] == 0
    code, out, _ = _run(capsys, "verify", signed)
    assert code == 4 and "Valid" in out and "signingCredential.untrusted" in out
    assert _run(capsys, "verify", media.edited_mp4)[0] == 3
    tampered = tmp_path / "tampered.mp4"
    data = bytearray(signed.read_bytes())
    [(offset, size)] = [(offset, size) for kind, offset, size in top_level_boxes(data) if kind == "mdat"][:1]
    data[offset + size // 2] ^= 1
    tampered.write_bytes(bytes(data))
    code, out, _ = _run(capsys, "verify", signed, tampered, media.edited_mp4, "--trust", keys / "root.pem", "--json")
    assert code == 1
    payload = json.loads(out)
    assert [item["state"] for item in payload] == ["Trusted", "Invalid", "NoManifest"]
    assert set(payload[0]) >= {"file", "state", "failures", "signer", "actions", "removal", "ingredients"}
    assert payload[0]["removal"]["method"]["params"] == {"radius": 5}
    assert payload[1]["failures"] == ["assertion.bmffHash.mismatch"]
    assert _run(capsys, "verify")[0] == 2  # usage error: no FILE
    code, _, err = _run(capsys, "sign", media.edited_mp4, "--chain", keys / "chain.pem", "--out", tmp_path / "x.mp4")
    assert code == 2 and "--key" in err


def test_loose_key_is_refused_with_a_clear_message(capsys, media, pki, tmp_path):
    loose = tmp_path / "signer.key"
    shutil.copy(pki.key, loose)
    os.chmod(loose, 0o640)
    code, out, err = _run(
        capsys,
        "sign",
        media.edited_png,
        "--parent",
        media.original_png,
        "--chain",
        pki.chain,
        "--key",
        loose,
        "--out",
        tmp_path / "s.png",
    )
    assert code == 1 and "accessible by group/others" in err and "chmod 600" in err
    assert "PRIVATE KEY" not in out + err and not (tmp_path / "s.png").exists()


@pytest.fixture
def run_folder(media, tmp_path):
    """A run folder as the runner writes it: outputs/<method>/<clip>.mp4, run.json, results.parquet, a chart."""
    run = tmp_path / "run"
    for method in ("telea", "copy"):
        (run / "outputs" / method).mkdir(parents=True)
        shutil.copy(media.edited_mp4, run / "outputs" / method / "square.mp4")
    (run / "run.json").write_text(
        json.dumps(
            {
                "clips_dir": str(media.clip.parent),
                "config": {"methods": [{"label": "telea", "name": "telea", "params": {"radius": 3}}]},
            }
        )
    )
    rows = [
        {
            "method": method,
            "clip": "square",
            "scenario": "real",
            "region": region,
            "metric": "psnr",
            "reference": "counterfactual",
            "value": value,
        }
        for method, region, value in [
            ("telea", "remove", 31.5),
            ("telea", "keep", float("nan")),
            ("copy", "remove", 12.25),
            ("telea", "remove_other", 1.0),
        ]
    ]
    rows[-1]["clip"] = "other"
    pd.DataFrame(rows).to_parquet(run / "results.parquet")
    (run / "report").mkdir()
    cv2.imwrite(str(run / "report" / "leaderboard.png"), np.full((20, 30, 3), 200, np.uint8))
    return run


def test_sign_run(capsys, run_folder, pki, media):
    code, out, err = _run(capsys, "sign-run", run_folder, "--chain", pki.chain, "--key", pki.key, "--quiet")
    assert code == 0, err
    assert "signed 2 output(s) and 1 report image(s)" in out
    signed = run_folder / "signed"
    telea = verify_file(signed / "outputs" / "telea" / "square.mp4", trust=pki.root)
    assert telea.state == "Trusted"
    assert telea.removal["method"]["params"] == {"radius": 3}
    assert telea.removal["metrics"] == [
        {"region": "remove", "metric": "psnr", "reference": "counterfactual", "value": 31.5},
        {"region": "keep", "metric": "psnr", "reference": "counterfactual", "value": None},
    ]
    assert telea.ingredients[0]["title"] == "input_video.mp4"
    copy = verify_file(signed / "outputs" / "copy" / "square.mp4", trust=pki.root)
    assert copy.removal["rewritten_levels"] == [] and copy.removal["metrics"][0]["value"] == 12.25
    chart = verify_file(signed / "report" / "leaderboard.png", trust=pki.root)
    assert chart.state == "Trusted" and chart.actions[0]["action"] == "c2pa.created"
    index = json.loads((signed / "index.json").read_text())
    assert len(index["signed"]) == 3
    # a second run refuses to replace signed copies unless --force
    assert _run(capsys, "sign-run", run_folder, "--chain", pki.chain, "--key", pki.key, "--quiet")[0] == 1
    assert _run(capsys, "sign-run", run_folder, "--chain", pki.chain, "--key", pki.key, "--quiet", "--force")[0] == 0


def test_sign_run_reports_missing_pieces(capsys, run_folder, pki):
    (run_folder / "run.json").write_text(json.dumps({"clips_dir": "/nonexistent"}))
    code, _, err = _run(capsys, "sign-run", run_folder, "--chain", pki.chain, "--key", pki.key, "--quiet")
    assert code == 1 and "clips_dir" in err
    (run_folder / "run.json").unlink()
    code, _, err = _run(capsys, "sign-run", run_folder, "--chain", pki.chain, "--key", pki.key, "--quiet")
    assert code == 1 and "run.json not found" in err


def test_demo_step_signs_and_verifies_a_run(run_folder, tmp_path, monkeypatch):
    from forensics.provenance.demo_step import sign_and_verify_run

    cache = tmp_path / "cache"
    monkeypatch.setenv("VOID_EVAL_CACHE", str(cache))
    lines = []
    assert sign_and_verify_run(run_folder, echo=lines.append) == 0
    assert lines[0].endswith("verified: 3 Trusted")
    key = cache / "keys" / "demo" / "signer.key"
    assert lines[1] == f"  dev key (outside the run folder, mode 0600): {key}; trust anchor: {key.parent / 'root.pem'}"
    assert lines[2:] == [f"  per-file results: {run_folder / 'signed' / 'verify.json'}"]  # only non-Trusted listed
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent.stat().st_mode & 0o777 == 0o700
    assert not [path for path in run_folder.rglob("*") if path.suffix == ".key" or b"PRIVATE KEY" in _head(path)]
    report = json.loads((run_folder / "signed" / "verify.json").read_text())
    assert [item["state"] for item in report] == ["Trusted"] * 3


def _head(path) -> bytes:
    return path.read_bytes()[:4096] if path.is_file() else b""


def test_sign_run_reads_the_runner_cache_layout_and_checks_inputs(capsys, media, pki, tmp_path):
    import hashlib

    run = tmp_path / "run"
    (run / "cells" / "telea" / "square").mkdir(parents=True)
    shutil.copy(media.edited_mp4, run / "cells" / "telea" / "square" / "output.mp4")
    good = hashlib.sha256(media.original_mp4.read_bytes()).hexdigest()
    record = {
        "config": {"clip_folders": [str(media.clip)], "methods": [{"label": "telea", "name": "telea", "params": {}}]},
        "methods": {"telea": {"method_name": "telea", "version": "1", "params": {"radius": 7}}},
        "cells": [{"method": "telea", "clip": "square", "input_sha256": "0" * 64}],
    }
    (run / "run.json").write_text(json.dumps(record))
    args = ("sign-run", run, "--chain", pki.chain, "--key", pki.key, "--quiet")
    code, _, err = _run(capsys, *args)
    assert code == 1 and "not the input the run used" in err
    record["cells"][0]["input_sha256"] = good
    (run / "run.json").write_text(json.dumps(record))
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    assert "no results.parquet" in out
    result = verify_file(run / "signed" / "outputs" / "telea" / "square.mp4", trust=pki.root)
    assert result.state == "Trusted" and result.removal["method"]["params"] == {"radius": 7}
    assert "metrics" not in result.removal


def test_real_sample_clip_record(samples_root, pki, tmp_path):
    """Real upstream data: BigBen's quadmask fractions in the record equal clip_check's."""
    from forensics.provenance.sign import sign_file
    from void_eval.clip_check import check_clip

    clip = samples_root / "BigBen"
    deliverable = tmp_path / "bigben_removed.mp4"
    shutil.copy(clip / "input_video.mp4", deliverable)  # a real, foreign (non-toolkit) h264 mp4
    out = sign_file(
        deliverable,
        parent=clip / "input_video.mp4",
        chain=pki.chain,
        key=pki.key,
        out=tmp_path / "signed.mp4",
        clip=clip,
        method="telea",
    )
    result = verify_file(out, trust=pki.root)
    assert result.state == "Trusted"
    expected = check_clip(clip).fractions
    for name, value in result.removal["region_fractions"].items():
        assert value == pytest.approx(expected[name], abs=1e-9)
