"""The JSON tree export reproduces scikit-learn exactly, loads safely, and the shipped model is what its card says."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from forensics.detectors.features import FEATURE_NAMES
from forensics.detectors.fusion import (
    DEFAULT_MODEL_PATH,
    FusionModel,
    card_path,
    load_card,
    load_model,
    save_model,
)
from forensics.detectors.scoring import VIDEO_FEATURES
from void_eval.errors import InputError
from void_eval.hashing import file_sha256


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    x[rng.random(x.shape) < 0.15] = np.nan  # missing values take the learned direction
    y = (np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) ** 2 + 0.5 * rng.normal(size=2000)) > 0.4
    return HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y), x


def test_export_matches_sklearn_with_missing_values(fitted):
    estimator, x = fitted
    model = FusionModel.from_sklearn(estimator, ("a", "b", "c", "d"))
    np.testing.assert_allclose(model.predict_proba(x), estimator.predict_proba(x)[:, 1], atol=1e-12)
    again = FusionModel.from_json(json.loads(json.dumps(model.to_json())))
    np.testing.assert_array_equal(again.predict_proba(x), model.predict_proba(x))


def test_compiled_engine_equals_numpy_reference(fitted):
    estimator, x = fitted
    model = FusionModel.from_sklearn(estimator, ("a", "b", "c", "d"))
    reference = model.decision_function(x, engine="numpy")
    assert model.engine == "compiled"  # scikit-learn >= 1.4 ships the walker
    np.testing.assert_array_equal(model.decision_function(x, engine="compiled"), reference)
    np.testing.assert_array_equal(model.decision_function(x), reference)
    with pytest.raises(ValueError, match="engine"):
        model.decision_function(x, engine="gpu")


def test_save_load_checks_card_and_format(fitted, tmp_path):
    estimator, x = fitted
    model = FusionModel.from_sklearn(estimator, ("a", "b", "c", "d"), version="9.9.9")
    path = save_model(model, tmp_path / "m.json", card={"trained_on": {"clips": []}})
    card = json.loads(card_path(path).read_text())
    assert card["model_sha256"] == file_sha256(path) and card["model_version"] == "9.9.9"
    assert load_model(path).predict_proba(x[:5]).tolist() == model.predict_proba(x[:5]).tolist()
    path.write_text(path.read_text().replace('"baseline":', '"baseline": ', 1))
    with pytest.raises(InputError, match="sha256"):
        load_model(path)
    document = model.to_json()
    document["nodes"]["left"][0] = 0  # a cycle
    with pytest.raises(InputError, match="inconsistent"):
        FusionModel.from_json(document)
    assert len(document["roots"]) >= 2
    crossing = model.to_json()  # the first tree's root points into the second tree
    crossing["nodes"]["left"][0] = crossing["roots"][1] + 1
    reversed_roots = model.to_json()
    reversed_roots["roots"] = reversed_roots["roots"][::-1]
    for broken in (crossing, reversed_roots):
        with pytest.raises(InputError, match="inconsistent"):
            FusionModel.from_json(broken)
    with pytest.raises(InputError, match="not a"):
        FusionModel.from_json({"format": "pickle"})
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "absent.json")


def test_shipped_model_is_small_versioned_and_documented():
    assert DEFAULT_MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    model = load_model()
    card = load_card()
    assert model.feature_names == FEATURE_NAMES and model.version == card["model_version"]
    assert card["trained_on"]["generators"][0] == "untouched" and card["trained_on"]["clips"]
    clips = card["trained_on"]["clips"]
    folds = [fold["clips"] for fold in card["folds"]]
    assert sorted(name for fold in folds for name in fold) == sorted(item["name"] for item in clips)
    group_of = {item["name"]: item["group"] for item in clips}
    fold_groups = [{group_of[name] for name in fold} for fold in folds]
    assert all(not first & second for first, second in itertools.combinations(fold_groups, 2))  # no footage in two
    figures = card["cross_validation"]
    assert {row["held_out_generator"] for row in figures["leave_one_generator_out"]} == {
        *card["trained_on"]["generators"][1:],
        "pooled",
    }
    assert {"video_auc", "pixel_auc", "copy_video_auc", "untouched_flagged"} <= set(figures["targets"])
    assert "python -m forensics.detectors.train" in card["reproduce"]
    video_model = model.extra["video_model"]
    assert set(video_model["features"]) <= set(VIDEO_FEATURES) and len(video_model["coefficients"]) == len(
        video_model["features"]
    )
    # the video score named by the recipe: a summary as it is, or a logistic fitted on out-of-fold probabilities
    if card["config"]["video_score"] == "logistic":
        assert video_model["fitted_on"]["out_of_fold"]
    else:
        assert video_model["fitted_on"] == {"fixed": card["config"]["video_score"]} == {"fixed": "top_blocks"}
    calibration = model.extra["calibration"]  # check's default threshold comes from here
    assert calibration == card["calibration"] and calibration["false_alarm_rate"] == card["config"]["false_alarm_rate"]
