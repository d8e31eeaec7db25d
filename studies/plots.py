"""Plots of an analysis: win-rate forest plot, Bradley-Terry ladder, per-participant heatmap (matplotlib, Agg).

Example
-------
>>> from studies.responses import read_responses
>>> from studies.simulate import fixture_path
>>> from studies.analysis import analyze
>>> import tempfile, pathlib
>>> result = analyze(read_responses(fixture_path("pairwise_4x20.csv")), salt="demo", bootstrap=50)
>>> sorted(p.name for p in write_plots(result, pathlib.Path(tempfile.mkdtemp())))
['bt_ladder.png', 'forest.png', 'participants_heatmap.png']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from studies.responses import TIE
from studies.small_samples import MIN_BOOTSTRAP_PARTICIPANTS

if TYPE_CHECKING:
    import pandas as pd

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def forest_plot(analysis, path: Path) -> Path:
    """Pairwise win rates with Wilson intervals (or best-of-N shares with simultaneous intervals)."""
    from void_eval.atomic import atomic_path

    plt = _pyplot()
    questions = list(dict.fromkeys(analysis.kept["question"]))
    pairwise = analysis.pairwise
    best = analysis.best_of
    if len(pairwise):
        labels = list(dict.fromkeys(f"{a} vs {b}" for a, b in zip(pairwise.method_a, pairwise.method_b, strict=True)))
        title, xlabel, reference = "Pairwise win rate of method_a (Wilson 95%, decided judgments)", "win rate", 0.5
    else:
        labels = list(dict.fromkeys(best.method))
        title = "Best-of-N share chosen (simultaneous 95% intervals)"
        xlabel, reference = "share of trials", None
    height = 0.9 + 0.42 * len(labels) * max(1, len(questions)) ** 0.5
    fig, ax = plt.subplots(figsize=(8.5, height))
    offsets = np.linspace(-0.18, 0.18, len(questions)) if len(questions) > 1 else [0.0]
    for q_index, question in enumerate(questions):
        keys, values, low, high, marks = _forest_points(pairwise, best, question)
        ys = np.array([labels.index(key) for key in keys]) + offsets[q_index]
        colour = _COLOURS[q_index % len(_COLOURS)]
        ax.errorbar(values, ys, xerr=[values - low, high - values], fmt="o", color=colour, capsize=3, label=question)
        for x, y, mark in zip(high, ys, marks, strict=True):
            if mark:
                ax.text(x + 0.01, y, mark, va="center", color=colour)
    if reference is not None:
        ax.axvline(reference, color="grey", linestyle="--", linewidth=1)
    else:
        shown = analysis.kept["options"].map(len).max()
        ax.axvline(1.0 / shown, color="grey", linestyle="--", linewidth=1, label=f"chance 1/{shown}")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel + ("  (* Holm p < 0.05)" if len(pairwise) else ""))
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)  # outside: covers no point
    fig.tight_layout()
    with atomic_path(path) as temp:
        fig.savefig(temp, dpi=110, format="png", bbox_inches="tight")
    plt.close(fig)
    return path


def _forest_points(
    pairwise: pd.DataFrame, best: pd.DataFrame, question: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """One question's forest rows: ``(labels, values, ci_low, ci_high, marks)`` from the pairwise table (``*``
    marks Holm p < 0.05) or, without pairwise rows, from the best-of table."""
    if len(pairwise):
        own = pairwise[pairwise.question == question]
        keys = [f"{a} vs {b}" for a, b in zip(own.method_a, own.method_b, strict=True)]
        values, low, high = own.win_rate_a.to_numpy(), own.ci_low.to_numpy(), own.ci_high.to_numpy()
        marks = ["*" if p < 0.05 else "" for p in own.p_holm]
    else:
        own = best[best.question == question]
        keys = own.method.tolist()
        values, low, high = own.share.to_numpy(), own.ci_low.to_numpy(), own.ci_high.to_numpy()
        marks = [""] * len(keys)
    return keys, values, low, high, marks


def bt_ladder(analysis, path: Path) -> Path:
    """Bradley-Terry strengths (log scale) with participant-bootstrap intervals, strongest at the top."""
    from void_eval.atomic import atomic_path

    plt = _pyplot()
    table = analysis.bradley_terry
    questions = list(dict.fromkeys(table.question))
    first = table[table.question == questions[0]].sort_values("rank")
    order = first.method.tolist()
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.45 * len(order)))
    offsets = np.linspace(-0.15, 0.15, len(questions)) if len(questions) > 1 else [0.0]
    for q_index, question in enumerate(questions):
        own = table[table.question == question].set_index("method").reindex(order)
        ys = np.arange(len(order)) + offsets[q_index]
        values = own.strength.to_numpy()
        missing = bool(own.ci_low.isna().all())  # no interval: separation or too few participants (see the note)
        ax.errorbar(
            values,
            ys,
            xerr=None if missing else [values - own.ci_low.to_numpy(), own.ci_high.to_numpy() - values],
            fmt="s",
            color=_COLOURS[q_index % len(_COLOURS)],
            mfc="none" if missing else None,
            capsize=3,
            label=f"{question}: {_no_interval(own)}" if missing else question,
        )
    ax.axvline(0, color="grey", linewidth=1, linestyle="--")
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels(order)
    ax.invert_yaxis()
    ax.set_xlabel("Bradley-Terry log-strength (mean 0); 95% participant bootstrap")
    ax.set_title(f"Bradley-Terry ladder (ordered by {questions[0]})", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)  # outside: covers no point
    fig.tight_layout()
    with atomic_path(path) as temp:
        fig.savefig(temp, dpi=110, format="png", bbox_inches="tight")
    plt.close(fig)
    return path


def _no_interval(rows) -> str:
    """Short legend text for a question whose strengths carry no interval."""
    note = str(rows["note"].dropna().iloc[0]) if rows["note"].notna().any() else ""
    reasons = ["separation"] if "separation" in note else []
    people = int(rows["participants"].max())
    if people < MIN_BOOTSTRAP_PARTICIPANTS:
        reasons.append(f"{people} participants < {MIN_BOOTSTRAP_PARTICIPANTS}")
    return "no interval (" + ", ".join(reasons) + ")"


def participant_heatmap(analysis, path: Path) -> Path:
    """Per participant (rows, pseudonyms) and method (columns): share of decided trials where it was chosen."""
    from void_eval.atomic import atomic_path

    plt = _pyplot()
    table = analysis.per_participant
    questions = list(dict.fromkeys(table.question))
    methods = [m for m in analysis.summary["methods"] if m in set(table.method)]
    participants = list(dict.fromkeys(table.participant))
    fig, axes = plt.subplots(
        1,
        len(questions),
        figsize=(1.2 + 0.75 * len(methods) * len(questions) + 1.5, 1.2 + 0.24 * len(participants)),
        squeeze=False,
    )
    image = None
    for position, (ax, question) in enumerate(zip(axes[0], questions, strict=True)):
        own = table[table.question == question].pivot(index="participant", columns="method", values="choice_rate")
        grid = own.reindex(index=participants, columns=methods).to_numpy(dtype=float)
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(methods)))
        ax.set_xticklabels(methods, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(participants)))
        ax.set_yticklabels(participants if position == 0 else [], fontsize=6)
        ax.set_title(question, fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="chosen / shown (decided)")
    fig.suptitle(f"Per-participant choice rate ({TIE} excluded); rows are pseudonyms", fontsize=10)
    with atomic_path(path) as temp:
        fig.savefig(temp, dpi=110, format="png", bbox_inches="tight")
    plt.close(fig)
    return path


def write_plots(analysis, out: Path) -> list[Path]:
    """Write ``forest.png``, ``bt_ladder.png`` and ``participants_heatmap.png`` into ``out``."""
    out = Path(out)
    return [
        forest_plot(analysis, out / "forest.png"),
        bt_ladder(analysis, out / "bt_ladder.png"),
        participant_heatmap(analysis, out / "participants_heatmap.png"),
    ]
