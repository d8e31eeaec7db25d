"""benchmarks/void_gpu.py: refuses clearly without CUDA; its CPU-testable path runs with --tiny."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "void_gpu.py"


def _load():
    spec = importlib.util.spec_from_file_location("void_gpu_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_prints_the_table_with_upstreams_figures(capsys):
    bench = _load()
    assert bench.main(["--tiny", "--frames", "5", "--size", "16x32", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "NOT VOID figures" in out and "upstream figures" in out and "cpu" in out
    assert bench.UPSTREAM_FIGURES == {"model-offload": (153.5, 18.9), "gpu": (134.4, 38.0)}
    assert bench.TRANSFORMER_5B["in_channels"] == 48 and bench.TRANSFORMER_5B["num_layers"] == 42


def test_refuses_without_cuda_and_rejects_unknown_modes(capsys):
    bench = _load()
    assert bench.main(["--modes", "warp-speed"]) == 2
    assert "unknown memory modes" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert bench.main([]) == 2
        assert "needs a CUDA GPU" in capsys.readouterr().err
