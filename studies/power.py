"""How many judgments a pair needs: interval width (Wilson) and test power (exact binomial, Holm-safe).

* :func:`judgments_for_margin` — smallest ``n`` whose Wilson interval half-width at the expected win rate is at
  most ``margin`` (``65/100 -> [0.553, 0.736]``: about +-9 points at ``n = 100``).
* :func:`judgments_for_power` — smallest ``n`` at which the exact two-sided binomial test at level
  ``alpha / pairs`` (Bonferroni, which bounds Holm's first step) rejects 50:50 with probability >= ``power``
  when the true decided win rate is ``win_rate``; exact power is saw-toothed in ``n``, so the returned ``n`` is
  the smallest from which power stays above target for the next 20 values.
* ``design_effect`` — judgments by the same participant are correlated; with ``m`` judgments per participant
  and intra-participant correlation ``icc`` the required total is multiplied by ``1 + (m - 1) icc``.

Example
-------
>>> judgments_for_margin(0.09, win_rate=0.65)
104
>>> judgments_for_power(0.65, power=0.8)
97
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from studies.intervals import wilson_interval


def judgments_for_margin(
    margin: float, *, win_rate: float = 0.5, confidence: float = 0.95, max_n: int = 1_000_000
) -> int:
    """Smallest number of decided judgments with Wilson half-width <= ``margin`` at ``win_rate``.

    The half-width is evaluated at the nearest attainable count ``round(win_rate * n)``.
    """
    if not 0 < margin < 0.5:
        raise ValueError(f"margin must be in (0, 0.5), got {margin}")
    if not 0 <= win_rate <= 1:
        raise ValueError(f"win_rate must be in [0, 1], got {win_rate}")
    z = stats.norm.ppf(0.5 + confidence / 2)
    start = max(1, int(z * z * min(win_rate * (1 - win_rate), 0.25) / margin**2 * 0.5))
    n = np.arange(start, max_n + 1)
    for begin in range(0, n.size, 20_000):
        block = n[begin : begin + 20_000]
        low, high = wilson_interval(np.round(win_rate * block), block, confidence=confidence)
        hits = np.flatnonzero((high - low) / 2 <= margin)
        if hits.size:
            return int(block[hits[0]])
    raise ValueError(f"no n <= {max_n} reaches margin {margin}")


def binomial_power(n: int, win_rate: float, *, alpha: float = 0.05) -> float:
    """Power of the exact two-sided binomial test (scipy's rule) of 50:50 at level ``alpha`` with ``n`` judgments."""
    if n < 1:
        raise ValueError("n must be >= 1")
    k = np.arange(n + 1)
    null = stats.binom.pmf(k, n, 0.5)
    # scipy's two-sided p-value for p = 0.5 (symmetric): P(|X - n/2| >= |k - n/2|)
    distance = np.abs(k - n / 2)
    order = np.argsort(-distance, kind="stable")
    cumulative = np.cumsum(null[order])
    # counts at the same distance share one p-value: the total mass at that distance or further
    sorted_distance = distance[order]
    last_of_distance = {d: cumulative[i] for i, d in enumerate(sorted_distance)}
    p_sorted = np.array([last_of_distance[d] for d in sorted_distance])
    p_values = np.empty(n + 1)
    p_values[order] = np.minimum(p_sorted, 1.0)
    reject = p_values <= alpha * (1 + 1e-7)
    return float(stats.binom.pmf(k, n, win_rate)[reject].sum())


def judgments_for_power(
    win_rate: float, *, power: float = 0.8, alpha: float = 0.05, pairs: int = 1, max_n: int = 100_000
) -> int:
    """Smallest decided-judgment count per pair that reaches ``power`` against 50:50 (see module docstring)."""
    if not 0 <= win_rate <= 1 or win_rate == 0.5:
        raise ValueError(f"win_rate must be in [0, 1] and differ from 0.5, got {win_rate}")
    if not 0 < power < 1 or not 0 < alpha < 1 or pairs < 1:
        raise ValueError("power and alpha in (0, 1), pairs >= 1")
    level = alpha / pairs
    guess = stats.norm.ppf(1 - level / 2) + stats.norm.ppf(power)
    n = max(1, int(0.5 * guess**2 * 0.25 / (win_rate - 0.5) ** 2))
    while n <= max_n:
        if binomial_power(n, win_rate, alpha=level) >= power and all(
            binomial_power(m, win_rate, alpha=level) >= power for m in range(n + 1, n + 21)
        ):
            return n
        n += 1
    raise ValueError(f"power {power} not reached with n <= {max_n}")


def design_effect(judgments_per_participant: int, icc: float) -> float:
    """Variance inflation ``1 + (m - 1) icc`` of clustered judgments (``icc`` in [0, 1])."""
    if judgments_per_participant < 1 or not 0 <= icc <= 1:
        raise ValueError("judgments_per_participant >= 1 and icc in [0, 1]")
    return 1.0 + (judgments_per_participant - 1) * icc


def power_table(
    margins=(0.05, 0.075, 0.1, 0.15),
    win_rates=(0.55, 0.6, 0.65, 0.7, 0.75),
    *,
    pairs: int = 1,
    power: float = 0.8,
    alpha: float = 0.05,
) -> dict:
    """Both calculations over a grid, as a JSON-ready dict."""
    return {
        "margin_at_50pct": {f"{m:g}": judgments_for_margin(m) for m in margins},
        f"power_{power:g}_alpha_{alpha:g}_pairs_{pairs}": {
            f"{w:g}": judgments_for_power(w, power=power, alpha=alpha, pairs=pairs) for w in win_rates
        },
        "note": "decided judgments per pair; multiply by the design effect 1 + (m - 1) icc for clustered raters "
        f"(e.g. m = 10, icc = 0.05 -> x{design_effect(10, 0.05):.2f})",
    }
