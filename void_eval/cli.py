"""The ``void-eval`` command line.

Command groups of other packages are mounted here (and only here may ``void_eval`` import ``forensics`` or
``studies``): each listed module exposes ``register(app: typer.Typer) -> None`` and keeps its heavy imports inside
its command functions, so ``void-eval --help`` stays fast.

Exit codes: 0 success, 1 bad input or a failed check, 2 usage error; commands may define more (documented on
the command).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer

from void_eval import __version__
from void_eval.cli_options import QuietOption, json_option, tidy_help
from void_eval.errors import InputError, VoidEvalError

app = typer.Typer(
    name="void-eval",
    help="Judge AI video object removal: clips, metrics, physics checks, provenance and detection.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
clip_app = typer.Typer(help="Inspect clip folders.", no_args_is_help=True)
app.add_typer(clip_app, name="clip")

#: Modules that add command groups: each defines ``register(app)``.
COMMAND_MODULES: tuple[str, ...] = (
    "void_eval.runner.cli",
    "void_eval.methods.cli",
    "void_eval.metrics.cli",
    "forensics.provenance.cli",
    "studies.cli",
    "void_eval.suite.cli",
    "void_eval.suite.ladder.cli",
    "void_eval.void.cli",
    "forensics.detectors.cli",
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"void-eval {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@clip_app.command("check")
def clip_check(
    dirs: Annotated[
        list[Path],
        typer.Argument(help="Clip folders (files that a glob matched are skipped).", show_default=False),
    ],
    as_json: Annotated[bool, json_option("one array (an object per folder)")] = False,
    allow_resize: Annotated[
        bool,
        typer.Option("--allow-resize", help="Resize a mask of another size (nearest) instead of failing."),
    ] = False,
) -> int:
    """Validate clip folders: files, frame counts and sizes, mask levels and fractions.

    Files among the arguments (a README a glob matched) are skipped with a note on stderr. Exit 0 when every
    folder is a valid clip, 1 when any is not, a path does not exist, or no folder was given.
    """
    from void_eval.clip_check import check_clip

    folders = []
    for path in dirs:
        if path.is_file():
            typer.echo(f"note: skipped {path}: a file, not a clip folder", err=True)
        else:
            folders.append(path)
    if not folders:
        raise InputError(", ".join(map(str, dirs)), "no clip folder among the arguments")
    reports = [check_clip(path, allow_resize=allow_resize) for path in folders]
    if as_json:
        typer.echo(json.dumps([report.to_json() for report in reports], indent=2))
    else:
        _print_clip_table(reports)
    return 0 if all(report.valid for report in reports) else 1


def _print_clip_table(reports) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="clip check")
    for column in ("clip", "valid", "frames", "size", "fps", "mask", "remove", "overlap", "affected", "keep"):
        table.add_column(column)
    for report in reports:
        fractions = report.fractions or {}
        table.add_row(
            report.clip,
            "yes" if report.valid else "NO",
            str(report.frames or "-"),
            f"{report.width}x{report.height}" if report.width else "-",
            f"{report.fps:.2f}" if report.fps else "-",
            report.mask_file or "-",
            *(
                f"{fractions[name]:.2%}" if name in fractions else "-"
                for name in ("remove", "overlap", "affected", "keep")
            ),
        )
    console = Console(width=140)
    console.print(table)
    for report in reports:
        for line in report.errors:
            console.print(f"[red]error[/red] {report.clip}: {line}", highlight=False)
        for line in report.warnings:
            console.print(f"[yellow]warning[/yellow] {report.clip}: {line}", highlight=False)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("demo_out"),
    quiet: QuietOption = False,
) -> int:
    """The built-in default job: check the sample clips, generate the physics suite, bench every CPU method on
    it, write the report, then sign and verify the outputs (C2PA, a development key).

    Reruns reuse the suite and cached cells. Exit 0 when every step worked, every sanity bar held and every
    signed file verified as Trusted.
    """
    from forensics.provenance.demo_step import sign_and_verify_run  # the one place void_eval may import it
    from void_eval.demo import run_demo
    from void_eval.runlock import run_folder_lock

    started = time.perf_counter()
    with run_folder_lock(out / "run", command="demo", create=True):
        bench_code = run_demo(out, progress=not quiet)
        sign_code = sign_and_verify_run(out / "run", echo=typer.echo)
    code = bench_code or (0 if sign_code == 0 else 1)
    status = "finished" if code == 0 else f"finished with problems (exit {code})"
    typer.echo(f"demo {status} in {time.perf_counter() - started:.1f} s")
    return code


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``void-eval`` console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    try:
        result = tidy_help(typer.main.get_command(app)).main(args=args, prog_name="void-eval", standalone_mode=False)
    except typer.Exit as err:
        return err.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except typer.TyperException as err:  # usage errors (typer vendors click's exception classes)
        err.show()
        return int(getattr(err, "exit_code", 2))
    except VoidEvalError as err:
        if _state["debug"] or "--debug" in args:
            traceback.print_exc()
        typer.echo(f"error: {err}", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
