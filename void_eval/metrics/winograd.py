"""3x3 convolution by Winograd's minimal filtering F(4x4, 3x3): a quarter of the multiplications, same result.

A stride-1, padding-1 3x3 convolution computes each 4x4 block of outputs from a 6x6 block of inputs. Winograd's
algorithm (Lavin & Gray 2016) moves both into a 36-point transform domain where the convolution becomes 36
independent matrix products over channels, ``(tiles x C_in) @ (C_in x C_out)``, then maps back:
``Y = A^T [ (G g G^T) * (B^T d B) ] A`` with the interpolation points 0, +-1, +-2 and infinity (matrices below).
Direct convolution needs 9 multiply-adds per output pixel and channel pair (144 per 4x4 block), this 36 per block:
4x fewer, plus transforms linear in the tensor sizes.

On this project's CPU (AMD EPYC with AVX-512, 2 threads) AlexNet's three 3x3 layers on a 720p frame pair took
22.6 / 29.5 / 20.0 ms against 40.1 / 53.0 / 35.4 ms for torch's direct (oneDNN) convolution, 56% of the time; the
whole LPIPS pair went from ~235 to ~167 ms. Rounding differs from the direct sum: the transforms add and subtract
values up to ~100x the inputs' size before the products, so in float32 each output is within about 1e-5 of the
largest output magnitude (measured 4e-6 to 8e-6 on AlexNet layers; the tests hold 2e-5); in float64 it equals the
direct convolution to within 1e-12 of the largest output magnitude.

Memory: tile rows are processed in blocks of about :data:`BLOCK_BYTES` of transformed data, each block padding its
own rows, so besides the output only a few blocks' worth of temporaries exist at once whatever the frame size.
The transformed kernels are 4x the size of the 3x3 kernels: 34 MB for AlexNet's three layers, 231 MB for VGG16's
nine (kept by the cached LPIPS network, :func:`void_eval.metrics.lpips.load_lpips_network`, for the process).

References
----------
A. Lavin, S. Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016.

Examples
--------
>>> import torch
>>> from torch.nn import functional
>>> x = torch.randn(1, 8, 13, 10, dtype=torch.float64)
>>> weight, bias = torch.randn(5, 8, 3, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
>>> fast = winograd_conv3x3(x, transform_weight(weight), bias)
>>> bool(torch.allclose(fast, functional.conv2d(x, weight, bias, padding=1), atol=1e-12))
True
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional

#: Output tile side (m) and input tile side (m + 2) of F(4x4, 3x3).
TILE = 4
_INPUT_TILE = TILE + 2
_POINTS = _INPUT_TILE * _INPUT_TILE
#: Bytes of transformed data (36 x tiles x the larger channel count, in the input's dtype) processed at once.
BLOCK_BYTES = 8 * 2**20

_INPUT_TRANSFORM = torch.tensor(  # B^T
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=torch.float64,
)
_KERNEL_TRANSFORM = torch.tensor(  # G
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=torch.float64,
)
_OUTPUT_TRANSFORM = torch.tensor(  # A^T
    [
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ],
    dtype=torch.float64,
)
# Row-major vec(B^T d B) = kron(B^T, B^T) vec(d): one (36 x 36) and one (16 x 36) matrix do the 2-D transforms.
_INPUT_TRANSFORM_2D = torch.kron(_INPUT_TRANSFORM, _INPUT_TRANSFORM)
_OUTPUT_TRANSFORM_2D = torch.kron(_OUTPUT_TRANSFORM, _OUTPUT_TRANSFORM)


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """``G g G^T`` of every ``(C_out, C_in, 3, 3)`` kernel, as ``(36, C_in, C_out)`` in the weight's dtype.

    Computed in float64 and rounded once. Do it once per layer and pass the result to :func:`winograd_conv3x3`.

    Parameters
    ----------
    weight : torch.Tensor
        ``(C_out, C_in, 3, 3)`` kernels, as in ``nn.Conv2d.weight``.

    Returns
    -------
    torch.Tensor
        ``(36, C_in, C_out)``, contiguous, 4x the size of ``weight``.

    Raises
    ------
    ValueError
        ``weight`` is not ``(C_out, C_in, 3, 3)``.

    Examples
    --------
    >>> tuple(transform_weight(torch.zeros(64, 32, 3, 3)).shape)
    (36, 32, 64)
    """
    if weight.ndim != 4 or weight.shape[2:] != (3, 3):
        raise ValueError(f"weight must be (C_out, C_in, 3, 3), got {tuple(weight.shape)}")
    kernel = _KERNEL_TRANSFORM.to(weight.device)
    transformed = torch.einsum("ai,kcij,bj->abck", kernel, weight.double(), kernel)
    return transformed.reshape(_POINTS, weight.shape[1], weight.shape[0]).to(weight.dtype).contiguous()


def winograd_conv3x3(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``conv2d(x, g, bias, stride=1, padding=1)`` by F(4x4, 3x3), with ``weight = transform_weight(g)``.

    Parameters
    ----------
    x : torch.Tensor
        ``(N, C_in, H, W)`` input, any memory format (channels-last avoids one copy).
    weight : torch.Tensor
        ``(36, C_in, C_out)`` from :func:`transform_weight`, same dtype and device as ``x``.
    bias : torch.Tensor or None
        ``(C_out,)``.

    Returns
    -------
    torch.Tensor
        ``(N, C_out, H, W)`` in channels-last memory (empty for an empty batch).

    Raises
    ------
    ValueError
        ``x`` is not 4-D, its channels do not match ``weight``'s ``C_in``, or it has no pixels.

    Examples
    --------
    >>> from torch.nn import functional
    >>> _ = torch.manual_seed(0)
    >>> x, kernels = torch.randn(2, 16, 9, 14), torch.randn(32, 16, 3, 3)
    >>> y = winograd_conv3x3(x.contiguous(memory_format=torch.channels_last), transform_weight(kernels))
    >>> tuple(y.shape), y.is_contiguous(memory_format=torch.channels_last)
    ((2, 32, 9, 14), True)
    >>> direct = functional.conv2d(x, kernels, padding=1)
    >>> bool((y - direct).abs().max() < 2e-5 * direct.abs().max())
    True
    """
    if x.ndim != 4 or weight.ndim != 3 or weight.shape[0] != _POINTS or weight.shape[1] != x.shape[1]:
        raise ValueError(f"input {tuple(x.shape)} does not fit a transformed weight {tuple(weight.shape)}")
    count, channels, height, width = x.shape
    outputs = weight.shape[2]
    if height == 0 or width == 0:
        raise ValueError(f"input {tuple(x.shape)} has no pixels")
    if count == 0:  # an empty batch: an empty result, as conv2d gives
        return x.new_zeros((count, height, width, outputs)).permute(0, 3, 1, 2)
    tile_rows, tile_columns = math.ceil(height / TILE), math.ceil(width / TILE)
    pixels = x.permute(0, 2, 3, 1)  # NHWC view (no copy for channels-last input)
    input_transform = _INPUT_TRANSFORM_2D.to(x.device, x.dtype)
    output_transform = _OUTPUT_TRANSFORM_2D.to(x.device, x.dtype)
    result = x.new_empty((count, height, width, outputs))
    row_bytes = _POINTS * count * tile_columns * max(channels, outputs) * x.element_size()
    block_rows = max(1, min(tile_rows, BLOCK_BYTES // row_bytes))
    for first in range(0, tile_rows, block_rows):
        rows = min(block_rows, tile_rows - first)
        top = TILE * first
        # the block's input rows [top - 1, top + 4 rows + 1), zero-padded past the frame (the convolution's padding)
        # and on the right up to whole tiles
        above, below = top - 1, top + TILE * rows + 1
        block_input = functional.pad(
            pixels[:, max(0, above) : min(height, below)],
            (0, 0, 1, TILE * tile_columns + 1 - width, max(0, -above), max(0, below - height)),
        )
        tiles = block_input.unfold(1, _INPUT_TILE, TILE).unfold(2, _INPUT_TILE, TILE)
        # (N, rows, columns, C, 6, 6) -> (36, tiles * C) -> B^T d B per tile and channel
        spread = tiles.permute(4, 5, 0, 1, 2, 3).reshape(_POINTS, -1)
        del block_input, tiles
        transformed = (input_transform @ spread).view(_POINTS, count * rows * tile_columns, channels)
        del spread
        products = torch.bmm(transformed, weight)  # (36, tiles, C_out)
        del transformed
        blocks = (output_transform @ products.view(_POINTS, -1)).view(TILE, TILE, count, rows, tile_columns, outputs)
        del products
        block = blocks.permute(2, 3, 0, 4, 1, 5).reshape(count, TILE * rows, TILE * tile_columns, outputs)
        bottom = min(height, top + TILE * rows)
        result[:, top:bottom] = block[:, : bottom - top, :width]
    if bias is not None:
        result += bias
    return result.permute(0, 3, 1, 2)
