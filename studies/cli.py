"""``void-eval study design`` and ``void-eval study analyze``: mounted by ``void_eval.cli`` via ``register``.

Only ``typer`` and light stdlib at module level; the work is imported inside the commands.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from void_eval.cli_options import clip_sources, json_option, json_safe

if TYPE_CHECKING:
    import pandas as pd

study_app = typer.Typer(
    help="Preference studies: balanced designs, participant pages, honest statistics.", no_args_is_help=True
)

SALT_ENV = "VOID_EVAL_STUDY_SALT"


def register(app: typer.Typer) -> None:
    """Add the ``study`` command group to the ``void-eval`` app."""
    app.add_typer(study_app, name="study")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@study_app.command("design")
def design_command(
    methods: Annotated[str, typer.Option(help="Comma-separated method names (as in the clips folder or run).")],
    participants: Annotated[int, typer.Option(min=1, help="Number of participants (one packet each).")],
    out: Annotated[Path, typer.Option(help="Output folder (must be empty unless --force).")],
    clips: Annotated[
        list[str] | None,
        typer.Option(
            metavar="DIR|NAME[,NAME...]",
            help="Clips folder (CLIPS/<clip>/<method>.mp4), or clip names (with --from-run: which clips); "
            "repeatable or comma-separated, as everywhere.",
            show_default=False,
        ),
    ] = None,
    from_run: Annotated[
        Path | None,
        typer.Option(
            "--from-run",
            help="A finished `void-eval run`/`bench` folder: its outputs of --methods (labels), re-encoded alike.",
        ),
    ] = None,
    mode: Annotated[str, typer.Option(help="pairwise or best-of-n (every method on every screen).")] = "pairwise",
    questions: Annotated[
        str, typer.Option(help="Comma-separated question keys (plausibility, artifacts, effects, overall) or key=text.")
    ] = "plausibility,artifacts",
    rounds: Annotated[int, typer.Option(min=1, help="Pairwise: repeats of each pair; best-of-n: of each clip.")] = 1,
    copy_input_checks: Annotated[int, typer.Option(min=0, help="Copy-input attention checks per packet.")] = 1,
    repeat_checks: Annotated[int, typer.Option(min=0, help="Repeated-trial checks per packet.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of every random draw (recorded in design.json).")] = 0,
    title: Annotated[str, typer.Option(help="Title shown on the participant pages.")] = "Video comparison study",
    ties: Annotated[
        bool, typer.Option("--ties/--forced-choice", help="Offer a 'no preference' answer (recorded as tie).")
    ] = True,
    copy_media: Annotated[bool, typer.Option("--copy-media", help="Copy videos instead of hard-linking.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty output folder.")] = False,
) -> int:
    """Design a balanced study and write one self-contained HTML page per participant.

    Writes OUT/design.json, OUT/trials.csv, OUT/media_manifest.csv and OUT/site/ (pages + videos) to give to
    participants. The videos come from --clips (a folder) or straight from a run (--from-run RUN: the outputs of
    the --methods labels on every clip they all finished). Exit 0 on success, 1 on bad input.
    """
    from studies.design import design_summary, make_design
    from studies.packets import write_study
    from void_eval.errors import InputError

    method_list = _split(methods)
    items = [str(path) for path in clip_sources(clips or [])]
    clip_list, clips_folder, media = _resolve_clips(items, method_list, from_run, with_input=copy_input_checks > 0)
    try:
        design = make_design(
            method_list,
            clip_list,
            participants=participants,
            mode=mode,
            questions=questions,
            rounds=rounds,
            copy_input_checks=copy_input_checks,
            repeat_checks=repeat_checks,
            seed=seed,
            allow_tie=ties,
        )
    except ValueError as err:
        raise InputError("study design", str(err)) from err
    paths = write_study(
        design,
        out,
        clips_folder=clips_folder,
        copy_media=copy_media,
        title=title,
        force=force,
        media=media,
        encode=media is not None,
    )
    typer.echo(design_summary(design))
    typer.echo(f"wrote {len(paths)} files under {out} (give participants {out / 'site'})")
    if clips_folder is None and media is None:
        typer.echo(f"note: no videos copied; place them as listed in {out / 'media_manifest.csv'}")
    return 0


def _resolve_clips(
    items: list[str], method_list: list[str], from_run: Path | None, *, with_input: bool
) -> tuple[list[str], Path | None, dict[tuple[str, str], Path] | None]:
    """The design's clips from a run, a clips folder or clip names: ``(clips, clips folder, media sources)``."""
    from studies.packets import discover_clips
    from void_eval.errors import InputError

    clips_folder, media = None, None
    if from_run is not None:
        from studies.from_run import run_media

        found = run_media(from_run, method_list, clips=items or None, with_input=with_input)
        for note in found.notes:
            typer.echo(note, err=True)
        clip_list, media = found.clips, found.sources
    elif not items:
        raise typer.BadParameter("give --clips or --from-run", param_hint="--clips")
    elif any(Path(item).is_dir() for item in items):
        if len(items) != 1:
            raise InputError(", ".join(items), "give one clips folder, or clip names only")
        clips_folder = Path(items[0])
        clip_list = discover_clips(clips_folder, method_list)
    else:
        for item in items:
            if Path(item).suffix or os.sep in item:
                raise InputError(item, "clips folder not found (give a folder or comma-separated clip names)")
        clip_list = items
    return clip_list, clips_folder, media


@study_app.command("analyze")
def analyze_command(
    responses: Annotated[
        list[Path], typer.Argument(help="Responses CSV files, or folders of them (one file per participant is fine).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder for the tables, summary.json and plots.")],
    salt: Annotated[
        str | None, typer.Option(help=f"Pseudonym salt (default: ${SALT_ENV}, else random per run).")
    ] = None,
    methods: Annotated[
        str | None, typer.Option(help="Method order (first = mixed-model reference); default alphabetical.")
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=1, help="Participant-bootstrap resamples for Bradley-Terry.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and of the mixed model's starting point.")] = 0,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level.")] = 0.95,
    min_rt_ms: Annotated[float, typer.Option(min=0, help="Answers faster than this are dropped.")] = 1000.0,
    max_copy_input_failures: Annotated[int, typer.Option(min=0, help="Copy-input failures tolerated.")] = 0,
    max_repeat_inconsistency: Annotated[
        float, typer.Option(min=0, max=1, help="Share of inconsistent repeats tolerated (1 = report only).")
    ] = 1.0,
    multinomial: Annotated[
        str,
        typer.Option(help="Best-of-N intervals: goodman or sison-glaz (>= 7 categories only; else goodman, noted)."),
    ] = "goodman",
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the PNG plots.")] = True,
    design: Annotated[
        Path | None, typer.Option(help="Design folder (or its trials.csv): every answer must match its screen.")
    ] = None,
    as_json: Annotated[bool, json_option("summary.json's content and the files written")] = False,
) -> int:
    """Analyse responses: exclusions, pairwise (Wilson, exact binomial, Holm), best-of-N (simultaneous),
    Bradley-Terry (participant bootstrap), mixed model, position bias, agreement, power.

    Exit 0 on success, 1 on bad input.
    """
    from studies.analysis import analyze
    from studies.analysis_report import print_exclusions, print_report
    from studies.design_check import check_against_design, read_design_trials
    from studies.responses import ResponseValidationError
    from void_eval.errors import InputError

    files = _response_files(responses)
    design_trials = read_design_trials(design) if design is not None else None
    data = _read_all(files, design_trials)
    salt = salt or os.environ.get(SALT_ENV) or None
    try:
        result = analyze(
            data,
            salt=salt,
            methods=_split(methods) if methods else None,
            bootstrap=bootstrap,
            seed=seed,
            confidence=confidence,
            min_rt_ms=min_rt_ms,
            max_copy_input_failures=max_copy_input_failures,
            max_repeat_inconsistency=max_repeat_inconsistency,
            multinomial=multinomial,
        )
    except ResponseValidationError as err:  # bad input only; any other error is a bug and keeps its traceback
        raise InputError(", ".join(str(f) for f in files), str(err)) from err
    if design_trials is not None:
        result.summary["design_check"] = check_against_design(data, design_trials)
    paths = result.write(out, plots=plots)
    if as_json:
        document = {**result.summary, "files": [str(path) for path in paths]}
        typer.echo(json.dumps(json_safe(document), indent=2, default=str, allow_nan=False))
    if not result.analysed:
        if not as_json:
            print_exclusions(result)
            typer.echo(f"wrote {len(paths)} files to {out}")
        counts = result.summary["exclusions"]
        raise InputError(
            ", ".join(str(f) for f in files),
            f"no answers left after exclusions ({counts['participants_excluded']} of {counts['participants']} "
            f"participants excluded; why: {out / 'participants.csv'})",
        )
    if not as_json:
        print_report(result)
        typer.echo(f"wrote {len(paths)} files to {out}")
    return 0


def _response_files(responses: list[Path]) -> list[Path]:
    """The responses files: each file given, and the ``*.csv`` files of each folder given (sorted)."""
    from void_eval.errors import InputError

    files: list[Path] = []
    for path in responses:
        if path.is_dir():
            found = sorted(path.glob("*.csv"))
            if not found:
                raise InputError(path, "folder holds no .csv files")
            files.extend(found)
        else:
            files.append(path)
    return files


def _read_all(files: list[Path], design_trials: pd.DataFrame | None) -> pd.DataFrame:
    """Read and concatenate the responses files, each checked against the design (if any) and for answers that
    another file already holds."""
    import pandas as pd

    from studies.design_check import check_against_design
    from studies.responses import read_responses
    from void_eval.errors import InputError

    frames = []
    seen: dict[tuple, Path] = {}
    for path in files:
        frame = read_responses(path)
        if design_trials is not None:
            check_against_design(frame, design_trials, source=str(path))
        for row in frame[["participant", "trial", "question", "line"]].itertuples(index=False):
            key = (row.participant, row.trial, row.question)
            if key in seen:
                raise InputError(
                    path,
                    f"line {row.line}: participant {key[0]!r} trial {key[1]} question "
                    f"{key[2]!r} is also in {seen[key]}",
                )
            seen[key] = path
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@study_app.command("power")
def power_command(
    margin: Annotated[float, typer.Option(min=0.005, max=0.49, help="Wanted Wilson half-width.")] = 0.1,
    win_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Expected decided win rate of a pair.")] = 0.65,
    power: Annotated[float, typer.Option(min=0.5, max=0.999, help="Wanted power of the binomial test.")] = 0.8,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="Family-wise significance level.")] = 0.05,
    pairs: Annotated[int, typer.Option(min=1, help="Pairs tested (Holm-safe level alpha / pairs).")] = 1,
    per_participant: Annotated[int, typer.Option(min=1, help="Judgments each participant gives per pair.")] = 1,
    icc: Annotated[float, typer.Option(min=0.0, max=1.0, help="Intra-participant correlation.")] = 0.0,
    as_json: Annotated[bool, json_option("the inputs and the judgments needed")] = False,
) -> int:
    """Judgments per pair needed for a margin (Wilson) and for a power target (exact binomial test)."""
    import math

    from studies.power import design_effect, judgments_for_margin, judgments_for_power

    inflation = design_effect(per_participant, icc)
    for_margin = judgments_for_margin(margin, win_rate=win_rate)
    for_power = judgments_for_power(win_rate, power=power, alpha=alpha, pairs=pairs) if win_rate != 0.5 else None
    if as_json:
        document = {
            "inputs": {"margin": margin, "win_rate": win_rate, "power": power, "alpha": alpha, "pairs": pairs,
                       "per_participant": per_participant, "icc": icc},
            "judgments_for_margin": for_margin,
            "judgments_for_power": for_power,  # null at win rate 0.5: no effect to detect
            "design_effect": inflation,
            "judgments_for_margin_with_design_effect": math.ceil(for_margin * inflation),
        }  # fmt: skip
        typer.echo(json.dumps(document, indent=2))
        return 0
    typer.echo(f"+-{margin:g} at win rate {win_rate:g}: {for_margin} decided judgments per pair")
    if for_power is not None:
        typer.echo(
            f"power {power:g} against 50:50 at alpha {alpha:g} over {pairs} pair(s): {for_power} decided judgments"
        )
    if inflation > 1:
        typer.echo(
            f"design effect 1 + ({per_participant} - 1) x {icc:g} = {inflation:.2f}: multiply by it "
            f"(margin: {math.ceil(for_margin * inflation)})"
        )
    return 0
