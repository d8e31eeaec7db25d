"""E_warp: warping against scipy, occlusion rules, known-truth clips, chunking and merging, flow providers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from tests.metrics._fidelity_cases import bigben
from tests.metrics._scenes import physics_scene, smooth_texture
from void_eval.errors import InputError, MissingExtraError
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.ewarp import EwarpAccumulator, warping_error
from void_eval.metrics.flow import DisFlow, FarnebackFlow, RaftFlow, get_flow_provider
from void_eval.metrics.warp import occlusion_mask, warp_backward
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


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
def test_warp_matches_scipy_map_coordinates(channels: int) -> None:
    # OpenCV's remap quantises bilinear weights to 1/32 px for 2 and 5 channels (errors ~0.02 here); ours must not
    rng = np.random.default_rng(1)
    image = rng.random((20, 30, channels)).astype(np.float32)
    flow = rng.uniform(-3, 3, (20, 30, 2)).astype(np.float32)
    ours = warp_backward(image, flow)
    assert ours.shape == image.shape and ours.dtype == np.float32
    ys, xs = np.mgrid[0:20, 0:30].astype(np.float64)
    coords = [ys + flow[..., 1], xs + flow[..., 0]]
    for channel in range(channels):
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
    assert second._first.source is second._first.output  # flow on the output: one kept copy of the frame
    first.merge(second)
    assert first.compute() == expected
    assert expected["remove"].count == 6 and expected["remove"].value > 0
    # flow on another video: its frame is kept beside the output's and a merge reads both
    output = scene["counterfactual"]
    whole = EwarpAccumulator(preset="fast", flow_source="input")
    whole.update(ScoreChunk(start=0, output=output, input=video, mask=mask))
    first, second = (
        EwarpAccumulator(preset="fast", flow_source="input"),
        EwarpAccumulator(preset="fast", flow_source="input"),
    )
    first.update(ScoreChunk(start=0, output=output[:3], input=video[:3], mask=mask[:3]))
    second.update(ScoreChunk(start=3, output=output[3:], input=video[3:], mask=mask[3:]))
    np.testing.assert_array_equal(second._first.source.unpack(), video[3])
    np.testing.assert_array_equal(second._first.output.unpack(), output[3])
    first.merge(second)
    assert first.compute() == whole.compute()


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


class RecordedFlow:
    """Replays precomputed flows: the accumulator asks forward (t -> t+1) first, then backward (t+1 -> t)."""

    name = "recorded"

    def __init__(self, forward: np.ndarray, backward: np.ndarray) -> None:
        self._flows = [forward, backward]
        self.calls = 0

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self._flows[(self.calls - 1) % 2]


def _reference_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Resample2d: bilinear at ``x + flow(x)`` with the taps clamped to the frame (scipy, float64)."""
    ys, xs = np.mgrid[0 : flow.shape[0], 0 : flow.shape[1]].astype(np.float64)
    coords = [ys + flow[..., 1], xs + flow[..., 0]]
    channels = [ndimage.map_coordinates(image[..., c], coords, order=1, mode="nearest") for c in range(image.shape[2])]
    return np.stack(channels, axis=-1)


def _reference_occlusion_terms(fw_flow: np.ndarray, bw_flow: np.ndarray) -> tuple[np.ndarray, ...]:
    """Both sides of the reference's two occlusion tests, float64: ``(lhs1, rhs1, lhs2, rhs2)``."""
    fw_flow_w = _reference_warp(fw_flow.astype(np.float64), bw_flow.astype(np.float64))
    bw_flow = bw_flow.astype(np.float64)
    lhs1 = ((fw_flow_w + bw_flow) ** 2).sum(-1)
    rhs1 = 0.01 * ((fw_flow_w**2).sum(-1) + (bw_flow**2).sum(-1)) + 0.5
    gradient = np.zeros(bw_flow.shape[:2])
    for channel in range(2):
        du = np.zeros(bw_flow.shape[:2])
        dv = np.zeros(bw_flow.shape[:2])
        du[:, :-1] = bw_flow[:, :-1, channel] - bw_flow[:, 1:, channel]
        dv[:-1, :] = bw_flow[:-1, :, channel] - bw_flow[1:, :, channel]
        gradient += du**2 + dv**2
    return lhs1, rhs1, gradient, 0.01 * (bw_flow**2).sum(-1) + 0.002


def _reference_detect_occlusion(fw_flow: np.ndarray, bw_flow: np.ndarray) -> np.ndarray:
    """Independent transcription of the reference's ``detect_occlusion(fw_flow, bw_flow)`` (parameter names)."""
    lhs1, rhs1, lhs2, rhs2 = _reference_occlusion_terms(fw_flow, bw_flow)
    return (lhs1 > rhs1) | (lhs2 > rhs2)


def test_occlusion_orientation_matches_reference_on_a_moving_object() -> None:
    # a textured object moving 12 px right over a static textured background: the occluded/disoccluded strips
    # differ between frame t's grid and frame t+1's grid, so the two orientations give different E_warp
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8), (0, 0), 1.5)
    patch = cv2.GaussianBlur(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8), (0, 0), 1.5)
    frames = []
    for x in (30, 42):
        frame = background.copy()
        frame[30:60, x : x + 30] = patch
        frames.append(frame)
    video = np.stack(frames)
    dis = DisFlow(preset="medium")
    forward, backward = dis.flow(video[0], video[1]), dis.flow(video[1], video[0])
    error = ((_reference_warp(video[1] / 255.0, forward) - video[0] / 255.0) ** 2).sum(-1)
    # evaluate_WarpError.py: fw_occ = detect_occlusion(bw_flow, fw_flow) -- arguments swapped vs the names
    reference_noc = ~_reference_detect_occlusion(backward, forward)
    swapped_noc = ~_reference_detect_occlusion(forward, backward)  # the mask on frame t+1's grid (old bug)
    reference = error[reference_noc].sum() / reference_noc.sum()
    swapped = error[swapped_noc].sum() / swapped_noc.sum()
    assert abs(swapped - reference) > 0.1 * reference  # the scene separates the orientations
    np.testing.assert_array_equal(~occlusion_mask(backward, forward), reference_noc)
    ours = warping_error(video, flow=RecordedFlow(forward, backward))["frame"].value
    assert ours == pytest.approx(reference, rel=1e-4)
    assert ours != pytest.approx(swapped, rel=1e-2)


def test_resize_to_max_side_is_in_the_note() -> None:
    video = translated_clip(frames=3)  # 60x80
    accumulator = EwarpAccumulator(flow=ConstantFlow(-1.0, 0.0), max_side=40)
    accumulator.update(
        ScoreChunk(start=0, output=video, input=video, mask=Quadmask(np.full(video.shape[:3], 255, np.uint8)))
    )
    note = accumulator.compute()["frame"].note
    assert "frames resized 60x80 -> 30x40 (INTER_AREA)" in note
    native = EwarpAccumulator(flow=ConstantFlow(-1.0, 0.0))
    native.update(
        ScoreChunk(start=0, output=video, input=video, mask=Quadmask(np.full(video.shape[:3], 255, np.uint8)))
    )
    assert "resized" not in native.compute()["frame"].note


def _whole_frame_float32(current, following, forward, backward, region):
    """The formula on whole float32 frames with plain numpy expressions (no bands, no buffers, no cv2 arithmetic)."""
    warped_backward = warp_backward(backward, forward)
    fb = ((warped_backward + forward) ** 2).sum(axis=-1)
    threshold = 0.01 * ((warped_backward**2).sum(axis=-1) + (forward**2).sum(axis=-1)) + 0.5
    du, dv = np.zeros_like(forward), np.zeros_like(forward)
    du[:, :-1] = forward[:, :-1] - forward[:, 1:]
    dv[:-1, :] = forward[:-1, :] - forward[1:, :]
    boundary = (du**2).sum(axis=-1) + (dv**2).sum(axis=-1) > 0.01 * (forward**2).sum(axis=-1) + 0.002
    visible = ~((fb > threshold) | boundary)
    error = ((warp_backward(following.astype(np.float32) / 255.0, forward) - current / np.float32(255)) ** 2).sum(-1)
    return visible, {
        "frame": (error[visible].sum(dtype=np.float64), visible.sum()),
        "remove": (error[visible & region].sum(dtype=np.float64), (visible & region).sum()),
    }


def _random_pair(seed: int, height: int = 37, width: int = 53, rough: bool = False):
    """Random frames and random flows with ~30-50% non-occluded pixels: a smooth field around a random constant
    motion, a motion boundary (column 29|30) and a block where backward disagrees with forward; ``rough`` adds
    per-pixel noise that puts many pixels near the ``|grad F|^2`` threshold."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (2, height, width, 3), dtype=np.uint8)
    motion = rng.uniform(-3, 3, 2).astype(np.float32)

    def field() -> np.ndarray:
        return cv2.GaussianBlur(rng.normal(0, 1, (height, width, 2)).astype(np.float32), (0, 0), 5) * 3

    forward, backward = motion + field(), -motion + field()
    forward[:, 30:] += np.float32([2.5, -1.0])
    backward[10:20, 5:15] += 3.0
    if rough:
        forward += rng.normal(0, 0.05, forward.shape).astype(np.float32)
        backward += rng.normal(0, 0.05, backward.shape).astype(np.float32)
    region = np.zeros((height, width), bool)
    region[5:25, 10:40] = True
    return frames[0], frames[1], forward.astype(np.float32), backward.astype(np.float32), region


@pytest.mark.parametrize("band_pixels", [200, 1 << 15])
@pytest.mark.parametrize("rough", [False, True])
def test_banded_pair_error_equals_plain_numpy_transcriptions(monkeypatch, band_pixels: int, rough: bool) -> None:
    from void_eval.metrics import warp

    monkeypatch.setattr(warp, "_BAND_PIXELS", band_pixels)  # 200 px: bands of 3 rows, the last one 1 row
    for seed in range(3):
        current, following, forward, backward, region = _random_pair(seed, rough=rough)
        ours = warp.pair_warping_error(current, following, forward, backward, {"frame": None, "remove": region})
        visible, plain = _whole_frame_float32(current, following, forward, backward, region)
        np.testing.assert_array_equal(~occlusion_mask(backward, forward), visible)  # bit-identical float32 mask
        # independent float64 transcription: scipy warps, the reference's detect_occlusion(bw_flow, fw_flow)
        lhs1, rhs1, lhs2, rhs2 = _reference_occlusion_terms(backward, forward)
        reference_visible = ~((lhs1 > rhs1) | (lhs2 > rhs2))
        # float32 and float64 may only disagree on pixels within float32 rounding of a threshold
        near_tie = (np.abs(lhs1 - rhs1) < 1e-5 * (1 + rhs1)) | (np.abs(lhs2 - rhs2) < 1e-5 * (1 + rhs2))
        assert not (visible != reference_visible)[~near_tie].any() and near_tie.mean() < 0.01
        reference_visible = np.where(near_tie, visible, reference_visible)
        error = ((_reference_warp(following / 255.0, forward) - current / 255.0) ** 2).sum(-1)
        reference = {
            "frame": (error[reference_visible].sum(), reference_visible.sum()),
            "remove": (error[reference_visible & region].sum(), (reference_visible & region).sum()),
        }
        assert 0 < reference["remove"][1] < reference["frame"][1] < visible.size
        for name in ("frame", "remove"):
            assert ours[name][1] == reference[name][1] == plain[name][1]
            assert ours[name][0] == pytest.approx(plain[name][0], rel=1e-6)
            assert ours[name][0] == pytest.approx(reference[name][0], rel=1e-6)


def test_pairs_of_other_shapes_are_refused() -> None:
    from void_eval.metrics.warp import pair_warping_error

    small, large = _random_pair(0, 20, 36), _random_pair(1, 40, 50)
    with pytest.raises(ValueError, match="pair shapes differ"):
        pair_warping_error(small[0], small[1], large[2], large[3], {"frame": None})


def test_large_frames_keep_no_scratch_and_give_the_same_values(monkeypatch) -> None:
    from void_eval.metrics import flow

    video = translated_clip(frames=4, step=3)
    mask = Quadmask(np.full(video.shape[:3], 255, np.uint8))
    kept = DisFlow(preset="fast")
    expected_flows = [kept.flow(video[t], video[t + 1]) for t in range(3)]
    expected = warping_error(video, mask, preset="fast")
    monkeypatch.setattr(flow, "KEEP_SCRATCH_MAX_PIXELS", 100)  # as if 60x80 were above the 1 Mpx limit
    fresh = DisFlow(preset="fast")
    for t in range(3):
        np.testing.assert_array_equal(fresh.flow(video[t], video[t + 1]), expected_flows[t])
    assert fresh._kept is None and kept._kept is not None  # no DIS instance kept above the limit; one below
    accumulator = EwarpAccumulator(preset="fast")
    accumulator.update(ScoreChunk(start=0, output=video, input=video, mask=mask))
    assert accumulator.compute() == expected


def test_a_tiny_frame_does_not_coarsen_the_flow_of_later_larger_ones() -> None:
    frames, _, _ = bigben(2)
    expected = DisFlow(preset="medium").flow(frames[0], frames[1])
    used = DisFlow(preset="medium")
    tiny = np.ascontiguousarray(frames[:, :24, :32])
    used.flow(tiny[0], tiny[1])  # OpenCV lowers the finest scale for a frame this small and keeps it
    np.testing.assert_array_equal(used.flow(frames[0], frames[1]), expected)


class _FailingFlow:
    """DIS flow that raises on call ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.inner = DisFlow(preset="fast")
        self.name = self.inner.name
        self.fail_at = fail_at
        self.calls = 0

    def flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("flow failed")
        return self.inner.flow(first, second)


def _scene_clip(frames: int) -> tuple[np.ndarray, Quadmask]:
    scene = physics_scene(frames=frames)
    return scene["factual"], Quadmask.from_counterfactual(scene["factual"], scene["counterfactual"], scene["removed"])


def test_an_update_that_fails_part_way_leaves_no_result() -> None:
    video, mask = _scene_clip(6)
    accumulator = EwarpAccumulator(flow=_FailingFlow(fail_at=5))
    with pytest.raises(RuntimeError, match="flow failed"):
        accumulator.update(ScoreChunk(0, video, video, mask))
    with pytest.raises(RuntimeError, match="failed part-way"):
        accumulator.compute()
    with pytest.raises(RuntimeError, match="failed part-way"):
        accumulator.update(ScoreChunk(6, video[:1], video[:1], mask[:1]))
    merged = EwarpAccumulator(flow=_FailingFlow())
    merged.merge(accumulator)
    with pytest.raises(RuntimeError, match="failed part-way"):
        merged.compute()
