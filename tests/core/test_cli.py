"""The ``void-eval`` CLI: ``clip check`` output and exit codes, version, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from void_eval.cli import main

VOID_EVAL = Path(sys.executable).with_name("void-eval")


def _fractions_by_numpy(mask_path: Path) -> dict[str, float]:
    with av.open(str(mask_path)) as container:
        red = np.stack([f.to_ndarray(format="rgb24")[..., 0] for f in container.decode(video=0)])
    levels = np.array([0, 63, 127, 255])[np.digitize(red, [31, 95, 191], right=True)]
    return {
        name: float(np.mean(levels == value))
        for name, value in zip(("remove", "overlap", "affected", "keep"), (0, 63, 127, 255), strict=True)
    }


def test_clip_check_json_on_the_samples(samples_root, capsys):
    code = main(["clip", "check", str(samples_root / "BigBen"), str(samples_root / "ducky-float"), "--json"])
    assert code == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["clip"] for r in reports] == ["BigBen", "ducky-float"]
    expected_keys = {
        "clip",
        "path",
        "valid",
        "frames",
        "height",
        "width",
        "fps",
        "mask_file",
        "fractions",
        "warnings",
        "errors",
    }
    assert all(set(r) == expected_keys for r in reports)
    bigben, ducky = reports
    assert (bigben["frames"], bigben["height"], bigben["width"]) == (50, 360, 544)
    assert (ducky["frames"], ducky["height"], ducky["width"]) == (62, 720, 1296)
    for report in reports:
        assert report["mask_file"] == "trimask_quadmask.mp4" and report["valid"]
        expected = _fractions_by_numpy(samples_root / report["clip"] / "trimask_quadmask.mp4")
        assert report["fractions"] == pytest.approx(expected, abs=1e-12)
    assert any("frame 0" in w for w in bigben["warnings"])
    assert not any("frame 0" in w for w in ducky["warnings"])


def test_clip_check_exit_code_is_1_when_any_clip_is_invalid(samples_root, tmp_path, capsys):
    code = main(["clip", "check", str(samples_root / "BigBen"), str(tmp_path / "missing"), "--json"])
    assert code == 1
    reports = json.loads(capsys.readouterr().out)
    assert reports[1]["valid"] is False and "clip folder not found" in reports[1]["errors"][0]


def test_clip_check_table_is_readable(samples_root, capsys):
    assert main(["clip", "check", str(samples_root / "BigBen")]) == 0
    out = capsys.readouterr().out
    assert "BigBen" in out and "trimask_quadmask.mp4" in out and "frame 0" in out


def test_usage_errors_exit_2(capsys):
    assert main(["clip", "check"]) == 2
    assert main(["no-such-command"]) == 2


def test_console_script_version_and_exit_codes(tmp_path, samples_root):
    version = subprocess.run([VOID_EVAL, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("void-eval ")
    bad = subprocess.run(
        [VOID_EVAL, "clip", "check", str(tmp_path / "nope")], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr + bad.stdout
    good = subprocess.run(
        [VOID_EVAL, "clip", "check", str(samples_root / "BigBen"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0 and json.loads(good.stdout)[0]["valid"]


def test_demo_first_step_checks_the_samples(tmp_path, samples_root, monkeypatch, capsys):
    from void_eval.demo import check_samples

    monkeypatch.setenv("VOID_EVAL_SAMPLES", str(samples_root))
    assert check_samples(tmp_path) is True
    written = json.loads((tmp_path / "clip_check.json").read_text())
    assert {r["clip"] for r in written} == {"BigBen", "ducky-float"}
    assert "BigBen: valid" in capsys.readouterr().out
