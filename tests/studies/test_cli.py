"""``void-eval study design`` and ``void-eval study analyze`` through the real CLI entry point."""

from __future__ import annotations

import json

import pandas as pd

from studies.simulate import fixture_path
from void_eval.cli import main


def test_design_with_clip_names(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(
        [
            "study",
            "design",
            "--methods",
            "void,propainter,telea",
            "--clips",
            "a,b,c",
            "--participants",
            "6",
            "--mode",
            "pairwise",
            "--questions",
            "plausibility,artifacts",
            "--out",
            str(out),
            "--seed",
            "3",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "balanced: yes" in printed and "media_manifest.csv" in printed
    design = json.loads((out / "design.json").read_text())
    assert design["seed"] == 3 and design["balance"]["balanced"] and design["mode"] == "pairwise"
    assert sorted(p.name for p in (out / "site" / "packets").iterdir()) == [f"P0{i}.html" for i in range(1, 7)]
    trials = pd.read_csv(out / "trials.csv")
    assert set(trials.participant) == {f"P0{i}" for i in range(1, 7)} and trials.attention.sum() == 12
    manifest = pd.read_csv(out / "media_manifest.csv")
    assert set(manifest.method) == {"void", "propainter", "telea", "copy-input"}
    # refuses to overwrite; a missing clips folder path is an input error
    assert main(["study", "design", "--methods", "a,b", "--clips", "x", "--participants", "2", "--out", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (
        main(
            [
                "study",
                "design",
                "--methods",
                "a,b",
                "--clips",
                str(tmp_path / "nope/"),
                "--participants",
                "2",
                "--out",
                str(tmp_path / "o2"),
            ]
        )
        == 1
    )
    assert capsys.readouterr().err.startswith("error: ")


def test_analyze_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VOID_EVAL_STUDY_SALT", "cli-test")
    out = tmp_path / "analysis"
    code = main(
        [
            "study",
            "analyze",
            str(fixture_path("pairwise_4x20.csv")),
            "--out",
            str(out),
            "--bootstrap",
            "100",
            "--methods",
            "void,minimax-remover,propainter,telea",
            "--no-plots",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "excluded 2" in printed and "ties:" in printed
    pairwise = pd.read_csv(out / "pairwise.csv")
    assert pairwise.method_a.iloc[0] == "void" and len(pairwise) == 12
    summary = json.loads((out / "summary.json").read_text())
    assert "given by the user" in summary["pseudonymisation"] and "cli-test" not in (out / "summary.json").read_text()
    assert not (out / "forest.png").exists()


def test_analyze_cli_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("participant,trial,clip,question,options,choice,rt_ms,attention\nP1,0,c,q,a|b,zz,5,false\n")
    assert main(["study", "analyze", str(bad), "--out", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {bad}: line 2: choice 'zz' is not one of the options a|b or 'tie'"
    )
    folder = tmp_path / "split"
    folder.mkdir()
    text = fixture_path("pairwise_4x20.csv").read_text()
    (folder / "one.csv").write_text(text)
    (folder / "two.csv").write_text(text)
    assert main(["study", "analyze", str(folder), "--out", str(tmp_path / "o")]) == 1
    assert "is also in" in capsys.readouterr().err


def test_analyze_checks_responses_against_the_design(tmp_path, capsys):
    from studies.design import design_to_json_text
    from studies.responses import format_responses
    from studies.simulate import fixture_studies

    design, frame, _ = fixture_studies()["pairwise_4x20"]
    folder = tmp_path / "design"
    folder.mkdir()
    design.trials_frame().to_csv(folder / "trials.csv", index=False)
    (folder / "design.json").write_text(design_to_json_text(design))
    out = tmp_path / "analysis"
    args = ["study", "analyze", "--out", str(out), "--bootstrap", "50", "--no-plots", "--salt", "s"]
    assert main([*args, str(fixture_path("pairwise_4x20.csv")), "--design", str(folder)]) == 0
    check = json.loads((out / "summary.json").read_text())["design_check"]
    assert check["screens_answered"] == check["design_screens"] == len(design.trials)
    assert check["unanswered_screens_of_responding_participants"] == 0
    swapped = frame.copy()
    swapped.loc[4, "options"] = tuple(reversed(swapped.loc[4, "options"]))
    swapped.loc[4, "choice"] = swapped.loc[4, "options"][0]
    bad = tmp_path / "swapped.csv"
    bad.write_text(format_responses(swapped))
    capsys.readouterr()
    assert main([*args, str(bad), "--design", str(folder / "trials.csv")]) == 1
    assert "line 6: options" in capsys.readouterr().err


def test_power_cli(capsys):
    assert (
        main(["study", "power", "--margin", "0.09", "--win-rate", "0.65", "--per-participant", "5", "--icc", "0.1"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "104 decided judgments per pair" in printed and "1.40" in printed and "(margin: 146)" in printed


def test_design_with_a_clips_folder(tmp_path, capsys):
    import numpy as np

    from void_eval.video import write_video

    clips = tmp_path / "clips"
    for clip in ("beach", "street"):
        (clips / clip).mkdir(parents=True)
        for name in ("void", "telea", "input_video"):
            write_video(clips / clip / f"{name}.mp4", np.full((4, 16, 16, 3), 100, np.uint8), 8.0)
    out = tmp_path / "study"
    assert (
        main(
            [
                "study",
                "design",
                "--methods",
                "void,telea",
                "--clips",
                str(clips),
                "--participants",
                "2",
                "--out",
                str(out),
                "--forced-choice",
            ]
        )
        == 0
    )
    manifest = pd.read_csv(out / "media_manifest.csv")
    assert len(manifest) == 6 and all((out / path).is_file() for path in manifest.media_file)
    assert not any(name in path for path in manifest.media_file for name in ("void", "telea", "input"))
    assert json.loads((out / "design.json").read_text())["allow_tie"] is False
    (clips / "street" / "telea.mp4").unlink()
    capsys.readouterr()
    assert (
        main(
            [
                "study",
                "design",
                "--methods",
                "void,telea",
                "--clips",
                str(clips),
                "--participants",
                "2",
                "--out",
                str(tmp_path / "o2"),
            ]
        )
        == 1
    )
    assert capsys.readouterr().err.strip() == f"error: {clips / 'street' / 'telea.mp4'}: output video missing"


def test_analyze_cli_reports_only_validation_errors_as_input_errors(tmp_path, capsys, monkeypatch):
    import pytest

    import studies.analysis

    args = ["study", "analyze", str(fixture_path("pairwise_4x20.csv")), "--out", str(tmp_path / "o")]
    args += ["--bootstrap", "20", "--no-plots", "--salt", "s"]
    # a bad method order is the user's input problem: one error line, exit 1
    assert main([*args, "--methods", "void,telea"]) == 1
    assert "not in the given order" in capsys.readouterr().err

    def broken(*_args, **_kwargs):
        raise ValueError("internal fault")

    monkeypatch.setattr(studies.analysis, "position_bias", broken)
    with pytest.raises(ValueError, match="internal fault"):  # a bug is not blamed on the responses file
        main(args)


def test_power_and_analyze_print_json(tiny_csv, tmp_path, capsys):
    arguments = ["study", "power", "--margin", "0.09", "--win-rate", "0.65", "--per-participant", "5", "--icc", "0.1"]
    assert main([*arguments, "--json"]) == 0
    power = json.loads(capsys.readouterr().out)
    assert power["judgments_for_margin"] == 104 and power["judgments_for_margin_with_design_effect"] == 146
    assert power["design_effect"] == 1.4 and power["judgments_for_power"] > 0
    out = tmp_path / "analysis"
    assert (
        main(["study", "analyze", str(tiny_csv), "--out", str(out), "--bootstrap", "50", "--no-plots", "--json"]) == 0
    )
    printed = capsys.readouterr().out
    summary = json.loads(printed)  # the one document, nothing else on stdout
    assert summary["exclusions"]["participants"] == 4 and str(out / "summary.json") in summary["files"]


def test_design_clips_take_the_shared_list_form(tmp_path, capsys):
    common = ["study", "design", "--methods", "a,b", "--participants", "2"]
    assert main([*common, "--clips", "c1,c2", "--clips", "c3", "--out", str(tmp_path / "s1")]) == 0
    design = json.loads((tmp_path / "s1" / "design.json").read_text())
    assert sorted(design["clips"]) == ["c1", "c2", "c3"]
    capsys.readouterr()
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main([*common, "--clips", f"{folder},c1", "--out", str(tmp_path / "s2")]) == 1
    assert "give one clips folder" in capsys.readouterr().err
