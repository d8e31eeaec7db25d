"""Inter-rater agreement: Fleiss' kappa, Krippendorff's alpha (nominal), raw agreement and Gwet's AC1.

An *item* is one (clip, question, option set); its raters are the participants who answered it. Each answer is
coded by its **position in the item's option set** (the options in sorted name order, so that the left/right
randomisation of the screen does not matter) or as ``tie``. Items that show different option sets do not share
categories ("first option" of ``a|b`` is not "first option" of ``c|d``), so the chance terms are computed per
option set (a *stratum*) and pooled: chance agreement is the item-weighted mean of each option set's chance
agreement (Fleiss, Gwet) and the expected disagreement the value-weighted mean of each option set's expected
disagreement (Krippendorff). With one option set every statistic equals its textbook form (statsmodels'
``fleiss_kappa``, the ``krippendorff`` package). Raters answering at random therefore give kappa, alpha and
AC1 near 0 however many pairs a study shows.

A participant counts once per item: when the same participant answered the same item more than once (a
repeated trial), only the first answer (lowest ``trial`` where the column exists) is used and the number
dropped is reported. Items with fewer than two raters carry no agreement information and are left out.

Fleiss' kappa here is the form for a varying number of raters per item
(``P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1))``); raw agreement is the mean of ``P_i``; Gwet's AC1 uses
chance agreement ``sum_j p_j (1 - p_j) / (q - 1)`` with ``q`` the number of *possible* answers of the option set
(options, plus one when ties are allowed), and stays meaningful when one option dominates (where kappa
collapses).

Example
-------
>>> import numpy as np
>>> table = np.array([[3, 0], [0, 3], [3, 0], [2, 1]])
>>> result = agreement_from_table(table)
>>> round(result["raw_agreement"], 4), round(result["fleiss_kappa"], 4)
(0.8333, 0.625)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from studies.responses import TIE

AGREEMENT_COLUMNS = (
    "question",
    "kind",
    "items",
    "ratings",
    "option_sets",
    "categories",
    "raw_agreement",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "duplicates_dropped",
    "note",
)


def agreement_from_table(table: np.ndarray, *, possible: int | None = None) -> dict[str, float]:
    """Agreement statistics from one (items, categories) count table; items with < 2 raters are dropped.

    ``possible`` is the number of possible answers (Gwet's ``q``); default: the table's columns.
    """
    table = np.asarray(table, dtype=float)
    if table.ndim != 2:
        raise ValueError("table must be 2-d (items, categories)")
    return agreement_from_strata([(table, table.shape[1] if possible is None else possible)])


def agreement_from_strata(strata: Sequence[tuple[np.ndarray, int]]) -> dict[str, float]:
    """Pooled agreement over option sets: each stratum is ``(count table (items, categories), possible answers)``.

    Observed agreement/disagreement is averaged over all items; the chance terms are computed within each
    stratum from that stratum's answer shares and averaged with item weights (kappa, AC1) or pairable-value
    weights (alpha). One stratum gives the textbook statistics.

    Example
    -------
    >>> a = np.array([[2, 0], [0, 2]])
    >>> round(agreement_from_strata([(a, 2), (a, 2)])["fleiss_kappa"], 3)
    1.0
    """
    nan = float("nan")
    kept: list[tuple[np.ndarray, int]] = []
    for table, possible in strata:
        table = np.asarray(table, dtype=float)
        if table.ndim != 2:
            raise ValueError("every stratum table must be 2-d (items, categories)")
        if np.any(table < 0):
            raise ValueError("counts must be >= 0")
        table = table[table.sum(axis=1) >= 2]
        if table.shape[0]:
            if possible < max(2, int(np.count_nonzero(table.sum(axis=0)))):
                raise ValueError(f"possible answers {possible} fewer than the categories used (or < 2)")
            kept.append((table, int(possible)))
    items = sum(table.shape[0] for table, _ in kept)
    ratings = int(sum(table.sum() for table, _ in kept))
    categories = max((possible for _, possible in kept), default=0)
    result = {"items": items, "ratings": ratings, "option_sets": len(kept), "categories": categories}
    if items == 0:
        return {**result, "raw_agreement": nan, "fleiss_kappa": nan, "gwet_ac1": nan, "krippendorff_alpha": nan}
    per_item, chance, chance_ac1, disagreement, expected, values = [], 0.0, 0.0, 0.0, 0.0, 0.0
    for table, possible in kept:
        raters = table.sum(axis=1)
        per_item.append((table * (table - 1)).sum(axis=1) / (raters * (raters - 1)))
        shares = table.sum(axis=0) / raters.sum()
        chance += table.shape[0] * float((shares**2).sum())
        chance_ac1 += table.shape[0] * float((shares * (1 - shares)).sum()) / (possible - 1)
        # Krippendorff (nominal): observed disagreement over pairable values, expected within the stratum
        n = float(raters.sum())
        disagreement += float(((raters**2 - (table**2).sum(axis=1)) / (raters - 1)).sum())
        expected += n * (n * n - float((table.sum(axis=0) ** 2).sum())) / (n * (n - 1))
        values += n
    observed = float(np.concatenate(per_item).mean())
    chance /= items
    chance_ac1 /= items
    kappa = (observed - chance) / (1 - chance) if chance < 1 else nan
    ac1 = (observed - chance_ac1) / (1 - chance_ac1) if chance_ac1 < 1 else nan
    alpha = 1.0 - (disagreement / values) / (expected / values) if expected > 0 else nan
    return {
        **result,
        "raw_agreement": observed,
        "fleiss_kappa": float(kappa),
        "gwet_ac1": float(ac1),
        "krippendorff_alpha": float(alpha),
    }


def agreement_table(frame: pd.DataFrame, *, ties_allowed: bool | None = None) -> pd.DataFrame:
    """Agreement per question and trial kind (``pairwise`` 2 options, ``best-of-n`` more) over all items.

    ``ties_allowed`` sets whether ``tie`` counts as a possible answer (Gwet's ``q``); ``None`` infers it per
    question from whether any answer of that question is a tie (stated in the ``note``).
    """
    rows = []
    for question in dict.fromkeys(frame["question"]):
        own = frame[frame["question"] == question]
        if "trial" in own.columns:
            own = own.sort_values("trial", kind="stable")
        ties = bool((own["choice"] == TIE).any()) if ties_allowed is None else bool(ties_allowed)
        kinds = own["options"].map(lambda options: "pairwise" if len(options) == 2 else "best-of-n")
        for kind in ("pairwise", "best-of-n"):
            block = own[kinds == kind]
            if block.empty:
                continue
            option_sets = block["options"].map(lambda options: tuple(sorted(options)))
            keys = pd.DataFrame({"participant": block["participant"], "clip": block["clip"], "set": option_sets})
            first = ~keys.duplicated(keep="first").to_numpy()
            dropped = int((~first).sum())
            strata: dict[tuple, dict[str, list[int]]] = {}
            for clip, options, choice in zip(
                block["clip"][first], option_sets[first], block["choice"][first], strict=True
            ):
                code = len(options) if choice == TIE else options.index(choice)
                counts = strata.setdefault(options, {}).setdefault(clip, [0] * (len(options) + 1))
                counts[code] += 1
            tables = [
                (np.array(list(items.values()), dtype=float), len(options) + int(ties))
                for options, items in strata.items()
            ]
            if not ties:  # no tie answers at all: the tie column is empty, q = options
                tables = [(table[:, :-1], possible) for table, possible in tables]
            result = agreement_from_strata(tables)
            notes = []
            if result["items"] == 0:
                notes.append("no item (clip, option set) was answered by two or more participants")
            elif np.isnan(result["fleiss_kappa"]):
                notes.append("every answer was the same option: raw agreement 1, chance-corrected measures undefined")
            notes.append(
                "answers coded by position in the sorted option set; chance terms per option set"
                + (", tie a possible answer" if ties else ", no tie answers: tie not counted as possible")
            )
            if dropped:
                notes.append(f"{dropped} repeated answer(s) of a participant on the same item dropped (first kept)")
            rows.append(
                {"question": question, "kind": kind, **result, "duplicates_dropped": dropped, "note": "; ".join(notes)}
            )
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
