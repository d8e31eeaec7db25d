"""The analysis as printed by ``void-eval study analyze``: excluded participants, answer counts, the ties policy,
and the pairwise, best-of-N and Bradley-Terry tables (rich, 130 columns).

Imported by the command only (rich and typer at module level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from studies.tallies import PAIRWISE_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from studies.analysis import StudyAnalysis


def print_exclusions(result: StudyAnalysis) -> None:
    """Each excluded participant (pseudonym) and why."""
    for row in result.participants.itertuples():
        if row.excluded:
            typer.echo(f"excluded {row.participant}: {row.reason}")


def _interval(low: float, high: float, signed: bool = False) -> str:
    """``[low, high]`` to 3 decimals (signed for strengths), ``-`` when there is no interval."""
    if low != low or high != high:  # NaN: no interval, the note says why
        return "-"
    return f"[{low:+.3f}, {high:+.3f}]" if signed else f"[{low:.3f}, {high:.3f}]"


def print_report(result: StudyAnalysis) -> None:
    """Excluded participants, the answer counts, the ties policy and the pairwise, best-of-N and Bradley-Terry
    tables (each when it has rows; Bradley-Terry always)."""
    console = Console(width=130)
    print_exclusions(result)
    counts = result.summary["exclusions"]
    console.print(
        f"participants {counts['participants']} (excluded {counts['participants_excluded']}); answers analysed "
        f"{counts['answers_analysed']} of {counts['main_answers']} main answers (fast dropped "
        f"{counts['fast_answers_dropped']}); {counts['attention_answers']} attention-check answers",
        highlight=False,
    )
    console.print(f"ties: {result.summary['ties_policy']}", highlight=False)
    if len(result.pairwise):
        console.print(_pairwise_table(result.pairwise))
    if len(result.best_of):
        console.print(_best_of_table(result.best_of))
    console.print(_strength_table(result.bradley_terry))


def _pairwise_table(pairwise: pd.DataFrame) -> Table:
    """The pairwise rows as a rich table."""
    table = Table(title="pairwise (Wilson 95%, exact binomial, Holm)")
    shown = PAIRWISE_COLUMNS[: PAIRWISE_COLUMNS.index("win_rate_a") + 1]  # then the interval in one column
    for column in (*shown, "CI", "p_holm", "note"):
        table.add_column(column)
    for row in pairwise.itertuples():
        table.add_row(
            row.question,
            row.method_a,
            row.method_b,
            str(row.n),
            str(row.wins_a),
            str(row.wins_b),
            str(row.ties),
            f"{row.win_rate_a:.3f}",
            _interval(row.ci_low, row.ci_high),
            f"{row.p_holm:.4g}",
            row.note,
        )
    return table


def _best_of_table(best_of: pd.DataFrame) -> Table:
    """The best-of-N rows as a rich table."""
    table = Table(title="best-of-N (simultaneous 95%)")
    for column in ("question", "method", "chosen", "trials", "share", "CI", "note"):
        table.add_column(column)
    for row in best_of.itertuples():
        table.add_row(
            row.question,
            row.method,
            str(row.chosen),
            str(row.trials),
            f"{row.share:.3f}",
            _interval(row.ci_low, row.ci_high),
            row.note,
        )
    return table


def _strength_table(bradley_terry: pd.DataFrame) -> Table:
    """The Bradley-Terry rows as a rich table, by question and rank; a question's note on its first row only."""
    table = Table(title="Bradley-Terry (log-strength, participant bootstrap 95%)")
    for column in ("question", "rank", "method", "strength", "CI", "note"):
        table.add_column(column)
    noted = set()  # a question's note is printed once, on its first row
    for row in bradley_terry.sort_values(["question", "rank"]).itertuples():
        interval = _interval(row.ci_low, row.ci_high, signed=True)
        note = "" if row.question in noted else row.note
        noted.add(row.question)
        table.add_row(row.question, str(row.rank), row.method, f"{row.strength:+.3f}", interval, note)
    return table
