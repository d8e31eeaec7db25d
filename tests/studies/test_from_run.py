"""``void-eval study design --from-run``: a study built from a finished run's outputs, re-encoded alike."""

from __future__ import annotations

import numpy as np
import pandas as pd

from void_eval.cli import main
from void_eval.runner.cell import RunOptions
from void_eval.runner.plan import parse_method_specs
from void_eval.runner.run import run_benchmark
from void_eval.video import probe, read_video, write_video


def _run(make_clip, tmp_path):
    """copy and telea on two clips, and a precomputed method that has an output for c0 only (fails on c1)."""
    for name in ("c0", "c1"):
        make_clip(name, frames=6, height=24, width=32)
    outputs = tmp_path / "exports"
    outputs.mkdir()
    write_video(outputs / "c0.mp4", read_video(tmp_path / "c0" / "input_video.mp4")[::-1], 12, kind="lossless")
    specs = parse_method_specs("copy,telea,runway=precomputed", [f"runway.folder={outputs}"])
    run = tmp_path / "run"
    summary = run_benchmark(tmp_path, specs, run, options=RunOptions(metrics=("psnr",)), progress=False)
    assert [cell.status for cell in summary.cells].count("failed") == 1
    return run


def test_design_from_a_run(make_clip, tmp_path, capsys):
    run = _run(make_clip, tmp_path)
    out = tmp_path / "study"
    args = ["study", "design", "--from-run", str(run), "--methods", "telea,runway", "--participants", "2"]
    assert main([*args, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "left out clip c1: runway did not finish it" in captured.err and "balanced: yes" in captured.out
    manifest = pd.read_csv(out / "media_manifest.csv")
    assert set(manifest["clip"]) == {"c0"} and set(manifest.method) == {"telea", "runway", "copy-input"}
    sources = dict(zip(manifest.method, manifest.source, strict=True))
    assert sources["telea"] == str(run / "cells" / "telea" / "c0" / "output.mp4")
    assert sources["copy-input"] == str(tmp_path / "c0" / "input_video.mp4")
    for relative in manifest.media_file:
        info = probe(out / relative)
        assert (info.frames, info.height, info.width, info.pix_fmt) == (6, 24, 32, "yuv420p")  # browsers play it
        assert info.codec == "h264"
    runway = read_video(out / manifest.set_index("method").loc["runway", "media_file"]).astype(int)
    source = read_video(tmp_path / "c0" / "input_video.mp4").astype(int)
    error, other = np.abs(runway - source[::-1]).mean(), np.abs(runway - source).mean()
    assert error < 8 and error < other / 2  # the run's (reversed) output, re-encoded at crf 18
    # only clips named with --clips; unknown labels and changed outputs are input errors
    assert main([*args, "--clips", "c0", "--out", str(tmp_path / "s2")]) == 0
    assert main([*args[:-4], "--methods", "telea,nope", "--participants", "2", "--out", str(tmp_path / "s3")]) == 1
    assert "has no method(s) nope (its methods: copy, telea, runway)" in capsys.readouterr().err
    (run / "cells" / "telea" / "c0" / "output.mp4").write_bytes(b"changed")
    assert main([*args, "--out", str(tmp_path / "s4")]) == 1
    assert "missing or changed since the run recorded it" in capsys.readouterr().err
    assert main(["study", "design", "--methods", "a,b", "--participants", "2", "--out", str(tmp_path / "s5")]) == 2
