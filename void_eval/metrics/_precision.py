"""True float32 arithmetic on CUDA for the metrics' convolutions and matrix products.

torch lets cuDNN run float32 convolutions in TF32 by default (``torch.backends.cudnn.conv.fp32_precision`` is
``"tf32"``): 10-bit mantissas, errors of ~1e-3 relative, far more than a metric may carry (LPIPS and SSIM are
compared with the CPU to 1e-4 and 1e-6). :func:`ieee_float32` switches convolutions and matrix products to IEEE
float32 while a metric runs on a GPU and restores the caller's settings after. The settings are process-wide:
other threads' CUDA work in that window is computed in IEEE float32 too (slower, never less exact).

Examples
--------
>>> import torch
>>> with ieee_float32("cuda"):
...     torch.backends.cudnn.conv.fp32_precision
'ieee'
>>> with ieee_float32("cpu"):  # the CPU never uses TF32: nothing to change
...     pass
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def ieee_float32(device: str) -> Iterator[None]:
    """While the block runs, CUDA convolutions and matrix products in IEEE float32 (nothing changes for the CPU).

    Parameters
    ----------
    device : str
        The metric's device (``"cpu"``, ``"cuda"``, ``"cuda:N"``).
    """
    if not device.startswith("cuda"):
        yield
        return
    conv, matmul = torch.backends.cudnn.conv, torch.backends.cuda.matmul
    saved = conv.fp32_precision, matmul.fp32_precision
    conv.fp32_precision = matmul.fp32_precision = "ieee"
    try:
        yield
    finally:
        conv.fp32_precision, matmul.fp32_precision = saved
