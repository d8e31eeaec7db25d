"""What determines a trained detector: :class:`TrainingConfig`, the recipe :mod:`.train` runs and the card records.

Both the training script and the cross-validation (:mod:`.validation`) read it; it imports neither.

Examples
--------
>>> config = TrainingConfig(seed=3, video_clips=1, photo_clips=0)
>>> config.generators
('untouched', 'telea', 'navier-stokes', 'blur', 'patch', 'clone', 'flowprop', 'median')
>>> TrainingConfig.from_json(config.to_json()) == config
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from forensics.detectors.dataset import DEFAULT_DEGRADATIONS, UNTOUCHED, Degradation

#: The fill generators of the shipped model.
TRAINING_GENERATORS: tuple[str, ...] = ("telea", "navier-stokes", "blur", "patch", "clone", "flowprop", "median")


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a trained model.

    Attributes
    ----------
    seed : int
        Seeds the clips, folds, row sampling and the trees.
    video_clips, photo_clips : int
        Clips cut from each installed video and each photograph. Twelve windows of each real video, each with its
        own holes, since the packages carry so few real videos: grouped cross-validation scored on the same three
        windows of each real video gave ``top_blocks`` video AUC 0.70 with 3 windows, 0.74 with 6 and 0.81 with 12,
        and untouched videos flagged 9%, 7% and 4% (all footage), with filmed photographs unchanged (0.91).
    frames : int
        Frames per clip.
    window : tuple of int
        Largest ``(height, width)`` cut from a source, at native resolution.
    footage : tuple of str
        Installed footage to use (names from :func:`~forensics.detectors.footage.installed_footage`; empty = all).
    methods : tuple of str
        Fill generators that make the positives.
    degradations : tuple of Degradation
        Distribution steps applied to every video.
    block : int
        Block size in pixels.
    cv_folds : int
        Folds of the cross-fitting and of the card's cross-validation (>= 2).
    max_iter, max_leaf_nodes, learning_rate, min_samples_leaf, l2_regularization
        Tree ensemble parameters.
    positives_per_video, negatives_per_video : int
        Most rows of each class drawn from one video.
    video_row_factor : int
        Real video footage gets this many times the rows of a camera move over a photograph. With three windows of
        each real video it helped (grouped cross-validation on real video, ``top_blocks`` video AUC 0.63 with 1,
        0.69 with 3, 0.71 with 6); with twelve windows it no longer does: 1 gives 0.78 there against 0.77 with 3,
        and 2.1% of the untouched real videos flagged against 4.2%, from fewer than half the rows.
    video_folds : int
        Folds of the cross-fitting :func:`~forensics.detectors.validation.fit_model` runs itself when it is given
        no out-of-fold probabilities (``detect-eval``).
    video_score : str
        The name of one summary used as it is (:data:`~forensics.detectors.scoring.VIDEO_FEATURES`), or
        ``logistic`` (a logistic regression on every summary, fitted out of fold). The shipped ``top_blocks`` ranks
        videos better than the logistic did in grouped cross-validation (video AUC 0.80 against 0.75 on the same
        out-of-fold probabilities): the logistic, fitted mostly on filmed photographs, weighed the summaries in a way
        that did not carry over to real video (0.56 there against 0.69).
    video_c : float
        Inverse L2 strength of the video score model's logistic regression.
    false_alarm_rate : float
        Stated share of untouched held-out videos (and frames) the calibrated threshold flags.
    """

    seed: int = 0
    video_clips: int = 12
    photo_clips: int = 1
    frames: int = 20
    window: tuple[int, int] = (360, 640)
    footage: tuple[str, ...] = field(default=())
    methods: tuple[str, ...] = TRAINING_GENERATORS
    degradations: tuple[Degradation, ...] = DEFAULT_DEGRADATIONS
    block: int = 16
    cv_folds: int = 3
    max_iter: int = 150
    max_leaf_nodes: int = 31
    learning_rate: float = 0.1
    min_samples_leaf: int = 100
    l2_regularization: float = 3.0
    positives_per_video: int = 150
    negatives_per_video: int = 200
    video_row_factor: int = 1
    video_folds: int = 2
    video_score: str = "top_blocks"
    video_c: float = 1.0
    false_alarm_rate: float = 0.03

    @property
    def generators(self) -> tuple[str, ...]:
        """``untouched`` plus the methods."""
        return (UNTOUCHED, *self.methods)

    def to_json(self) -> dict:
        """JSON-ready dict (degradations spelled out)."""
        document = asdict(self)
        document["degradations"] = [asdict(item) for item in self.degradations]
        return document

    @classmethod
    def from_json(cls, document: dict) -> TrainingConfig:
        """Inverse of :meth:`to_json` (a model card's ``config``)."""
        values = {key: document[key] for key in cls.__dataclass_fields__ if key in document}
        values["degradations"] = tuple(Degradation(**item) for item in values.get("degradations", ()))
        for key in ("window", "footage", "methods"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
