"""The card's headline figures and their cluster-bootstrap intervals, checked against cases of known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from forensics.detectors.card import kind_rows, logo_rows
from forensics.detectors.figures import FRAME_COLUMNS, summarise
from forensics.detectors.intervals import MIN_SOURCES, MIN_UNITS, headline

GENERATORS = ("telea", "patch", "clone")
#: Frames per video: unequal, so a frame-weighted pooling differs from a plain mean.
FRAMES = {"untouched": 3, "telea": 3, "patch": 2, "clone": 5}


def _tables(rng: np.random.Generator, clips: int, shift: float, *, groups: int | None = None):
    """One untouched and one filled video per clip, scores normal with the filled ones shifted by ``shift``; two
    frames with filled pixels per filled video. ``groups`` clips share a source each when given."""
    videos, frames = [], []
    for number in range(clips):
        clip = f"c{number}"
        group = clip if groups is None else f"g{number % groups}"
        for generator, offset in (("untouched", 0.0), ("telea", shift)):
            score = float(norm.cdf(rng.normal(offset, 1.0)))
            processed = generator != "untouched"
            videos.append(
                dict(
                    clip=clip,
                    group=group,
                    generator=generator,
                    processed=processed,
                    video_score=score,
                    flagged=score >= 0.5,
                )
            )
            for _ in range(2 if processed else 0):
                frames.append(dict(clip=clip, generator=generator, positives=10, pixel_auc=float(rng.uniform())))
    return {None: pd.DataFrame(frames)}, {None: pd.DataFrame(videos)}


def _entry_tables(rng: np.random.Generator, generators: tuple[str, ...], clips: int = 10):
    """Full frame and video tables (every column ``summarise`` reads) of one evaluation entry: untouched videos
    and ``generators``' videos of each clip at two degradations, some pixel AUCs NaN, and an untouched frame with
    positives (which no pixel figure may count)."""
    videos, frames = [], []
    for number in range(clips):
        for degradation in ("lossless", "crf18"):
            for generator in ("untouched", *generators):
                processed = generator != "untouched"
                score = float(rng.uniform(0.3 * processed, 0.7 + 0.3 * processed))
                base = dict(clip=f"c{number}", generator=generator, degradation=degradation)
                videos.append(
                    dict(base, group=f"g{number % 3}", processed=processed, video_score=score, flagged=score >= 0.5)
                )
                for frame in range(FRAMES[generator]):
                    row = dict(base, frame=frame, positives=int(processed or frame == 0) * 7)
                    row.update({column: float(rng.uniform()) for column in FRAME_COLUMNS})
                    if rng.uniform() < 0.2:
                        row["pixel_auc"] = math.nan
                    row.update(false_positive_rate=float(rng.uniform()), flagged=bool(rng.uniform() < 0.3))
                    frames.append(row)
    return pd.DataFrame(frames), pd.DataFrame(videos)


def test_the_headline_is_the_cards_pooled_rows():
    """Leave-one-generator-out pooled (frame-weighted pixel AUC, plain mean of video AUCs), the copy generators
    pooled, the copy kind left out whole and the summary's untouched share, as the card's pandas rows give them."""
    rng = np.random.default_rng(7)
    entries = {None: GENERATORS, **{name: (name,) for name in GENERATORS}, "copy": ("patch", "clone")}
    tables = {entry: _entry_tables(rng, generators) for entry, generators in entries.items()}
    frames = {entry: pair[0] for entry, pair in tables.items()}
    videos = {entry: pair[1] for entry, pair in tables.items()}
    figures = headline(frames, videos, rounds=50)["figures"]
    logo = {row["held_out_generator"]: row for row in logo_rows(frames, videos)}
    (copy_kind,) = kind_rows(frames, videos)
    summary = summarise(frames[None], videos[None])
    untouched = summary[(summary["generator"] == "all") & (summary["degradation"] == "all")]["untouched_flagged"]
    copies = [logo["patch"], logo["clone"]]
    expected = {
        "video_auc": logo["pooled"]["video_auc"],
        "pixel_auc": logo["pooled"]["pixel_auc"],
        "untouched_flagged": float(untouched.iloc[0]),
        "copy_video_auc": np.mean([row["video_auc"] for row in copies]),
        "copy_pixel_auc": sum(row["pixel_auc"] * row["frames"] for row in copies) / sum(r["frames"] for r in copies),
        "copy_video_auc_kind_out": copy_kind["video_auc"],
        "copy_pixel_auc_kind_out": copy_kind["pixel_auc"],
    }
    assert set(figures) == set(expected)
    for name, value in expected.items():
        assert figures[name]["value"] == pytest.approx(value, abs=1e-12), name


def test_every_entry_follows_the_draw():
    """The left-out models' tables are resampled with the same units as the shipped model's: the pooled figures
    vary from draw to draw, and a different seed gives a different interval."""
    rng = np.random.default_rng(8)
    entries = {None: GENERATORS, **{name: (name,) for name in GENERATORS}}
    tables = {entry: _entry_tables(rng, generators, clips=12) for entry, generators in entries.items()}
    frames = {entry: pair[0] for entry, pair in tables.items()}
    videos = {entry: pair[1] for entry, pair in tables.items()}
    first = headline(frames, videos, rounds=200, seed=1)
    for name in ("video_auc", "pixel_auc", "copy_video_auc", "copy_pixel_auc"):
        low, high = first["figures"][name]["interval"]
        assert high - low > 0.01, name
    second = headline(frames, videos, rounds=200, seed=2)
    assert second["figures"]["video_auc"]["interval"] != first["figures"]["video_auc"]["interval"]
    assert first == headline(frames, videos, rounds=200, seed=1)
    assert first["figures"]["copy_video_auc_kind_out"] == {"value": None, "interval": None}  # no copy kind run


def test_intervals_cover_the_true_auc_as_often_as_they_claim():
    """Scores N(0, 1) against N(d, 1): the true AUC is Phi(d / sqrt 2). 95% intervals should cover it in most of
    40 independent evaluations (a broken bootstrap, e.g. one that never resamples, covers it far less often)."""
    shift = 1.0
    truth = float(norm.cdf(shift / math.sqrt(2)))
    rng = np.random.default_rng(1)
    covered, widths = 0, []
    for trial in range(40):
        frames, videos = _tables(rng, 30, shift)
        low, high = headline(frames, videos, rounds=200, seed=trial)["figures"]["video_auc"]["interval"]
        covered += low <= truth <= high
        widths.append(high - low)
    assert covered >= 33, covered
    assert 0.1 < np.median(widths) < 0.4


def test_fewer_units_give_wider_intervals_and_too_few_give_none():
    rng = np.random.default_rng(2)
    width = {}
    for clips in (8, 80):
        low, high = headline(*_tables(rng, clips, 1.0), rounds=300)["figures"]["video_auc"]["interval"]
        width[clips] = high - low
    assert width[8] > 1.5 * width[80]
    few = headline(*_tables(rng, MIN_UNITS - 1, 1.0), rounds=50)
    assert few["note"] == f"fewer than {MIN_UNITS} clips: no intervals"
    assert all(figure["interval"] is None for figure in few["figures"].values())
    assert few["figures"]["video_auc"]["value"] is not None


def test_clips_of_one_source_are_resampled_together():
    """With enough sources the unit is the source; its clips share scenery, so resampling them as one unit gives a
    wider interval than treating every clip as independent when the source moves every score."""
    rng = np.random.default_rng(4)
    frames, videos = _tables(rng, 60, 1.0, groups=MIN_SOURCES)
    offsets = {f"g{n}": rng.normal(0, 3.0) for n in range(MIN_SOURCES)}
    table = videos[None]
    shifted = norm.cdf(norm.ppf(table["video_score"]) + table["group"].map(offsets))
    videos[None] = table.assign(video_score=shifted, flagged=shifted >= 0.5)
    grouped = headline(frames, videos, rounds=300)
    assert grouped["unit"] == "source" and grouped["units"] == MIN_SOURCES
    loose = headline(frames, {None: videos[None].drop(columns="group")}, rounds=300)
    assert loose["unit"] == "clip" and loose["units"] == 60
    width = {
        name: np.diff(result["figures"]["video_auc"]["interval"])[0] for name, result in [("g", grouped), ("c", loose)]
    }
    assert width["g"] > width["c"]


def test_a_boundary_every_draw_repeats_gets_the_exact_bound_over_the_units():
    """A perfect detector and no untouched video flagged: every draw repeats 1.0 and 0.0, which says nothing about
    how close to the boundary the truth is; the interval is the one-sided bound 1 - 0.025 ** (1 / units)."""
    frames, videos = _tables(np.random.default_rng(0), 12, 50.0)
    videos[None]["flagged"] = videos[None]["processed"]
    result = headline(frames, videos, rounds=100)
    reach = 1 - 0.025 ** (1 / 12)
    assert result["figures"]["video_auc"] == {"value": 1.0, "interval": [pytest.approx(1 - reach), 1.0]}
    assert result["figures"]["untouched_flagged"] == {"value": 0.0, "interval": [0.0, pytest.approx(reach)]}
    assert result["unit"] == "source" and result["units"] == 12 and result["rounds"] == 100  # each clip a source


def test_untouched_share_and_pixel_auc_follow_the_rows():
    frames, videos = _tables(np.random.default_rng(5), 10, 0.0)
    figures = headline(frames, videos, rounds=200)["figures"]
    untouched = videos[None][~videos[None]["processed"]]
    assert figures["untouched_flagged"]["value"] == pytest.approx(untouched["flagged"].mean())
    assert figures["pixel_auc"]["value"] == pytest.approx(frames[None]["pixel_auc"].mean())
    low, high = figures["untouched_flagged"]["interval"]
    assert 0 <= low <= figures["untouched_flagged"]["value"] <= high <= 1
    with pytest.raises(ValueError, match="rounds"):
        headline(frames, videos, rounds=0)
