"""Bradley-Terry / Luce choice model: penalised maximum likelihood and a bootstrap over participants.

A pairwise judgment is a choice from two options and a best-of-N judgment a choice from N; both follow Luce's
choice axiom ``P(i chosen from S) = exp(theta_i) / sum_{j in S} exp(theta_j)``, which is the Bradley-Terry model
``P(i beats j) = sigmoid(theta_i - theta_j)`` when ``|S| = 2``. ``theta`` is reported on the natural-log scale
with mean zero (multiply by ``400 / ln 10`` for Elo points). Ties are split evenly between the options shown
(half a win each in a pair, as FastChat's arena analysis does).

A small L2 penalty (``ridge``, default 0.01: a Gaussian prior with sd 10 on each ``theta``) keeps the estimate
finite when a method never wins; it also fixes the mean at zero.

Example
-------
>>> import numpy as np
>>> sets = np.array([[True, True]])
>>> wins = np.array([[30.0, 10.0]])           # method 0 beat method 1 in 30 of 40 pairs
>>> theta = fit_strengths(wins, sets, ridge=0.0)
>>> round(float(theta[0] - theta[1]), 4), round(float(np.log(3)), 4)
(1.0986, 1.0986)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize


@dataclass(frozen=True)
class ChoiceCounts:
    """Choice counts per participant: ``counts[p, s, m]`` = (weighted) times participant ``p`` chose method ``m``
    from option set ``s``; ``sets[s, m]`` is True when method ``m`` is in set ``s``."""

    methods: tuple[str, ...]
    participants: tuple[str, ...]
    sets: np.ndarray
    counts: np.ndarray

    def total(self) -> np.ndarray:
        """Counts summed over participants, shape (sets, methods)."""
        return self.counts.sum(axis=0)


def choice_counts(
    rows: list[tuple[str, tuple[str, ...], str]], methods: list[str] | tuple[str, ...], *, tie: str = "tie"
) -> ChoiceCounts:
    """Build :class:`ChoiceCounts` from ``(participant, options, choice)`` rows; a ``tie`` splits one unit evenly.

    Example
    -------
    >>> data = choice_counts([("a", ("x", "y"), "x"), ("a", ("y", "x"), "tie")], ["x", "y"])
    >>> data.total().tolist()
    [[1.5, 0.5]]
    """
    methods = tuple(methods)
    method_index = {name: position for position, name in enumerate(methods)}
    participants = tuple(dict.fromkeys(row[0] for row in rows))
    participant_index = {name: position for position, name in enumerate(participants)}
    set_index: dict[frozenset, int] = {}
    entries: list[tuple[int, int, int, float]] = []
    for participant, options, choice in rows:
        unknown = [option for option in options if option not in method_index]
        if unknown:
            raise ValueError(f"options {options} include methods not in the model: {unknown}")
        key = frozenset(options)
        s = set_index.setdefault(key, len(set_index))
        p = participant_index[participant]
        if choice == tie:
            for option in options:
                entries.append((p, s, method_index[option], 1.0 / len(options)))
        else:
            if choice not in options:
                raise ValueError(f"choice {choice!r} is not among the options {options}")
            entries.append((p, s, method_index[choice], 1.0))
    sets = np.zeros((len(set_index), len(methods)), dtype=bool)
    for key, s in set_index.items():
        sets[s, [method_index[name] for name in key]] = True
    counts = np.zeros((len(participants), len(set_index), len(methods)))
    for p, s, m, weight in entries:
        counts[p, s, m] += weight
    return ChoiceCounts(methods, participants, sets, counts)


def _objective(theta: np.ndarray, wins: np.ndarray, sets: np.ndarray, ridge: float) -> tuple[float, np.ndarray]:
    logits = np.where(sets, theta[None, :], -np.inf)
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    per_set = wins.sum(axis=1)
    negative_log_likelihood = -(wins @ theta).sum() + (per_set * log_norm).sum() + 0.5 * ridge * theta @ theta
    probabilities = np.exp(logits - log_norm[:, None])
    gradient = -wins.sum(axis=0) + per_set @ probabilities + ridge * theta
    return float(negative_log_likelihood), gradient


def _batched_objective(theta: np.ndarray, wins: np.ndarray, sets: np.ndarray, ridge: float) -> np.ndarray:
    """Penalised negative log-likelihood for a batch: theta (B, M), wins (B, S, M) -> (B,)."""
    logits = np.where(sets[None], theta[:, None, :], -np.inf)
    top = logits.max(axis=2, keepdims=True)
    log_norm = top[..., 0] + np.log(np.exp(logits - top).sum(axis=2))
    per_set = wins.sum(axis=2)
    return (
        -(wins.sum(axis=1) * theta).sum(axis=1)
        + (per_set * log_norm).sum(axis=1)
        + 0.5 * ridge * (theta * theta).sum(axis=1)
    )


def fit_strengths_batch(
    wins: np.ndarray,
    sets: np.ndarray,
    *,
    ridge: float = 0.01,
    start: np.ndarray | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-10,
) -> np.ndarray:
    """Fit many count tables at once (damped Newton; the penalised log-likelihood is strictly concave).

    Parameters
    ----------
    wins : array (B, S, M)
        One table of weighted choice counts per replicate.
    sets : bool array (S, M)
        Option-set membership shared by all replicates.
    ridge : float, keyword-only, > 0
    start : array (B, M) or (M,), optional

    Returns
    -------
    theta : array (B, M), each row mean zero.
    """
    wins = np.asarray(wins, dtype=float)
    sets = np.asarray(sets, dtype=bool)
    if ridge <= 0:
        raise ValueError("the batched fit needs ridge > 0")
    batch, _, methods = wins.shape
    theta = np.zeros((batch, methods)) if start is None else np.broadcast_to(start, (batch, methods)).copy()
    per_set = wins.sum(axis=2)
    totals = wins.sum(axis=1)
    eye = np.eye(methods)
    scale = 1.0 + per_set.sum(axis=1)
    active = np.ones(batch, dtype=bool)
    for _ in range(max_iterations):
        index = np.flatnonzero(active)
        if index.size == 0:
            break
        th = theta[index]
        logits = np.where(sets[None], th[:, None, :], -np.inf)
        logits = logits - logits.max(axis=2, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=2, keepdims=True)
        n = per_set[index]
        gradient = -totals[index] + np.einsum("bs,bsm->bm", n, prob) + ridge * th
        hessian = (
            np.einsum("bs,bsm->bm", n, prob)[:, :, None] * eye
            - np.einsum("bs,bsm,bsk->bmk", n, prob, prob)
            + ridge * eye
        )
        done = np.abs(gradient).max(axis=1) <= tolerance * scale[index]
        active[index[done]] = False
        if done.all():
            break
        index, th, gradient, hessian = index[~done], th[~done], gradient[~done], hessian[~done]
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        current = _batched_objective(th, wins[index], sets, ridge)
        size = np.ones(index.size)
        for _halving in range(40):
            trial = th - size[:, None] * step
            worse = _batched_objective(trial, wins[index], sets, ridge) > current + 1e-12 * np.abs(current)
            if not worse.any():
                break
            size[worse] *= 0.5
        theta[index] = th - size[:, None] * step
    return theta - theta.mean(axis=1, keepdims=True)


def fit_strengths(
    wins: np.ndarray, sets: np.ndarray, *, ridge: float = 0.01, start: np.ndarray | None = None
) -> np.ndarray:
    """Penalised maximum-likelihood Luce/Bradley-Terry log-strengths.

    Parameters
    ----------
    wins : array (sets, methods)
        Weighted choice counts per option set (0 outside the set).
    sets : bool array (sets, methods)
        Membership of each option set.
    ridge : float, keyword-only, >= 0
        L2 penalty on ``theta``. With ``ridge == 0`` the mean is fixed at zero afterwards; the MLE may then be
        infinite (a method that never wins), which raises ``ValueError``.
    start : array (methods,), optional
        Warm start.

    Returns
    -------
    theta : array (methods,), mean zero.
    """
    wins = np.asarray(wins, dtype=float)
    sets = np.asarray(sets, dtype=bool)
    if wins.shape != sets.shape or wins.ndim != 2:
        raise ValueError(f"wins {wins.shape} and sets {sets.shape} must be equal 2-d shapes")
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    if np.any(wins[~sets] != 0):
        raise ValueError("wins outside an option set")
    if ridge > 0:
        return fit_strengths_batch(wins[None], sets, ridge=ridge, start=start)[0]
    if not mle_exists(wins, sets):
        raise ValueError(
            "the unpenalised MLE does not exist for these counts (use ridge > 0): some group of "
            "methods never beat the others"
        )
    methods = wins.shape[1]
    theta0 = np.zeros(methods) if start is None else np.asarray(start, dtype=float).copy()
    result = optimize.minimize(
        _objective,
        theta0,
        args=(wins, sets, ridge),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-14},
    )
    if not result.success:
        raise ValueError(f"the unpenalised fit did not converge: {result.message}")
    return result.x - result.x.mean()


def mle_exists(wins: np.ndarray, sets: np.ndarray) -> bool:
    """Whether the unpenalised MLE is finite: the "chosen over" graph is strongly connected (Hunter 2004).

    There is an edge ``i -> j`` when ``i`` was chosen (weight > 0) from a set that also showed ``j``.
    """
    from scipy.sparse.csgraph import connected_components

    wins = np.asarray(wins, dtype=float)
    sets = np.asarray(sets, dtype=bool)
    beats = ((wins > 0)[:, :, None] & sets[:, None, :]).any(axis=0)
    np.fill_diagonal(beats, False)
    components, _ = connected_components(beats, directed=True, connection="strong")
    return components == 1


def separation(wins: np.ndarray, sets: np.ndarray, methods: tuple[str, ...] | list[str]) -> str:
    """Say which methods were never chosen over which, when that leaves the unpenalised MLE infinite ("" if not).

    Under such (complete or quasi-complete) separation the fitted gap between the groups is set by the ridge prior,
    not by the data, and a bootstrap over the same pattern returns it unchanged: a zero-width interval that only
    looks confident. A tie counts as a choice of every option shown, so ties join groups.

    Example
    -------
    >>> sets = np.array([[True, True]])
    >>> separation(np.array([[2.0, 0.0]]), sets, ("void", "telea"))
    'void was never beaten by telea'
    >>> separation(np.array([[2.0, 1.0]]), sets, ("void", "telea"))
    ''
    """
    from scipy.sparse.csgraph import connected_components

    wins = np.asarray(wins, dtype=float)
    sets = np.asarray(sets, dtype=bool)
    beats = ((wins > 0)[:, :, None] & sets[:, None, :]).any(axis=0)
    np.fill_diagonal(beats, False)
    count, labels = connected_components(beats, directed=True, connection="strong")
    if count == 1:
        return ""
    groups = []
    for component in range(count):
        inside = labels == component
        if not beats[~inside][:, inside].any():  # nobody outside the group ever beat anyone in it
            others = [m for m, own in zip(methods, inside, strict=True) if not own]
            names = [m for m, own in zip(methods, inside, strict=True) if own]
            verb = "was" if len(names) == 1 else "were"
            groups.append(f"{', '.join(names)} {verb} never beaten by {', '.join(others)}")
    return "; ".join(groups)


@dataclass(frozen=True)
class StrengthEstimate:
    """Point estimate, bootstrap percentile interval and rank per method (rank 1 = strongest)."""

    methods: tuple[str, ...]
    strength: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rank: np.ndarray
    replicates: np.ndarray


def bootstrap_strengths(
    data: ChoiceCounts,
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    ridge: float = 0.01,
    seed: int = 0,
) -> StrengthEstimate:
    """Fit strengths and a percentile bootstrap interval, resampling participants with replacement.

    Resampling whole participants keeps each person's correlated judgments together, so the interval reflects
    between-participant variation, not only the number of judgments.

    Example
    -------
    >>> rows = [(f"p{k}", ("x", "y"), "x" if k % 4 else "y") for k in range(40)]
    >>> estimate = bootstrap_strengths(choice_counts(rows, ["x", "y"]), resamples=200, seed=1)
    >>> estimate.rank.tolist(), bool(estimate.ci_low[0] > 0)
    ([1, 2], True)
    """
    if ridge <= 0:
        raise ValueError("the bootstrap needs ridge > 0 (a resample can leave a method without wins)")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    theta = fit_strengths(data.total(), data.sets, ridge=ridge)
    rng = np.random.default_rng(seed)
    participants = data.counts.shape[0]
    flat = data.counts.reshape(participants, -1)
    weights = rng.multinomial(participants, np.full(participants, 1.0 / participants), size=resamples)
    wins = (weights @ flat).reshape(resamples, *data.sets.shape)
    replicates = np.empty((resamples, len(data.methods)))
    for begin in range(0, resamples, 500):
        chunk = slice(begin, begin + 500)
        replicates[chunk] = fit_strengths_batch(wins[chunk], data.sets, ridge=ridge, start=theta)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail], axis=0)
    order = np.argsort(-theta, kind="stable")
    rank = np.empty(len(theta), dtype=int)
    rank[order] = np.arange(1, len(theta) + 1)
    return StrengthEstimate(data.methods, theta, low, high, rank, replicates)
