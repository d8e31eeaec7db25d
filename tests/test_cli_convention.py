"""One convention for every command: ``--json``, ``--quiet``, ``--clips``, and help that reads at 80 columns."""

from __future__ import annotations

import json

import pytest
import typer

from void_eval.cli import app, main
from void_eval.cli_options import clip_sources, tidy_help

#: Commands that print a result: each has --json.
PRINT_A_RESULT = (
    "clip check", "methods", "run", "bench", "report", "score", "detect", "detect-eval", "check", "verify",
    "sign-run", "study analyze", "study power",
)  # fmt: skip
#: Commands that can take more than a few seconds: each shows progress and has --quiet.
SHOW_PROGRESS = ("demo", "run", "bench", "score", "detect", "detect-eval", "sign-run", "suite make")
#: Commands that take clips through --clips: one parser, the same help.
TAKE_CLIPS = ("run", "bench", "detect-eval")


def _commands() -> dict[str, object]:
    """Every leaf command of the CLI by its full name ("study analyze"), with help tidied as main() does."""
    found: dict[str, object] = {}

    def walk(command, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, f"{prefix} {name}".strip())
        else:
            found[prefix] = command

    walk(tidy_help(typer.main.get_command(app)), "")
    return found


def _options(command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *getattr(param, "secondary_opts", []))}


def test_every_result_has_json_every_slow_command_has_quiet_and_nothing_says_progress():
    commands = _commands()
    assert set(PRINT_A_RESULT) | set(SHOW_PROGRESS) <= set(commands)
    for name in PRINT_A_RESULT:
        assert "--json" in _options(commands[name]), name
    for name in SHOW_PROGRESS:
        assert "--quiet" in _options(commands[name]), name
    for name, command in commands.items():
        assert not {"--progress", "--no-progress"} & _options(command), name
    helps = {name: next(p.help for p in commands[name].params if "--clips" in p.opts) for name in TAKE_CLIPS}
    assert len(set(helps.values())) == 1, helps


def test_help_of_every_command_reads_at_80_columns(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    names = ["", *_commands()]
    for name in names:
        assert main([*name.split(), "--help"]) == 0, name
        text = capsys.readouterr().out
        assert text.startswith("Usage: void-eval"), name
        too_long = [line for line in text.splitlines() if len(line) > 80]
        assert not too_long, (name, too_long)
        for python_type in ("<bool>", "<list[", "<int", "<float", "<str>", "<path>"):
            assert python_type not in text, (name, python_type)
        assert "{" not in text.splitlines()[0], name  # arguments by name, not {clip_dir}


def test_demo_help_speaks_to_users(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["demo", "--help"]) == 0
    text = capsys.readouterr().out
    assert "signs" in text.lower() or "sign" in text
    for internal in ("``", "mounted", "may import", "forensics"):
        assert internal not in text, internal


def test_clip_sources_split_lists_and_keep_existing_paths(tmp_path):
    odd = tmp_path / "a,b"
    odd.mkdir()
    values = ["x,y", "", " z ", str(odd)]
    assert clip_sources(values) == [*map(__import__("pathlib").Path, ["x", "y", "z"]), odd]


def test_clip_check_skips_what_a_glob_brings_along(tmp_path, make_clip, capsys):
    folder = tmp_path / "samples"
    folder.mkdir()
    make_clip("one", frames=4, height=16, width=16).rename(folder / "one")
    (folder / "README.md").write_text("about the clips")
    assert main(["clip", "check", str(folder / "one"), str(folder / "README.md"), "--json"]) == 0
    captured = capsys.readouterr()
    assert [report["clip"] for report in json.loads(captured.out)] == ["one"]
    assert "skipped" in captured.err and "README.md" in captured.err
    assert main(["clip", "check", str(folder / "README.md")]) == 1
    assert "no clip folder" in capsys.readouterr().err
    assert main(["clip", "check", str(folder / "missing")]) == 1


@pytest.mark.parametrize("command", ["run", "bench"])
def test_run_and_bench_json_is_the_only_stdout(command, tmp_path, make_clip, capsys):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a", "b"):
        make_clip(name, frames=4, height=16, width=16).rename(clips / name)
    out = tmp_path / "run"
    arguments = [command, "--clips", f"{clips / 'a'},{clips / 'b'}", "--methods", "copy", "--out", str(out)]
    assert main([*arguments, "--metrics", "psnr", "--quiet", "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["cells"] == 2 and document["done"] == 2 and document["failed"] == []
    assert "cells done" in captured.err and "run+score" not in captured.err  # quiet: no bar, the summary on stderr
    if command == "bench":
        board = document["leaderboard"]
        assert board[0]["method"] == "copy" and board[0]["columns"][0]["ci_low"] is None  # 2 clips: no CI
        assert document["report"].endswith("index.html")


def test_score_shows_frame_progress_unless_quiet(tmp_path, make_clip, capsys):
    clip = make_clip("c", frames=6, height=16, width=16)
    output = clip / "input_video.mp4"
    assert main(["score", str(clip), str(output), "--metrics", "psnr", "--chunk-size", "2"]) == 0
    err = capsys.readouterr().err
    assert "score" in err and "6/6" in err
    assert main(["score", str(clip), str(output), "--metrics", "psnr", "--quiet", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["rows"]


def test_demo_says_finished_after_signing(monkeypatch, tmp_path, capsys):
    import forensics.provenance.demo_step as demo_step
    import void_eval.demo as demo

    def run_demo(out, *, progress):
        print(f"[4/4] report (progress={progress})")
        return 0

    def sign(run, echo):
        echo("provenance: signed")
        return 0

    monkeypatch.setattr(demo, "run_demo", run_demo)
    monkeypatch.setattr(demo_step, "sign_and_verify_run", sign)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[4/4] report (progress=False)" and lines[1] == "provenance: signed"
    assert lines[-1].startswith("demo finished in ")
