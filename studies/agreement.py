"""Inter-rater agreement: Fleiss' kappa, Krippendorff's alpha (nominal), raw agreement and Gwet's AC1.

An *item* is one (clip, question, option set); its raters are the participants who answered it, and the
category is the option chosen (method name, or ``tie``). Items with fewer than two raters carry no agreement
information and are left out. Fleiss' kappa here is the form for a varying number of raters per item
(``P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1))``; equal to statsmodels' ``fleiss_kappa`` when every item
has the same number of raters). Raw agreement is the mean of ``P_i``; Gwet's AC1 uses chance agreement
``sum_j p_j (1 - p_j) / (q - 1)`` and stays meaningful when one option dominates (where kappa collapses).

Example
-------
>>> import numpy as np
>>> table = np.array([[3, 0], [0, 3], [3, 0], [2, 1]])
>>> result = agreement_from_table(table)
>>> round(result["raw_agreement"], 4), round(result["fleiss_kappa"], 4)
(0.8333, 0.625)
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def agreement_from_table(table: np.ndarray) -> dict[str, float]:
    """Agreement statistics from an (items, categories) count table; items with < 2 raters are dropped."""
    table = np.asarray(table, dtype=float)
    if table.ndim != 2:
        raise ValueError("table must be 2-d (items, categories)")
    raters = table.sum(axis=1)
    table = table[raters >= 2]
    raters = raters[raters >= 2]
    result = {"items": int(table.shape[0]), "ratings": int(raters.sum()), "categories": int(table.shape[1])}
    nan = float("nan")
    if table.shape[0] == 0:
        return {**result, "raw_agreement": nan, "fleiss_kappa": nan, "gwet_ac1": nan}
    if table.shape[1] < 2:  # one category only: everyone agrees, chance correction undefined
        return {**result, "raw_agreement": 1.0, "fleiss_kappa": nan, "gwet_ac1": nan}
    per_item = (table * (table - 1)).sum(axis=1) / (raters * (raters - 1))
    observed = float(per_item.mean())
    shares = table.sum(axis=0) / raters.sum()
    chance = float((shares**2).sum())
    chance_ac1 = float((shares * (1 - shares)).sum() / (table.shape[1] - 1))
    kappa = (observed - chance) / (1 - chance) if chance < 1 else float("nan")
    ac1 = (observed - chance_ac1) / (1 - chance_ac1) if chance_ac1 < 1 else float("nan")
    return {**result, "raw_agreement": observed, "fleiss_kappa": float(kappa), "gwet_ac1": float(ac1)}


def agreement_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Agreement per question and trial kind (``pairwise`` 2 options, ``best-of-n`` more) over all items."""
    import krippendorff

    rows = []
    for question in dict.fromkeys(frame["question"]):
        own = frame[frame["question"] == question]
        kinds = own["options"].map(lambda options: "pairwise" if len(options) == 2 else "best-of-n")
        for kind in ("pairwise", "best-of-n"):
            block = own[kinds == kind]
            if block.empty:
                continue
            items = block["clip"] + "\x1f" + block["options"].map(lambda options: "|".join(sorted(options)))
            categories = sorted(set(block["choice"]))
            category_index = {name: position for position, name in enumerate(categories)}
            item_index = {name: position for position, name in enumerate(dict.fromkeys(items))}
            raters = {name: position for position, name in enumerate(dict.fromkeys(block["participant"]))}
            table = np.zeros((len(item_index), len(categories)))
            reliability = np.full((len(raters), len(item_index)), np.nan)
            for item, participant, choice in zip(items, block["participant"], block["choice"], strict=True):
                table[item_index[item], category_index[choice]] += 1
                reliability[raters[participant], item_index[item]] = category_index[choice]
            result = agreement_from_table(table)
            multi = table.sum(axis=1) >= 2
            if multi.any() and len(categories) >= 2:
                alpha = float(
                    krippendorff.alpha(reliability_data=reliability[:, multi], level_of_measurement="nominal")
                )
            else:
                alpha = float("nan")
            note = ""
            if result["items"] == 0:
                note = "no item (clip, option set) was answered by two or more participants"
            elif len(categories) < 2:
                note = "every answer was the same option: raw agreement 1, chance-corrected measures undefined"
            rows.append({"question": question, "kind": kind, **result, "krippendorff_alpha": alpha, "note": note})
    return pd.DataFrame(
        rows,
        columns=[
            "question",
            "kind",
            "items",
            "ratings",
            "categories",
            "raw_agreement",
            "fleiss_kappa",
            "gwet_ac1",
            "krippendorff_alpha",
            "note",
        ],
    )
