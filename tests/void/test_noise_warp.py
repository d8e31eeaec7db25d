"""Go-with-the-Flow noise warping: every frame stays Gaussian, motion carries the noise, groups split correctly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from void_eval.clip import Clip
from void_eval.metrics.flow import get_flow_provider
from void_eval.void.noise_warp import NoiseWarper, regaussianize, warp_step


def _smooth_flow(rng, height, width, amplitude):
    coarse = torch.from_numpy(rng.normal(0, amplitude, (1, 2, 3, 4)).astype(np.float32))
    return F.interpolate(coarse, size=(height, width), mode="bicubic")[0]


def _zoom_flow(height, width, factor):
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij"
    )
    return torch.stack([(xs - width / 2) * (factor - 1), (ys - height / 2) * (factor - 1)])


def _assert_standard_normal(frame: torch.Tensor) -> None:
    values = frame.flatten().double().numpy()
    assert abs(values.mean()) < 4 / np.sqrt(values.size) + 0.01
    assert abs(values.std() - 1) < 0.03
    assert stats.kstest(values, "norm").pvalue > 1e-3


@pytest.mark.parametrize("kind", ["smooth", "zoom-in", "zoom-out", "wild"])
def test_every_frame_stays_standard_normal(kind):
    """Collisions (zoom out), stretching (zoom in), disocclusions and chaos: each frame i.i.d. N(0, 1)."""
    rng = np.random.default_rng(3)
    warper = NoiseWarper(4, 64, 96, generator=torch.Generator().manual_seed(5))
    for _ in range(8):
        if kind == "smooth":
            flow = _smooth_flow(rng, 64, 96, 4.0)
        elif kind == "wild":
            flow = torch.from_numpy(rng.normal(0, 6, (2, 64, 96)).astype(np.float32))
        else:
            flow = _zoom_flow(64, 96, 1.08 if kind == "zoom-in" else 0.92)
        warper.step(flow)
        _assert_standard_normal(warper.noise)
        # neighbouring cells stay uncorrelated (expansion copies are split into uncorrelated parts)
        noise = warper.noise.numpy()
        assert abs(np.corrcoef(noise[:, :, 1:].ravel(), noise[:, :, :-1].ravel())[0, 1]) < 0.05
        assert bool((warper.weight > 0).all()) and abs(float(warper.weight.mean()) - 1) < 0.01


def test_real_motion_keeps_the_noise_gaussian_and_correlated(bigben_tiny):
    """DIS flow of real footage (BigBen, 60x90 upscaled x2): Gaussian frames that follow the (slow) scene."""
    frames = np.concatenate(list(Clip.load(bigben_tiny).iter_frames(16)))
    flow = get_flow_provider("dis")
    warper = NoiseWarper(6, 120, 180, generator=torch.Generator().manual_seed(0))
    for previous, following in itertools.pairwise(frames):
        before = warper.noise.clone()
        motion = torch.from_numpy(flow.flow(previous, following)).permute(2, 0, 1)[None] * 2
        warper.step(F.interpolate(motion, size=(120, 180), mode="bilinear")[0])
        _assert_standard_normal(warper.noise)
        assert np.corrcoef(before.numpy().ravel(), warper.noise.numpy().ravel())[0, 1] > 0.5


def test_integer_translation_moves_values_exactly_and_zero_flow_keeps_them():
    warper = NoiseWarper(3, 20, 30, generator=torch.Generator().manual_seed(1))
    start = warper.noise.clone()
    warper.step(torch.zeros(2, 20, 30))
    assert torch.equal(warper.noise, start)
    shift = torch.zeros(2, 20, 30)
    shift[0], shift[1] = 4.0, -2.0  # 4 right, 2 up
    warper.step(shift)
    # interior (away from the cells the leaving particles sit on and the uncovered strips): exact copies
    assert torch.equal(warper.noise[:, 2:18, 4:26], start[:, 4:20, :22])
    # the uncovered strips are fresh noise, not copies
    assert not torch.allclose(warper.noise[:, :, :4], start[:, :, :4])


def test_regaussianize_splits_a_value_into_uncorrelated_unit_parts():
    generator = torch.Generator().manual_seed(0)
    groups = torch.arange(20000).repeat_interleave(5)  # 20000 groups of 5
    shared = torch.randn(1, 20000, generator=generator).repeat_interleave(5, dim=1)
    counts = torch.full((20000,), 5.0)
    foreign = torch.randn(1, 100000, generator=generator)
    parts = regaussianize(shared, groups, counts, foreign).view(20000, 5)
    torch.testing.assert_close(parts.sum(dim=1), shared.view(20000, 5)[:, 0] * np.sqrt(5), rtol=0, atol=1e-4)
    assert abs(float(parts.std()) - 1) < 0.01
    first, second = parts[:, 0].numpy(), parts[:, 1].numpy()
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.03  # parts of one value: uncorrelated


def test_colliding_particles_combine_with_variance_kept():
    """Two cells landing on one: sum(w v) / sqrt(sum w^2); the cell they left copies its backward source."""
    noise = torch.tensor([[[1.0, 2.0, -1.0], [0.5, -0.25, 3.0]]])
    weight = torch.ones(2, 3)
    flow = torch.zeros(2, 2, 3)
    flow[0, :, 1] = -1.0  # in both rows, cell 1 lands on cell 0
    out, out_weight = warp_step(noise, weight, flow, torch.Generator().manual_seed(0))
    # cell 0 gets two particles (each its own group of one: kept exactly), weights 1 and 1
    assert float(out[0, 0, 0]) == pytest.approx(3 / np.sqrt(2), abs=1e-6)
    assert float(out[0, 1, 0]) == pytest.approx(0.25 / np.sqrt(2), abs=1e-6)
    # cell 1, left empty, copies its backward source (cell 2): cell 2's value is split between cells 2 and 1,
    # two parts that sum to sqrt(2) x the value
    assert float(out[0, 0, 1] + out[0, 0, 2]) == pytest.approx(-np.sqrt(2), abs=1e-6)
    assert float(out[0, 1, 1] + out[0, 1, 2]) == pytest.approx(3 * np.sqrt(2), abs=1e-5)
    assert float(out[0, 0, 1]) != pytest.approx(-1.0)
    torch.testing.assert_close(out_weight[0], torch.tensor([2.0, 0.5, 0.5]) ** 0.9999, atol=1e-4, rtol=0)


def test_value_grouping_merges_equal_values_as_upstream_and_source_grouping_does_not():
    """Upstream groups entries by equal channel-0 values: two unrelated cells holding the same value are split as
    one group; grouping by source keeps them apart. Without such ties both give the same noise."""
    noise = torch.tensor([[[0.7, 0.7, -0.2, 1.1], [0.3, -1.4, 0.9, -0.6]]])
    flow = torch.zeros(2, 2, 4)
    same = {}
    for grouping in ("value", "source"):
        out, _ = warp_step(noise, torch.ones(2, 4), flow, torch.Generator().manual_seed(0), grouping=grouping)
        same[grouping] = out
    torch.testing.assert_close(same["source"], noise)  # no motion: every value stays
    assert not torch.allclose(same["value"][0, 0, :2], noise[0, 0, :2])  # the two 0.7 were treated as one group
    torch.testing.assert_close(same["value"][0, 0, 2:], noise[0, 0, 2:])
    distinct = torch.randn(3, 8, 12, generator=torch.Generator().manual_seed(1))
    flow = _smooth_flow(np.random.default_rng(2), 8, 12, 2.0)
    a, _ = warp_step(distinct, torch.ones(8, 12), flow, torch.Generator().manual_seed(3), grouping="value")
    b, _ = warp_step(distinct, torch.ones(8, 12), flow, torch.Generator().manual_seed(3), grouping="source")
    torch.testing.assert_close(a, b)


def test_same_generator_state_same_noise_other_seed_other_noise():
    flow = _smooth_flow(np.random.default_rng(0), 16, 24, 3.0)

    def run(seed):
        warper = NoiseWarper(2, 16, 24, generator=torch.Generator().manual_seed(seed))
        warper.step(flow)
        return warper.noise

    assert torch.equal(run(7), run(7)) and not torch.allclose(run(7), run(8))
    with pytest.raises(ValueError, match="flow must be"):
        warp_step(torch.zeros(1, 4, 4), torch.ones(4, 4), torch.zeros(2, 4, 5), None)
