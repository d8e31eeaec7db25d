"""Region sums of a bilinearly upsampled map without making it: ``sum over R of U d = <U^T m_R, d>``.

``U``, torch's bilinear upsampling (``align_corners=False``) from a layer's ``(h, w)`` to the frame's ``(H, W)``, is
separable: ``U d = A d B^T`` with one-axis matrices ``A`` ``(H, h)`` and ``B`` ``(W, w)`` (made by ``interpolate``
of an identity, so they hold torch's own weights), each row with at most two nonzeros. So ``U^T m = A^T m B``:

- a mask that is zero outside its bounding box ``[y0, y1) x [x0, x1)`` needs only ``A[y0:y1]``, ``B[x0:x1]`` and
  the box, restricted to the low-resolution rows and columns those read: two small matrix products;
- a mask whose complement has the smaller box (region ``keep``) is ``U^T 1 - U^T (1 - m)``, with ``U^T 1`` the
  outer product of the column sums of ``A`` and ``B``.

Quadmask regions are blocks, strips and rings: far cheaper than torch's ``upsample_bilinear2d_backward`` (the same
``U^T m`` over the whole frame, about 3 ms per mask and layer size at 720p), and equal to it within rounding (tested).

Examples
--------
>>> import torch
>>> mask = torch.zeros(1, 64, 96, dtype=torch.bool); mask[0, 10:20, 30:50] = True
>>> layer = torch.rand(16, 24)
>>> upsampled = torch.nn.functional.interpolate(layer[None, None], size=(64, 96), mode="bilinear")[0, 0]
>>> weighted = float((region_weights(mask, (16, 24))[0] * layer).sum())
>>> abs(weighted - float((mask[0] * upsampled).sum())) < 1e-4
True
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch.nn import functional

Box = tuple[int, int, int, int]
Plan = tuple[str, Box | None]


@lru_cache(maxsize=64)
def _axis(full: int, low: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, list, list]:
    """``(full, low)`` upsampling matrix of one axis, and per full row the first and one past the last low row."""
    identity = torch.eye(low, dtype=dtype, device=device)[None, None]
    matrix = functional.interpolate(identity, size=(full, low), mode="bilinear", align_corners=False)[0, 0]
    present = (matrix != 0).cpu().int()
    return matrix, present.argmax(dim=1).tolist(), (low - present.flip(1).argmax(dim=1)).tolist()


def _box(present: torch.Tensor) -> Box | None:
    """``(y0, y1, x0, x1)`` bounding the true pixels of a ``(H, W)`` boolean, or None (read as uint8: torch's
    reductions of booleans are ~40x slower on the CPU)."""
    present = present.view(torch.uint8)
    rows = present.amax(dim=1).nonzero().flatten()
    if len(rows) == 0:
        return None
    cols = present[int(rows[0]) : int(rows[-1]) + 1].amax(dim=0).nonzero().flatten()
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _area(box: Box | None) -> int:
    return 0 if box is None else (box[1] - box[0]) * (box[3] - box[2])


def mask_plans(masks: torch.Tensor) -> list[Plan]:
    """Per ``(H, W)`` mask, for any layer size: ``("box", its box)``, or ``("complement", box of 1 - mask)`` when that
    is smaller and the mask's box covers over half the frame (None: an empty box)."""
    plans: list[Plan] = []
    for mask in masks:
        box = _box(mask != 0 if mask.is_floating_point() else mask)
        inverse = _box(mask != 1 if mask.is_floating_point() else ~mask) if _area(box) > mask.numel() / 2 else box
        plans.append(("complement", inverse) if _area(inverse) < _area(box) else ("box", box))
    return plans


def _weights(mask: torch.Tensor, plan: Plan, size: tuple, rows: tuple, cols: tuple) -> torch.Tensor:
    """``U^T mask`` from ``A[y0:y1]``, the box and ``B[x0:x1]``, or ``U^T 1`` less that of the complement."""
    (kind, box), (a, a_first, a_last), (b, b_first, b_last) = plan, rows, cols
    weights = a.new_zeros(size)
    if box is not None:
        y0, y1, x0, x1 = box
        crop = mask[y0:y1, x0:x1].to(a.dtype)
        i0, i1, j0, j1 = a_first[y0], a_last[y1 - 1], b_first[x0], b_last[x1 - 1]
        weights[i0:i1, j0:j1] = a[y0:y1, i0:i1].T @ (1 - crop if kind == "complement" else crop) @ b[x0:x1, j0:j1]
    return torch.outer(a.sum(dim=0), b.sum(dim=0)).sub_(weights) if kind == "complement" else weights


def region_weights(
    masks: torch.Tensor, size: tuple[int, int], plans: list[Plan] | None = None, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``U^T m`` for each ``(H, W)`` boolean or float mask of ``(R, H, W)``: ``(R, h, w)`` in ``dtype`` (default the
    masks', float32 for boolean ones), so that ``(U^T m * d).sum() == (m * U d).sum()`` for a map ``d`` of ``size``.
    ``plans`` (:func:`mask_plans`) can be shared by several sizes."""
    dtype = dtype or (masks.dtype if masks.is_floating_point() else torch.float32)
    rows, cols = (_axis(full, low, dtype, masks.device) for full, low in zip(masks.shape[1:], size, strict=True))
    plans = mask_plans(masks) if plans is None else plans
    return torch.stack([_weights(mask, plan, tuple(size), rows, cols) for mask, plan in zip(masks, plans, strict=True)])


def region_sums(layers: list[torch.Tensor], masks: torch.Tensor) -> list[tuple[float, int]]:
    """Per boolean mask of ``(R, H, W)``: ``(sum over its pixels of the upsampled sum of the (1, 1, h, w) layer
    maps, its pixels)``."""
    plans, sizes = mask_plans(masks), dict.fromkeys(tuple(layer.shape[2:]) for layer in layers)  # AlexNet: 3 sizes
    weights = {size: region_weights(masks, size, plans, layers[0].dtype) for size in sizes}
    totals = sum((weights[tuple(layer.shape[2:])] * layer[0]).sum(dim=(1, 2), dtype=torch.float64) for layer in layers)
    counts = masks.view(torch.uint8).sum(dim=2, dtype=torch.int32).sum(dim=1).tolist()  # exact: rows < 2^31 px
    return [(float(total), int(count)) for total, count in zip(totals.tolist(), counts, strict=True)]


__all__ = ["mask_plans", "region_sums", "region_weights"]
