"""Speed of LPIPS's region weighting (:mod:`void_eval.metrics.upsampled_regions`) against torch's own adjoint.

Workload: per frame, the four spatial regions of a quadmask (an object block of 1/5 x 1/6 of the frame, an affected
strip below it, keep = the rest, a boundary ring around the object) and the head maps of AlexNet's five layers (3
sizes) at 720p and 1080p, on ``--threads`` (2) CPU threads. Sides, each run ``--repeat`` (20) times per round,
rounds interleaved:

- ``adjoint``: the masks as float32 and, per layer size, ``torch.ops.aten.upsample_bilinear2d_backward`` of all of
  them (the transpose of the upsampling over the whole frame), then the weighted sums: the region sums as torch's
  own autograd would give them;
- ``boxes``: :func:`~void_eval.metrics.upsampled_regions.region_sums` on the boolean masks (matrix products on each
  mask's bounding box or its complement's).

Printed: milliseconds per frame of each side (median of ``--rounds`` rounds), their ratio and the largest relative
difference of the region sums.

Run: ``python benchmarks/region_weights_speed.py [--threads 2] [--rounds 3] [--repeat 20]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from void_eval.metrics.upsampled_regions import region_sums


def quadmask_regions(height: int, width: int) -> np.ndarray:
    """Boolean ``(4, H, W)``: remove, affected, keep, boundary of one frame (see the module docstring)."""
    masks = np.zeros((4, height, width), bool)
    top, left, rows, cols = height // 3, width // 3, height // 5, width // 6
    masks[0, top : top + rows, left : left + cols] = True
    masks[1, top + rows : top + rows + height // 10, left : left + width // 4] = True
    masks[2] = ~(masks[0] | masks[1])
    masks[3, top - 8 : top + rows + 8, left - 8 : left + cols + 8] = True
    masks[3] &= ~masks[0]
    return masks


def alexnet_maps(height: int, width: int) -> list[torch.Tensor]:
    """Random head maps of the sizes AlexNet's five taps have for a frame of ``height x width``."""
    first = ((height - 7) // 4 + 1, (width - 7) // 4 + 1)
    second = ((first[0] - 3) // 2 + 1, (first[1] - 3) // 2 + 1)
    third = ((second[0] - 3) // 2 + 1, (second[1] - 3) // 2 + 1)
    generator = torch.Generator().manual_seed(height)
    return [torch.rand((1, 1, *size), generator=generator) for size in (first, second, third, third, third)]


def adjoint_sums(layers: list[torch.Tensor], masks: torch.Tensor) -> torch.Tensor:
    """The reference: torch's adjoint of the upsampling over the whole frame, per layer size."""
    floats = masks.float()
    weights: dict[tuple, torch.Tensor] = {}
    totals = torch.zeros(len(masks), dtype=torch.float64)
    for layer in layers:
        size = tuple(layer.shape[2:])
        if size not in weights:
            shape = [1, len(masks), *size]
            weights[size] = torch.ops.aten.upsample_bilinear2d_backward(
                floats[None], list(masks.shape[1:]), shape, False
            )[0]
        totals += (weights[size] * layer[0]).sum(dim=(1, 2), dtype=torch.float64)
    return totals


def per_frame_ms(function, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - started) / repeat * 1000


def measure(height: int, width: int, rounds: int, repeat: int) -> None:
    """Time both sides on one frame size and print the line."""
    masks, layers = torch.from_numpy(quadmask_regions(height, width)), alexnet_maps(height, width)
    ours = torch.tensor([total for total, _ in region_sums(layers, masks)], dtype=torch.float64)
    reference = adjoint_sums(layers, masks)
    difference = float(((ours - reference).abs() / reference.abs()).max())
    sides = {"adjoint": lambda: adjoint_sums(layers, masks), "boxes": lambda: region_sums(layers, masks)}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            side()
            times[name].append(per_frame_ms(side, repeat))
    adjoint, boxes = statistics.median(times["adjoint"]), statistics.median(times["boxes"])
    print(
        f"{width}x{height}: adjoint {adjoint:.1f} ms/frame, boxes {boxes:.1f} ms/frame, "
        f"ratio {adjoint / boxes:.1f}x, largest relative difference {difference:.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for height, width in [(720, 1280), (1080, 1920)]:
        measure(height, width, args.rounds, args.repeat)


if __name__ == "__main__":
    main()
