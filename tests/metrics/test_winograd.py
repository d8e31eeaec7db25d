"""Winograd F(4x4, 3x3) equals the direct 3x3 convolution: exactly in float64, to rounding in float32, any size."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

import void_eval.metrics.winograd as winograd
from void_eval.metrics.lpips import load_lpips_network
from void_eval.metrics.winograd import transform_weight, winograd_conv3x3


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (4, 4), (13, 10), (44, 79)])
def test_float64_equals_the_direct_convolution(size):
    generator = torch.Generator().manual_seed(sum(size))
    x = torch.randn(2, 6, *size, dtype=torch.float64, generator=generator)
    weight = torch.randn(7, 6, 3, 3, dtype=torch.float64, generator=generator)
    bias = torch.randn(7, dtype=torch.float64, generator=generator)
    fast = winograd_conv3x3(x, transform_weight(weight), bias)
    assert fast.shape == (2, 7, *size)
    assert fast.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(fast, functional.conv2d(x, weight, bias, padding=1), rtol=0, atol=1e-12)
    unbiased = winograd_conv3x3(x.contiguous(memory_format=torch.channels_last), transform_weight(weight))
    assert torch.allclose(unbiased, functional.conv2d(x, weight, padding=1), rtol=0, atol=1e-12)


def test_float32_alexnet_layers_are_within_the_documented_rounding():
    network = load_lpips_network("alex", "cpu")
    generator = torch.Generator().manual_seed(0)
    for conv in network.convs[2:]:
        x = torch.relu(torch.randn(2, conv.in_channels, 23, 37, generator=generator))
        exact = functional.conv2d(x.double(), conv.weight.double(), conv.bias.double(), padding=1)
        fast = winograd_conv3x3(x, transform_weight(conv.weight), conv.bias)
        assert fast.dtype == torch.float32
        error = float((fast.double() - exact).abs().max() / exact.abs().max())
        assert 0 < error <= 2e-5  # not bit-equal (another summation), within the module docstring's bound


# one tile row = 36 points x 3 images x 4 tile columns x 16 channels x 8 bytes: blocks of 1 row, and of 3, 3 and 2
@pytest.mark.parametrize("block_bytes", [1, 3 * 36 * 3 * 4 * 16 * 8])
def test_blocks_of_tile_rows_equal_the_direct_convolution(monkeypatch, block_bytes):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(3, 16, 30, 13, dtype=torch.float64, generator=generator)  # 8 tile rows, the last one partial
    weight = torch.randn(8, 16, 3, 3, dtype=torch.float64, generator=generator)
    monkeypatch.setattr(winograd, "BLOCK_BYTES", block_bytes)
    fast = winograd_conv3x3(x, transform_weight(weight))
    assert torch.allclose(fast, functional.conv2d(x, weight, padding=1), rtol=0, atol=1e-10)


def test_an_empty_batch_is_an_empty_output_and_a_frame_without_pixels_is_refused():
    weight = torch.randn(4, 3, 3, 3)
    x = torch.zeros(0, 3, 5, 5)
    assert winograd_conv3x3(x, transform_weight(weight)).shape == functional.conv2d(x, weight, padding=1).shape
    with pytest.raises(ValueError, match="no pixels"):
        winograd_conv3x3(torch.zeros(1, 3, 5, 0), transform_weight(weight))


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="C_out, C_in, 3, 3"):
        transform_weight(torch.zeros(4, 4, 5, 5))
    with pytest.raises(ValueError, match="does not fit"):
        winograd_conv3x3(torch.zeros(1, 3, 8, 8), transform_weight(torch.zeros(4, 5, 3, 3)))
