"""Interval estimates and tests for counts: Wilson, exact binomial, Holm, simultaneous multinomial.

Vectorised where simulations need speed (:func:`wilson_interval` takes arrays); each function is checked in the
tests against an independent reference (statsmodels ``proportion_confint(method="wilson")``,
``scipy.stats.binomtest``, ``statsmodels.stats.multitest.multipletests(method="holm")``).

Example
-------
>>> low, high = wilson_interval(65, 100)
>>> round(float(low), 3), round(float(high), 3)
(0.553, 0.736)
>>> round(binomial_p_value(65, 100), 4)
0.0035
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Fewest cells for which statsmodels documents the Sison-Glaz intervals as valid.
SISON_GLAZ_MIN_CELLS = 7


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes, trials, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (element-wise over arrays).

    Parameters
    ----------
    successes, trials : int or array of int
        ``0 <= successes <= trials``. Where ``trials == 0`` the interval is NaN (no information).
    confidence : float, keyword-only
        Two-sided confidence level in (0, 1).

    Returns
    -------
    (low, high) : arrays of float in [0, 1]

    Example
    -------
    >>> [round(float(v), 4) for v in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    if np.any(successes < 0) or np.any(successes > trials):
        raise ValueError("need 0 <= successes <= trials")
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = successes / trials
        denominator = 1.0 + z * z / trials
        centre = (share + z * z / (2.0 * trials)) / denominator
        half = z * np.sqrt(share * (1.0 - share) / trials + z * z / (4.0 * trials * trials)) / denominator
        low = np.where(trials > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(trials > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # exact ends: the Wilson bound at 0 or n successes is exactly 0 or 1 (avoid -1e-17 round-off)
    low = np.where(successes == 0, 0.0, low)
    high = np.where((successes == trials) & (trials > 0), 1.0, high)
    low = np.where(trials > 0, low, np.nan)
    return low, high


def binomial_p_value(successes: int, trials: int, *, null: float = 0.5) -> float:
    """Exact two-sided binomial test p-value (scipy's "sum of probabilities <= observed" rule); NaN if no trials.

    Example
    -------
    >>> round(binomial_p_value(9, 10), 4)
    0.0215
    """
    successes, trials = int(successes), int(trials)
    if trials == 0:
        return float("nan")
    if not 0 <= successes <= trials:
        raise ValueError("need 0 <= successes <= trials")
    if not 0.0 < null < 1.0:
        raise ValueError(f"null must be in (0, 1), got {null}")
    return float(stats.binomtest(successes, trials, null, alternative="two-sided").pvalue)


def holm_adjust(p_values) -> np.ndarray:
    """Holm step-down adjusted p-values; NaN entries stay NaN and are not counted as tests.

    Example
    -------
    >>> holm_adjust([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size == 0:
        return adjusted
    if np.any((p[valid] < 0) | (p[valid] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = valid[np.argsort(p[valid], kind="stable")]
    m = order.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def multinomial_intervals(counts, *, confidence: float = 0.95, method: str = "goodman") -> np.ndarray:
    """Simultaneous confidence intervals for all cell shares of one multinomial sample.

    ``method`` is ``"goodman"`` (Goodman 1965, chi-square with Bonferroni over cells; all intervals hold together
    with probability >= ``confidence`` asymptotically) or ``"sison-glaz"`` (Sison & Glaz 1995; statsmodels
    documents it as valid only for at least :data:`SISON_GLAZ_MIN_CELLS` cells, and below that its coverage falls
    short, e.g. about 0.915 for 3 cells at 95%, so fewer cells raise ``ValueError``); both via
    ``statsmodels.stats.proportion.multinomial_proportions_confint``. Returns an array (cells, 2).

    Example
    -------
    >>> multinomial_intervals([16, 2, 2, 2, 1, 1, 1]).round(3)[0].tolist()
    [0.379, 0.838]
    """
    from statsmodels.stats.proportion import multinomial_proportions_confint

    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size < 2:
        raise ValueError("counts must be a 1-d array of at least two cells")
    if np.any(counts < 0) or counts.sum() == 0:
        raise ValueError("counts must be >= 0 with a positive total")
    if method not in {"goodman", "sison-glaz"}:
        raise ValueError(f"method must be 'goodman' or 'sison-glaz', got {method!r}")
    if method == "sison-glaz" and counts.size < SISON_GLAZ_MIN_CELLS:
        raise ValueError(
            f"sison-glaz intervals are valid only for >= {SISON_GLAZ_MIN_CELLS} cells, got {counts.size}; "
            "use method='goodman'"
        )
    return np.asarray(multinomial_proportions_confint(counts, alpha=1.0 - confidence, method=method))
