"""Tidy results, provenance and aggregates with bootstrap confidence intervals: what a run folder holds.

``results.parquet`` / ``results.csv`` hold one row per (method, clip, region, metric, reference) with columns
``method, clip, scenario, region, metric, reference, value, higher_is_better, note`` sorted by the first six, so
two runs that computed the same numbers write identical tables. ``run.json`` records how they were made (see
:func:`provenance`). :func:`aggregate` averages over clips and puts a percentile-bootstrap CI on each mean that
rests on at least :data:`MIN_CLIPS_FOR_CI` clips; below that the CI is NaN (the mean is still given). The run
writes it to ``aggregates.csv`` (per method) and ``aggregates_by_scenario.csv``, read back by
:func:`read_aggregates`. :func:`cell_outputs` says where each finished cell's output video is.

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"method": ["a"] * 4, "clip": list("wxyz"), "scenario": ["s"] * 4, "region": ["frame"] * 4,
...                      "metric": ["psnr"] * 4, "reference": ["counterfactual"] * 4, "value": [1.0, 2.0, 3.0, 4.0],
...                      "higher_is_better": [True] * 4, "note": [""] * 4})
>>> table = aggregate(rows, n_boot=1000, seed=0, min_clips=4)
>>> table[["method", "mean", "n_clips"]].to_dict("records")
[{'method': 'a', 'mean': 2.5, 'n_clips': 4}]
>>> bool(1.0 <= table["ci_low"].iloc[0] < 2.5 < table["ci_high"].iloc[0] <= 4.0)
True
>>> bool(aggregate(rows, n_boot=1000, seed=0)["ci_low"].isna().all())   # 4 clips < MIN_CLIPS_FOR_CI
True
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from void_eval.runner.cache import CellStore, write_atomic
from void_eval.runner.cell import RESULT_COLUMNS, CellResult

SORT_COLUMNS = ["method", "clip", "region", "metric", "reference"]
RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
RUN_JSON = "run.json"
AGGREGATES_CSV = "aggregates.csv"
AGGREGATES_BY_SCENARIO_CSV = "aggregates_by_scenario.csv"
#: Fewest clips behind a bootstrap CI of a mean. n clips give only C(2n-1, n) distinct resamples (3 for 2 clips,
#: 35 for 4, 126 for 5), so below 5 the "95%" percentile interval is little more than the range of the values.
MIN_CLIPS_FOR_CI = 5
LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "opencv-python-headless", "av", "torch", "scikit-image", "ray")


def empty_results() -> pd.DataFrame:
    """A results table with no rows and the right columns and dtypes."""
    frame = pd.DataFrame({column: pd.Series(dtype="object") for column in RESULT_COLUMNS})
    return frame.astype({"value": "float64", "higher_is_better": bool})


def normalise_results(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in order, string columns as ``object`` str, ``value`` float64, rows sorted, index reset."""
    frame = frame.loc[:, list(RESULT_COLUMNS)].copy()
    for column in RESULT_COLUMNS:
        if column not in ("value", "higher_is_better"):
            frame[column] = frame[column].fillna("").astype(str).astype(object)
    frame = frame.astype({"value": "float64", "higher_is_better": bool})
    return frame.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)


def gather_results(run_dir: str | Path, cell_results: Sequence[CellResult]) -> pd.DataFrame:
    """Concatenate the score tables of the finished cells (read back from the run folder)."""
    store = CellStore(run_dir)
    parts = [
        pd.read_parquet(store.scores_path(result.method, result.clip))
        for result in cell_results
        if result.status == "done" and result.scores_record
    ]
    if not parts:
        return empty_results()
    return normalise_results(pd.concat(parts, ignore_index=True))


def write_results(run_dir: str | Path, results: pd.DataFrame) -> tuple[Path, Path]:
    """Write ``results.parquet`` and ``results.csv`` atomically."""
    run_dir = Path(run_dir)
    results = normalise_results(results)
    parquet = write_atomic(run_dir / RESULTS_PARQUET, lambda temp: results.to_parquet(temp, index=False))
    csv = write_atomic(run_dir / RESULTS_CSV, lambda temp: results.to_csv(temp, index=False, float_format="%.17g"))
    return parquet, csv


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results table: a ``results.parquet``/``.csv`` file or a run folder holding one."""
    from void_eval.errors import InputError

    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_PARQUET
    if not path.exists():
        raise InputError(path, "results table not found (run `void-eval run` or `bench` first)")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)
    except Exception as err:
        raise InputError(path, f"unreadable results table ({type(err).__name__}: {err})") from err
    missing = set(RESULT_COLUMNS) - set(frame.columns)
    if missing:
        raise InputError(path, f"not a results table: missing column(s) {', '.join(sorted(missing))}")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return normalise_results(frame)


def _group_seed(seed: int, key: tuple) -> int:
    text = "\x1f".join(map(str, key)).encode()
    return (seed * 1_000_003 + int.from_bytes(hashlib.sha256(text).digest()[:4], "little")) % (2**32)


def bootstrap_mean_ci(
    values: np.ndarray, *, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap CI of the mean, resampling the values with replacement.

    Parameters
    ----------
    values : np.ndarray
        Finite values (one per clip).
    n_boot : int, keyword-only
        Bootstrap resamples (>= 100).
    confidence : float, keyword-only
        In (0, 1).
    seed : int, keyword-only
        Seed of the resampling.

    Returns
    -------
    tuple of float
        ``(mean, low, high)``; ``(nan, nan, nan)`` for no values, ``(v, v, v)`` for one. Infinite values (the
        PSNR of an exact match) are kept: the quantiles are then taken without interpolation (``inverted_cdf``),
        so a bound is infinite only when that share of resampled means is.

    Examples
    --------
    >>> bootstrap_mean_ci(np.array([5.0]))
    (5.0, 5.0, 5.0)
    """
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100, got {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("values must not contain NaN (drop them and count them separately)")
    if values.size == 0:
        return (float("nan"),) * 3
    mean = float(values.mean())
    if values.size == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    with np.errstate(invalid="ignore"):
        means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    method = "linear" if np.isfinite(values).all() else "inverted_cdf"
    low, high = np.quantile(means, [alpha, 1 - alpha], method=method)
    return mean, float(low), float(high)


def aggregate(
    results: pd.DataFrame,
    *,
    by: Sequence[str] = ("method",),
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    min_clips: int = MIN_CLIPS_FOR_CI,
) -> pd.DataFrame:
    """Mean over clips of each (``by``..., region, metric, reference), with a bootstrap CI across clips.

    NaN values (metrics that could not be computed on a clip) are left out and counted in ``n_nan``; infinite
    values (PSNR of identical frames) are kept, see :func:`bootstrap_mean_ci`. Each group's
    resampling is seeded from ``seed`` and the group's key, so a group's CI does not depend on the others.
    A group with fewer than ``min_clips`` finite values gets its mean and a NaN CI (``n_clips`` says why).

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, region, metric, reference, higher_is_better, mean, ci_low, ci_high, n_clips, n_nan``.
    """
    keys = [*by, "region", "metric", "reference"]
    rows: list[dict[str, Any]] = []
    for key, group in results.groupby(keys, sort=True, dropna=False):
        values = group["value"].to_numpy(dtype=np.float64)
        finite = values[~np.isnan(values)]
        mean, low, high = bootstrap_mean_ci(finite, n_boot=n_boot, confidence=confidence, seed=_group_seed(seed, key))
        directions = set(group["higher_is_better"])
        if len(directions) != 1:
            raise ValueError(f"rows of {dict(zip(keys, key, strict=True))} disagree on higher_is_better")
        if finite.size < min_clips:
            low = high = float("nan")
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "higher_is_better": directions.pop(),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "n_clips": int(finite.size),
                "n_nan": int(values.size - finite.size),
            }
        )
    columns = [*keys, "higher_is_better", "mean", "ci_low", "ci_high", "n_clips", "n_nan"]
    return pd.DataFrame(rows, columns=columns)


def read_aggregates(run_dir: str | Path, *, by_scenario: bool = False) -> pd.DataFrame:
    """The aggregates a run wrote (per method, or per method and scenario family), as :func:`aggregate` returns.

    Raises
    ------
    InputError
        The file is missing, unreadable, or lacks a column (written by an older void-eval: run it again).
    """
    from void_eval.errors import InputError

    path = Path(run_dir) / (AGGREGATES_BY_SCENARIO_CSV if by_scenario else AGGREGATES_CSV)
    if not path.exists():
        raise InputError(path, "not found (is this a scored run folder?)")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"reference": str, "region": str})
    except Exception as err:
        raise InputError(path, f"unreadable aggregates ({type(err).__name__}: {err})") from err
    expected = ["region", "metric", "reference", "higher_is_better", "mean", "ci_low", "ci_high", "n_clips"]
    missing = [column for column in expected if column not in frame.columns]
    if missing:
        raise InputError(path, f"lacks column(s) {', '.join(missing)}: written by an older void-eval, run again")
    return frame.astype({"higher_is_better": bool})


def cell_outputs(run_dir: str | Path, record: dict[str, Any]) -> dict[tuple[str, str], Path]:
    """``(method, clip) -> output video`` of every finished cell in ``record`` (run.json) whose output exists."""
    store = CellStore(run_dir)
    done = [(cell["method"], cell["clip"]) for cell in record.get("cells", []) if cell.get("status") == "done"]
    outputs = {(method, clip): store.output_path(method, clip) for method, clip in done}
    return {key: path for key, path in outputs.items() if path.exists()}


def git_revision() -> dict[str, Any]:
    """The toolkit's git commit and whether its tree has uncommitted changes (None outside a git checkout)."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that shape the numbers."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(**fields: Any) -> dict[str, Any]:
    """The run.json record: toolkit version and git revision, platform, library versions, plus ``fields``."""
    from void_eval import __version__

    return {
        "toolkit": {"name": "void-eval", "version": __version__, **git_revision()},
        "platform": {"python": platform.python_version(), "system": platform.platform(), "machine": platform.machine()},
        "libraries": library_versions(),
        **fields,
    }
