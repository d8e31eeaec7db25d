"""The learned fusion: a gradient-boosted tree ensemble over block features, stored as plain JSON.

Training uses scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingClassifier`; the fitted trees are
exported to a versioned JSON document (no pickle anywhere) and evaluated here with numpy, so loading a model file
runs no code from it. :meth:`FusionModel.predict_proba` reproduces scikit-learn's ``predict_proba`` exactly on the
same inputs (tested). NaN features follow each split's learned missing-value direction, as in scikit-learn.

Two engines walk the trees, with identical results (tested): ``numpy`` (the reference, vectorised per tree) and
``compiled``, which hands the node arrays loaded from JSON to scikit-learn's compiled tree walker (the one its own
``predict`` uses; run single-threaded here); ``auto`` (the default) takes ``compiled`` when this scikit-learn
provides it. :attr:`FusionModel.engine` says which one ``auto`` resolves to.

A model file is accompanied by a card (``<model>.card.json``) recording what it was trained on, the seed, the
software versions and cross-validated figures; :func:`load_model` checks the card's sha256 of the model file.

Examples
--------
>>> import numpy as np
>>> from sklearn.ensemble import HistGradientBoostingClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(400, 2)); y = X[:, 0] + 0.1 * rng.normal(size=400) > 0
>>> model = FusionModel.from_sklearn(HistGradientBoostingClassifier(max_iter=20).fit(X, y), ("a", "b"))
>>> high, low = model.predict_proba(np.array([[2.0, 0.0], [-2.0, 0.0]]))
>>> bool(high > 0.9 and low < 0.1)
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from void_eval.atomic import write_text_atomic
from void_eval.errors import InputError
from void_eval.hashing import file_sha256

MODEL_FORMAT = "void-eval-gbt"
MODEL_FORMAT_VERSION = 1
#: The shipped model and its card, and the version the training recipe gives the models it fits.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "fusion_gbt_v9.json"
MODEL_VERSION = "9.0.0"
Engine = Literal["auto", "compiled", "numpy"]


def _compiled_walker():
    """scikit-learn's compiled tree walker and its record dtypes, or None where this version lacks them."""
    try:
        from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE, X_BITSET_INNER_DTYPE
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    except ImportError:
        return None
    return TreePredictor, PREDICTOR_RECORD_DTYPE, X_BITSET_INNER_DTYPE


@dataclass(frozen=True)
class FusionModel:
    """A binary tree ensemble on named features; ``P(filled) = sigmoid(baseline + sum of leaf values)``.

    Attributes
    ----------
    feature_names : tuple of str
        Column order expected by :meth:`predict_proba`.
    baseline : float
        Initial raw score (log-odds).
    feature, threshold, left, right, missing_left, is_leaf, value : np.ndarray
        All trees' nodes concatenated; ``left``/``right`` are absolute node indices.
    roots : np.ndarray
        Index of each tree's root node.
    version : str
        Model version (semantic version of the trained artefact).
    extra : dict
        Settings the detector needs (block size, aggregation), stored with the model.
    """

    feature_names: tuple[str, ...]
    baseline: float
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    version: str = "0"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sklearn(
        cls, estimator, feature_names: tuple[str, ...], *, version: str = "0", extra: dict | None = None
    ) -> FusionModel:
        """Export a fitted binary ``HistGradientBoostingClassifier`` (numeric features only)."""
        if getattr(estimator, "n_trees_per_iteration_", None) != 1:
            raise ValueError("only binary HistGradientBoostingClassifier models can be exported")
        if len(feature_names) != estimator.n_features_in_:
            raise ValueError(f"{len(feature_names)} feature names for {estimator.n_features_in_} features")
        columns: dict[str, list] = {key: [] for key in ("feature", "threshold", "left", "right", "missing", "leaf")}
        values: list[float] = []
        roots: list[int] = []
        offset = 0
        for (predictor,) in estimator._predictors:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            roots.append(offset)
            leaf = nodes["is_leaf"].astype(bool)
            columns["feature"].extend(np.where(leaf, -1, nodes["feature_idx"]).tolist())
            columns["threshold"].extend(np.where(leaf, 0.0, nodes["num_threshold"]).tolist())
            columns["left"].extend(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset).tolist())
            columns["right"].extend(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset).tolist())
            columns["missing"].extend(nodes["missing_go_to_left"].astype(bool).tolist())
            columns["leaf"].extend(leaf.tolist())
            values.extend(np.where(leaf, nodes["value"], 0.0).tolist())
            offset += len(nodes)
        return cls(
            feature_names=tuple(feature_names),
            baseline=float(np.asarray(estimator._baseline_prediction).ravel()[0]),
            feature=np.asarray(columns["feature"], np.int64),
            threshold=np.asarray(columns["threshold"], np.float64),
            left=np.asarray(columns["left"], np.int64),
            right=np.asarray(columns["right"], np.int64),
            missing_left=np.asarray(columns["missing"], bool),
            is_leaf=np.asarray(columns["leaf"], bool),
            value=np.asarray(values, np.float64),
            roots=np.asarray(roots, np.int64),
            version=version,
            extra=dict(extra or {}),
        )

    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return len(self.roots)

    @property
    def engine(self) -> str:
        """The engine ``engine="auto"`` uses: ``compiled`` where scikit-learn provides it, else ``numpy``."""
        return "compiled" if self._compiled is not None else "numpy"

    @cached_property
    def _compiled(self):
        """scikit-learn ``TreePredictor`` objects built from this model's node arrays (None when unavailable)."""
        walker = _compiled_walker()
        if walker is None:
            return None
        tree_predictor, record_dtype, bitset_dtype = walker
        ends = [*self.roots[1:].tolist(), len(self.feature)]
        empty = np.zeros((0, 8), bitset_dtype)
        predictors = []
        for root, end in zip(self.roots.tolist(), ends, strict=True):
            part = slice(root, end)
            leaf = self.is_leaf[part]
            nodes = np.zeros(end - root, record_dtype)
            nodes["value"] = self.value[part]
            nodes["feature_idx"] = np.where(leaf, 0, self.feature[part])
            nodes["num_threshold"] = self.threshold[part]
            nodes["missing_go_to_left"] = self.missing_left[part]
            nodes["left"] = np.where(leaf, 0, self.left[part] - root)
            nodes["right"] = np.where(leaf, 0, self.right[part] - root)
            nodes["is_leaf"] = leaf
            predictors.append(tree_predictor(nodes, empty, empty))
        return predictors, empty, np.zeros(len(self.feature_names), np.uint32)

    def decision_function(self, features: np.ndarray, *, engine: Engine = "auto") -> np.ndarray:
        """Raw log-odds for ``(N, F)`` features (float64 ``(N,)``); see the module notes on ``engine``."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(f"features must be (N, {len(self.feature_names)}), got {x.shape}")
        if engine not in ("auto", "compiled", "numpy"):
            raise ValueError(f"engine must be auto, compiled or numpy, got {engine!r}")
        if engine != "numpy":
            compiled = self._compiled
            if compiled is None and engine == "compiled":
                raise RuntimeError("this scikit-learn has no compiled tree walker; use engine='numpy'")
            if compiled is not None:
                predictors, bitsets, feature_map = compiled
                x = np.ascontiguousarray(x)
                total = np.full(x.shape[0], self.baseline, dtype=np.float64)
                for predictor in predictors:
                    # One thread: a parallel region per tree costs more than the walk (and stalls under load).
                    total += predictor.predict(x, bitsets, feature_map, 1)
                return total
        total = np.full(x.shape[0], self.baseline, dtype=np.float64)
        for root in self.roots:
            node = np.full(x.shape[0], root, dtype=np.int64)
            inner = np.flatnonzero(~self.is_leaf[node])
            while inner.size:
                index = node[inner]
                sample = x[inner, self.feature[index]]
                go_left = np.where(np.isnan(sample), self.missing_left[index], sample <= self.threshold[index])
                node[inner] = np.where(go_left, self.left[index], self.right[index])
                inner = inner[~self.is_leaf[node[inner]]]
            total += self.value[node]
        return total

    def predict_proba(self, features: np.ndarray, *, engine: Engine = "auto") -> np.ndarray:
        """Probability that each block was filled in, float64 ``(N,)`` in [0, 1]."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(features, engine=engine)))

    def to_json(self) -> dict[str, Any]:
        """The JSON document :func:`save_model` writes."""
        return {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "version": self.version,
            "feature_names": list(self.feature_names),
            "baseline": self.baseline,
            "roots": self.roots.tolist(),
            "nodes": {
                "feature": self.feature.tolist(),
                "threshold": self.threshold.tolist(),
                "left": self.left.tolist(),
                "right": self.right.tolist(),
                "missing_left": self.missing_left.astype(int).tolist(),
                "is_leaf": self.is_leaf.astype(int).tolist(),
                "value": self.value.tolist(),
            },
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any], *, source: str = "<model>") -> FusionModel:
        """Rebuild a model from :meth:`to_json` output, checking format, version and node consistency."""
        if document.get("format") != MODEL_FORMAT:
            raise InputError(source, f"not a {MODEL_FORMAT} model (format={document.get('format')!r})")
        if document.get("format_version") != MODEL_FORMAT_VERSION:
            raise InputError(source, f"model format version {document.get('format_version')} is not supported")
        try:
            nodes = document["nodes"]
            model = cls(
                feature_names=tuple(document["feature_names"]),
                baseline=float(document["baseline"]),
                feature=np.asarray(nodes["feature"], np.int64),
                threshold=np.asarray(nodes["threshold"], np.float64),
                left=np.asarray(nodes["left"], np.int64),
                right=np.asarray(nodes["right"], np.int64),
                missing_left=np.asarray(nodes["missing_left"], bool),
                is_leaf=np.asarray(nodes["is_leaf"], bool),
                value=np.asarray(nodes["value"], np.float64),
                roots=np.asarray(document["roots"], np.int64),
                version=str(document.get("version", "0")),
                extra=dict(document.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(source, f"malformed model ({err})") from err
        size = len(model.feature)
        lengths = {len(getattr(model, key)) for key in ("threshold", "left", "right", "missing_left", "is_leaf")}
        if lengths != {size} or len(model.value) != size or not _trees_are_consistent(model, size):
            raise InputError(source, "malformed model (inconsistent node arrays)")
        return model


def _trees_are_consistent(model: FusionModel, size: int) -> bool:
    """Roots ascend from 0; each tree's children point forward and stay inside its own node range.

    The compiled engine walks each tree's slice of the node arrays without bounds checks, so a child pointing into
    another tree (or past the end) must be refused here, not trusted.
    """
    roots = model.roots
    if len(roots) == 0 or roots[0] != 0 or (np.diff(roots) <= 0).any() or roots[-1] >= size:
        return False
    ends = np.append(roots[1:], size)
    tree_end = np.repeat(ends, np.diff(np.append(roots, size)))  # per node: where its tree's nodes stop
    inner = np.flatnonzero(~model.is_leaf)
    return not (
        (model.feature[inner] < 0).any()
        or (model.feature[inner] >= len(model.feature_names)).any()
        or (model.left[inner] <= inner).any()
        or (model.right[inner] <= inner).any()
        or (model.left[inner] >= tree_end[inner]).any()
        or (model.right[inner] >= tree_end[inner]).any()
    )


def card_path(model_path: str | Path) -> Path:
    """``<model>.card.json`` beside the model file."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".card.json")


def save_model(model: FusionModel, path: str | Path, *, card: dict[str, Any]) -> Path:
    """Write the model (compact JSON) and its card (with the model's sha256) atomically; returns the model path."""
    path = Path(path)
    write_text_atomic(path, json.dumps(model.to_json(), separators=(",", ":")), mode=0o644)
    card = {**card, "model_file": path.name, "model_sha256": file_sha256(path), "model_version": model.version}
    write_text_atomic(card_path(path), json.dumps(card, indent=2, sort_keys=True) + "\n", mode=0o644)
    return path


def load_model(path: str | Path | None = None, *, check_card: bool = True) -> FusionModel:
    """Load a model file (default: the shipped one) without executing anything from it.

    Raises
    ------
    InputError
        When the file is missing or malformed, or its card's sha256 does not match.
    """
    path = DEFAULT_MODEL_PATH if path is None else Path(path)
    if not path.is_file():
        raise InputError(path, "model file not found (train one with `python -m forensics.detectors.train`)")
    if check_card:
        card_file = card_path(path)
        if not card_file.is_file():
            raise InputError(card_file, "model card not found")
        try:
            card = json.loads(card_file.read_text())
        except json.JSONDecodeError as err:
            raise InputError(card_file, f"invalid JSON ({err.msg})") from err
        if card.get("model_sha256") != file_sha256(path):
            raise InputError(path, "sha256 does not match its model card (file changed after training?)")
    try:
        document = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise InputError(path, f"invalid JSON ({err.msg})") from err
    return FusionModel.from_json(document, source=str(path))


def load_card(path: str | Path | None = None) -> dict[str, Any]:
    """The card of a model file (default: the shipped one)."""
    path = DEFAULT_MODEL_PATH if path is None else Path(path)
    card_file = card_path(path)
    if not card_file.is_file():
        raise InputError(card_file, "model card not found")
    return json.loads(card_file.read_text())
