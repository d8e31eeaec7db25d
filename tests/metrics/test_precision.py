"""CUDA metrics run their convolutions and matrix products in IEEE float32, not torch's default TF32."""

from __future__ import annotations

import pytest
import torch

from void_eval.metrics._precision import ieee_float32


def _settings() -> tuple[str, str]:
    return torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_blocks_run_in_ieee_float32_and_restore_the_settings(device: str) -> None:
    before = _settings()
    assert before[0] == "tf32"  # torch's default for cuDNN convolutions: why this exists
    with ieee_float32(device):
        assert _settings() == ("ieee", "ieee")
    assert _settings() == before
    with pytest.raises(ZeroDivisionError), ieee_float32(device):
        _ = 1 / 0
    assert _settings() == before


def test_the_cpu_changes_nothing() -> None:
    before = _settings()
    with ieee_float32("cpu"):
        assert _settings() == before
