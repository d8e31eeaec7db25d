"""E_warp: warping against scipy, occlusion rules, known-truth clips, chunking and merging, flow providers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tests.metrics._scenes import physics_scene, smooth_texture
from void_eval.errors import InputError, MissingExtraError
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.ewarp import EwarpAccumulator, occlusion_mask, warp_backward, warping_error
from void_eval.metrics.flow import DisFlow, FarnebackFlow, RaftFlow, get_flow_provider
from void_eval.quadmask import Quadmask


class ConstantFlow:
    """A provider returning a known constant flow (forward = shift, backward = -shift)."""

    def __init__(self, dx: float, dy: float) -> None:
        self.name = f"constant-{dx}-{dy}"
        self.shift = np.array([dx, dy], np.float32)
        self.calls = 0

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        self.calls += 1
        sign = 1 if self.calls % 2 == 1 else -1  # the accumulator asks forward, then backward
        return np.broadcast_to(sign * self.shift, (*first.shape[:2], 2)).astype(np.float32)


def translated_clip(frames: int = 5, height: int = 60, width: int = 80, step: int = 2) -> np.ndarray:
    """A smooth texture panned left by ``step`` px per frame (content moves left; crops, no wrap-around)."""
    scene = smooth_texture(height, width + step * frames, seed=3)
    return np.stack([scene[:, step * t : step * t + width] for t in range(frames)])


def test_warp_matches_scipy_map_coordinates() -> None:
    rng = np.random.default_rng(1)
    image = rng.random((20, 30, 3)).astype(np.float32)
    flow = rng.uniform(-3, 3, (20, 30, 2)).astype(np.float32)
    ours = warp_backward(image, flow)
    ys, xs = np.mgrid[0:20, 0:30].astype(np.float64)
    coords = [ys + flow[..., 1], xs + flow[..., 0]]
    for channel in range(3):
        # mode="nearest" clamps the taps at the edge like Resample2d; inside the frame both are plain bilinear
        reference = ndimage.map_coordinates(image[..., channel].astype(np.float64), coords, order=1, mode="nearest")
        np.testing.assert_allclose(ours[..., channel], reference, atol=1e-5)


def test_warp_integer_shift_is_exact() -> None:
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    flow = np.zeros((3, 4, 2), np.float32)
    flow[..., 0] = 1
    np.testing.assert_array_equal(warp_backward(image, flow), np.concatenate([image[:, 1:], image[:, 3:]], axis=1))


def test_occlusion_rules() -> None:
    zero = np.zeros((16, 16, 2), np.float32)
    assert not occlusion_mask(zero, zero).any()
    shift = np.full((16, 16, 2), (2.0, 0.0), np.float32)
    assert not occlusion_mask(shift, -shift).any()  # consistent forward/backward: nothing occluded
    assert occlusion_mask(shift, shift).all()  # forward + backward = 4 px apart everywhere
    edge = zero.copy()
    edge[:, 8:, 0] = 3.0  # a motion boundary in the backward flow at column 7|8
    occluded = occlusion_mask(zero, edge)
    assert occluded[:, 7].all() and not occluded[:, :6].any()


def test_static_clip_is_zero() -> None:
    video = np.repeat(smooth_texture(48, 64)[None], 4, axis=0)
    result = warping_error(video)
    assert result["frame"].value == pytest.approx(0.0, abs=1e-9)
    assert result["frame"].count == 3


def test_known_integer_translation_is_near_zero_and_beats_unaligned() -> None:
    video = translated_clip()
    aligned = warping_error(video)["frame"].value
    assert aligned < 2e-4
    shuffled = warping_error(video[[0, 3, 1, 4, 2]], flow=ConstantFlow(0, 0))["frame"].value
    assert shuffled > 50 * aligned


def test_value_equals_hand_computation_with_a_known_flow() -> None:
    video = translated_clip(frames=3, step=2)
    # content moves left by 2: O_t(x) = O_{t+1}(x - 2), so F = -2 and W(O_{t+1}; F)(x) = O_{t+1}(clamp(x - 2))
    provider = ConstantFlow(-2.0, 0.0)
    result = warping_error(video, flow=provider)["frame"]
    columns = np.clip(np.arange(video.shape[2]) - 2, 0, video.shape[2] - 1)
    expected = []
    for t in range(2):
        warped = video[t + 1][:, columns].astype(np.float64) / 255
        expected.append(((warped - video[t] / 255.0) ** 2).sum(axis=-1).mean())
    assert result.value == pytest.approx(np.mean(expected), rel=1e-6)
    assert "constant--2.0-0.0" in result.note and "scale raw" in result.note and "output video" in result.note


def _chunks(video: np.ndarray, mask: Quadmask, size: int):
    for start in range(0, len(video), size):
        yield ScoreChunk(
            start=start,
            output=video[start : start + size],
            input=video[start : start + size],
            mask=mask[start : start + size],
        )


def test_chunked_and_merged_equal_one_shot() -> None:
    scene = physics_scene(frames=7)
    video, mask = (
        scene["factual"],
        Quadmask.from_counterfactual(scene["factual"], scene["counterfactual"], scene["removed"]),
    )
    whole = EwarpAccumulator(preset="fast")
    whole.update(ScoreChunk(start=0, output=video, input=video, mask=mask))
    expected = whole.compute()
    for size in (1, 3):
        chunked = EwarpAccumulator(preset="fast")
        for chunk in _chunks(video, mask, size):
            chunked.update(chunk)
        assert chunked.compute() == expected
    first, second = EwarpAccumulator(preset="fast"), EwarpAccumulator(preset="fast")
    for chunk in _chunks(video, mask, 3):
        (first if chunk.start < 3 else second).update(chunk)
    first.merge(second)
    assert first.compute() == expected
    assert expected["remove"].count == 6 and expected["remove"].value > 0


def test_region_restriction_uses_only_remove_pixels() -> None:
    video = translated_clip(frames=3).copy()
    levels = np.full(video.shape[:3], 255, np.uint8)
    levels[:, 20:40, 20:40] = 0
    noisy = video.copy()
    noisy[:, :10] = np.random.default_rng(0).integers(0, 256, noisy[:, :10].shape)  # damage outside remove only
    provider = ConstantFlow(-2.0, 0.0)
    clean = warping_error(video, Quadmask(levels), flow=provider)
    damaged = warping_error(noisy, Quadmask(levels), flow=ConstantFlow(-2.0, 0.0))
    assert damaged["remove"].value == pytest.approx(clean["remove"].value, abs=1e-12)
    assert damaged["frame"].value > 10 * clean["frame"].value


def test_flow_source_counterfactual_missing_is_nan_with_reason() -> None:
    video = translated_clip(frames=3)
    accumulator = EwarpAccumulator(flow_source="counterfactual")
    accumulator.update(
        ScoreChunk(start=0, output=video, input=video, mask=Quadmask(np.full(video.shape[:3], 255, np.uint8)))
    )
    value = accumulator.compute()["frame"]
    assert np.isnan(value.value) and "no counterfactual video" in value.note


def test_single_frame_is_nan() -> None:
    value = warping_error(translated_clip(frames=1))["frame"]
    assert np.isnan(value.value) and "at least 2 frames" in value.note


def test_flow_providers() -> None:
    video = translated_clip(frames=2, step=3)
    for provider in (DisFlow(preset="medium"), FarnebackFlow()):
        flow = provider.flow(video[0], video[1])
        assert flow.shape == (60, 80, 2) and flow.dtype == np.float32
        assert np.median(flow[10:50, 10:70, 0]) == pytest.approx(-3.0, abs=0.1)
    assert get_flow_provider("dis", preset="fast").name == "dis-fast"
    with pytest.raises(ValueError, match="unknown flow provider"):
        get_flow_provider("flownet")
    with pytest.raises(ValueError, match="DIS preset"):
        DisFlow(preset="slow")


def test_raft_needs_a_local_weight_file(tmp_path) -> None:
    with pytest.raises(InputError, match="nothing is downloaded"):
        RaftFlow()
    weights = tmp_path / "raft.pth"
    weights.write_bytes(b"not weights")
    try:
        import torchvision  # noqa: F401
    except Exception:
        with pytest.raises(MissingExtraError, match="torchvision"):
            RaftFlow(weights=weights)
    else:  # GPU machines: a bad file is an input error
        with pytest.raises(InputError):
            RaftFlow(weights=weights)
