"""Optical flow providers for the temporal metrics: a small protocol, OpenCV DIS (default), Farneback and RAFT.

A provider maps a pair of RGB frames to the flow ``F`` with ``first(x) ~ second(x + F(x))`` (pixels, ``(H, W, 2)``
float32, ``F[..., 0]`` horizontal). Every provider has a ``name`` recorded in result rows, so a number always says
which flow it was computed with.

Examples
--------
>>> import numpy as np
>>> import cv2
>>> rng = np.random.default_rng(0)
>>> first = cv2.GaussianBlur(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), (0, 0), 2)
>>> second = np.roll(first, 2, axis=1)  # content moves 2 px to the right
>>> flow = get_flow_provider("dis").flow(first, second)
>>> round(float(np.median(flow[..., 0])), 2), round(abs(float(np.median(flow[..., 1]))), 2)
(2.0, 0.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from void_eval.errors import InputError, MissingExtraError

#: Frames above this many pixels get no DIS instance kept between calls (its pyramids, ~145 MB at 1080p): at 1080p
#: and above, memory held by one metric would add to every other metric's peak (4K scoring targets 1.5 GB).
KEEP_SCRATCH_MAX_PIXELS = 1 << 20

DisPreset = Literal["ultrafast", "fast", "medium"]
_DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


@runtime_checkable
class FlowProvider(Protocol):
    """Dense optical flow between two frames.

    Attributes
    ----------
    name : str
        Identifies the algorithm and its settings in result rows (``"dis-medium"``, ``"farneback"``, ...).
    """

    name: str

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Flow from ``first`` to ``second`` (both ``(H, W, 3)`` uint8 RGB): ``(H, W, 2)`` float32 pixels."""


def _grey(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise TypeError(f"flow frames must be uint8, got {frame.dtype}")
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.ndim != 3 or frame.shape[-1] != 3:
        raise ValueError(f"flow frames must be (H, W, 3) RGB or (H, W) grey, got shape {frame.shape}")
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _check_pair(first: np.ndarray, second: np.ndarray) -> None:
    if np.shape(first) != np.shape(second):
        raise ValueError(f"flow frames differ in shape: {np.shape(first)} and {np.shape(second)}")


class DisFlow:
    """OpenCV's Dense Inverse Search flow on the grey (BT.601) frames.

    Parameters
    ----------
    preset : {"ultrafast", "fast", "medium"}, keyword-only
        OpenCV's DIS preset; ``medium`` (default) is the most accurate. OpenCV's own default is ``fast``.

    Notes
    -----
    Why ``medium`` (measured, 2 threads, 720p): a pair costs about 8 ms (ultrafast), 11 ms (fast), 54 ms (medium),
    172 ms for Farneback. Accuracy with known truth: a real frame (bigbuckbunny 1280x720, ducky-float 1296x720,
    BigBen 544x360) was warped by a known field (an integer shift of (3, -2) px, smooth random fields of 2 and 8 px
    peak, zoom 1.03 with 1 degree rotation) and the end-point error measured away from the borders. Mean EPE over
    the 12 cases: ultrafast 0.29 px, fast 0.20 px, medium 0.10 px, Farneback 2.36 px (OpenCV's sample settings; it
    fails on ducky-float's smooth frame); fast's EPE is 2.1x medium's. E_warp on the real clips (flow on the clip
    itself, x1e-4, frame / remove): BigBen 0.826 / 1.222 with fast vs 0.734 / 0.389 with medium; ducky-float 2.440 /
    6.883 vs 1.808 / 5.184; bigbuckbunny (48 frames, frame) 5.43 vs 3.64. Fast overstates E_warp by 12-49% (the
    whole frame) and up to 3x (a small remove region), because flow errors count as inconsistency; ``medium`` stays
    the default and ``preset="fast"`` is there for speed (the preset is recorded in every row as ``dis-<preset>``).
    Reproduce with ``benchmarks/flow_accuracy.py``.
    """

    def __init__(self, *, preset: DisPreset = "medium") -> None:
        if preset not in _DIS_PRESETS:
            raise ValueError(f"DIS preset must be one of {', '.join(_DIS_PRESETS)}, got {preset!r}")
        self.preset = preset
        self.name = f"dis-{preset}"
        self._finest_scale = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset]).getFinestScale()
        self._kept: cv2.DISOpticalFlow | None = None

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        _check_pair(first, second)
        first, second = _grey(first), _grey(second)
        # a DIS instance keeps its image pyramids and patch buffers (~145 MB at 1080p, medium) between calls; above
        # 1 Mpx a fresh instance per call returns them at once (measured ~5% slower at 1080p)
        dis = self._kept or cv2.DISOpticalFlow_create(_DIS_PRESETS[self.preset])
        self._kept = dis if first.size <= KEEP_SCRATCH_MAX_PIXELS else None
        # OpenCV lowers an instance's finest scale for small frames (under ~100 px it becomes 0) and keeps it for
        # later calls; restoring it makes every call compute what a fresh instance computes
        dis.setFinestScale(self._finest_scale)
        return dis.calc(first, second, None).astype(np.float32, copy=False)


class FarnebackFlow:
    """OpenCV's Farneback polynomial-expansion flow on grey frames (slower than DIS; the classic baseline).

    Parameters
    ----------
    pyr_scale, levels, winsize, iterations, poly_n, poly_sigma : keyword-only
        As :func:`cv2.calcOpticalFlowFarneback`; defaults are OpenCV's sample settings.
    """

    def __init__(
        self,
        *,
        pyr_scale: float = 0.5,
        levels: int = 3,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.2,
    ) -> None:
        self.params = dict(
            pyr_scale=pyr_scale,
            levels=levels,
            winsize=winsize,
            iterations=iterations,
            poly_n=poly_n,
            poly_sigma=poly_sigma,
        )
        self.name = "farneback"

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        _check_pair(first, second)
        flow = cv2.calcOpticalFlowFarneback(_grey(first), _grey(second), None, flags=0, **self.params)
        return flow.astype(np.float32, copy=False)


class RaftFlow:
    """RAFT (Teed and Deng, 2020) through torchvision's implementation, with weights from a local file only.

    Nothing is ever downloaded: pass the path of a torchvision ``raft_large`` / ``raft_small`` state dict
    (``.safetensors``, or a ``.pth`` read with ``torch.load(weights_only=True)``).

    Parameters
    ----------
    weights : str or Path or None, keyword-only
        Local weight file. ``None`` raises :class:`~void_eval.errors.InputError` saying what to place where.
    variant : {"large", "small"}, keyword-only
        Architecture matching the weights.
    device : str, keyword-only
        Torch device.
    iterations : int, keyword-only
        Refinement iterations (torchvision's default 12).

    Raises
    ------
    MissingExtraError
        When torchvision is not importable (it is absent from the CPU install).
    InputError
        When no weight file is given or it is unreadable.
    """

    def __init__(
        self,
        *,
        weights: str | Path | None = None,
        variant: Literal["large", "small"] = "large",
        device: str = "cpu",
        iterations: int = 12,
    ) -> None:
        if variant not in ("large", "small"):
            raise ValueError(f"RAFT variant must be 'large' or 'small', got {variant!r}")
        if weights is None:
            raise InputError(
                "raft",
                f"RAFT flow needs a local weight file (torchvision raft_{variant} state dict, .safetensors or .pth): "
                "pass weights=PATH; nothing is downloaded",
            )
        try:
            from torchvision.models.optical_flow import raft_large, raft_small
        except Exception as err:  # torchvision is absent or broken on CPU installs
            raise MissingExtraError("torchvision", "raft", "RAFT optical flow") from err
        import torch

        path = Path(weights)
        if not path.is_file():
            raise InputError(path, "RAFT weight file not found")
        try:
            if path.suffix == ".safetensors":
                from safetensors.torch import load_file

                state = load_file(str(path))
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise InputError(path, f"unreadable RAFT weights ({err.__class__.__name__}: {err})") from err
        model = (raft_large if variant == "large" else raft_small)(weights=None, progress=False)
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise InputError(path, f"weights do not match raft_{variant}: {str(err).splitlines()[0]}") from err
        self.model = model.eval().to(device)
        self.device = device
        self.iterations = iterations
        self.name = f"raft-{variant}"

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        _check_pair(first, second)
        height, width = first.shape[:2]
        pad_h, pad_w = (-height) % 8, (-width) % 8

        def prepare(frame: np.ndarray) -> torch.Tensor:
            tensor = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
            tensor = tensor / 127.5 - 1.0
            return F.pad(tensor, (0, pad_w, 0, pad_h), mode="replicate").to(self.device)

        from void_eval.metrics._precision import ieee_float32

        with torch.inference_mode(), ieee_float32(str(self.device)):
            flows = self.model(prepare(first), prepare(second), num_flow_updates=self.iterations)
        flow = flows[-1][0, :, :height, :width].permute(1, 2, 0)
        return flow.cpu().numpy().astype(np.float32)


FlowName = Literal["dis", "farneback", "raft"]


def get_flow_provider(name: str | FlowProvider = "dis", **options) -> FlowProvider:
    """A flow provider by name (``dis``, ``farneback``, ``raft``), or ``name`` itself when it already is one.

    Keyword options go to the provider (``preset`` for DIS, ``weights`` for RAFT, ...).
    """
    if not isinstance(name, str):
        if options:
            raise ValueError("options are only accepted with a provider name")
        if not isinstance(name, FlowProvider):
            raise TypeError(f"expected a flow provider name or object with .name and .flow(), got {type(name)}")
        return name
    if name == "dis":
        return DisFlow(**options)
    if name == "farneback":
        return FarnebackFlow(**options)
    if name == "raft":
        return RaftFlow(**options)
    raise ValueError(f"unknown flow provider {name!r}; expected dis, farneback or raft")
