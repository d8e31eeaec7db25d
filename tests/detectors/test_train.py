"""Training is reproducible from the seed (tiny configuration; the shipped model uses the same code path)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forensics.detectors.dataset import Degradation, build_example, rewritten_region, sample_blocks
from forensics.detectors.train import TrainingConfig, split_clips, train
from void_eval.clip import Clip
from void_eval.methods.registry import get_method
from void_eval.quadmask import Quadmask


def _tiny(seed: int) -> TrainingConfig:
    return TrainingConfig(
        seed=seed,
        footage_clips=2,
        suite_clips=0,
        footage_frames=6,
        footage_size=(64, 96),
        methods=("telea",),
        degradations=(Degradation("lossless"),),
        max_iter=8,
        min_samples_leaf=5,
    )


def test_retraining_is_deterministic(tmp_path):
    first, _ = train(_tiny(5), tmp_path / "a", model_path=tmp_path / "a.json", evaluate=False)
    second, _ = train(_tiny(5), tmp_path / "b", model_path=tmp_path / "b.json", evaluate=False)
    assert first.read_bytes() == second.read_bytes()
    stored = json.loads((tmp_path / "a.card.json").read_text())
    assert stored["config"]["seed"] == 5 and stored["trained_on"]["generators"] == ["untouched", "telea"]
    other, _ = train(_tiny(6), tmp_path / "c", model_path=tmp_path / "c.json", evaluate=False)
    assert other.read_bytes() != first.read_bytes()


def test_split_keeps_clips_apart_and_is_seeded(tmp_path):
    groups = {"a": [tmp_path / f"a{i}" for i in range(6)], "b": [tmp_path / f"b{i}" for i in range(3)]}
    train_clips, test_clips = split_clips(groups, test_share=0.34, seed=0)
    assert not set(train_clips) & set(test_clips) and len(train_clips) + len(test_clips) == 9
    assert {path.name[0] for path in test_clips} == {"a", "b"}
    assert split_clips(groups, test_share=0.34, seed=0) == (train_clips, test_clips)


def test_examples_truth_and_sampling(tiny_footage, tmp_path):
    clip = Clip.load(tiny_footage[0])
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))
    region = rewritten_region(mask, get_method("telea", dilation=2))
    assert region.sum() > mask.region("remove").sum()
    example = build_example(tiny_footage[0], "telea", Degradation("crf23-x0.75", crf=23, scale=0.75), tmp_path)
    assert example.truth.shape == (8, 48, 72) and example.truth.any()
    version = get_method("telea").version
    assert (tmp_path / "features" / clip.name / f"telea-v{version}__crf23-x0.75__b16__v2.npz").is_file()
    cached = build_example(tiny_footage[0], "telea", Degradation("crf23-x0.75", crf=23, scale=0.75), tmp_path)
    np.testing.assert_array_equal(cached.features, example.features)
    untouched = build_example(tiny_footage[0], "untouched", Degradation("lossless"), tmp_path)
    assert not untouched.truth.any() and not untouched.processed
    x, y, weight = sample_blocks([example, untouched], seed=0)
    assert x.shape[1] == example.features.shape[-1] and set(np.unique(y)) == {0, 1}
    assert weight[y == 1].sum() == pytest.approx(weight[y == 0].sum())
