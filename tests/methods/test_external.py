"""The ``external`` method: every shipped recipe run end to end through ``void-eval bench`` against a fake checkout.

The fakes (``fake_tools/``) copy each upstream script's command line, input layout and output layout and write a
blurred fill of the hole they read, so a recipe that prepares the wrong input (mask polarity or levels, frame
count, size), calls the script wrongly or reads the wrong output fails here.
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest

from tests.methods.conftest import FAKE_FOR_RECIPE
from void_eval.cli import main
from void_eval.methods.recipe import load_recipe, shipped_recipes
from void_eval.runner.results import read_results

#: Frames and size of the test clip, and the size each recipe's tool writes at (height, width).
FRAMES, HEIGHT, WIDTH = 6, 36, 52
TOOL_SIZE = {
    "diffueraser": [176, 256],  # scaled up to a 256 px long side, sides rounded down to multiples of 8
    "e2fgvi": [HEIGHT, WIDTH],
    "lama": [HEIGHT, WIDTH],
    "minimax-remover": [480, 832],
    "propainter": [HEIGHT, WIDTH],
    "rose": [480, 720],
    "void-pass1": [384, 672],
    "void-pass2": [384, 672],
}
TOOL_FRAMES = {"diffueraser": 22, "minimax-remover": 81, "rose": 17, "void-pass1": 85, "void-pass2": 85}


def _bench_args(suite, run, repos: dict[str, str], raw) -> list[str]:
    args = ["bench", "--clips", str(suite), "--out", str(run), "--metrics", "psnr", "--quiet"]
    args += ["--methods", "copy"]
    for recipe in shipped_recipes():
        args += ["--methods", f"{recipe}=external"]
        args += ["--param", f"{recipe}.recipe={recipe}", "--param", f"{recipe}.repo={repos[recipe]}"]
        args += ["--param", f"{recipe}.python={sys.executable}"]
        if "cpu" not in load_recipe(recipe).devices:
            args += ["--param", f"{recipe}.device=cuda"]  # the fakes ignore it; the real tools need a GPU
    return [*args, "--param", f"void-pass1.keep_raw={raw}", "--param", f"void-pass2.pass1_dir={raw}"]


def test_bench_runs_every_shipped_recipe_against_its_fake(make_clip, fake_checkout, tmp_path):
    make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH)
    checkouts = {fake: fake_checkout(fake) for fake in sorted(set(FAKE_FOR_RECIPE.values()))}
    repos = {recipe: checkouts[FAKE_FOR_RECIPE[recipe]] for recipe in shipped_recipes()}
    assert set(repos) == set(TOOL_SIZE)  # a new shipped recipe needs a fake and a row here
    run, raw = tmp_path / "run", tmp_path / "pass1-raw"
    assert main(_bench_args(tmp_path, run, repos, raw)) == 0
    cells = {cell["method"]: cell for cell in json.loads((run / "run.json").read_text())["cells"]}
    for recipe in shipped_recipes():
        cell = cells[recipe]
        assert cell["status"] == "done", (recipe, cell["error"])
        record = cell["method_run"]
        assert record["source_size"] == TOOL_SIZE[recipe], recipe
        assert record["source_frames"] == TOOL_FRAMES.get(recipe, FRAMES), recipe
        assert record["trimmed_frames"] == TOOL_FRAMES.get(recipe, FRAMES) - FRAMES
        assert record["tool_revision"]["git"] and record["tool_revision"]["dirty"] is None
        assert cell["frames"] == FRAMES
    assert (raw / "c0-fg=-1-0001.mp4").is_file() and not list(raw.glob("*_tuple.mp4"))
    psnr = read_results(run).query("metric == 'psnr' and reference == 'counterfactual'")
    remove = psnr[psnr.region == "remove"].set_index("method")["value"]
    for recipe in shipped_recipes():  # each fake filled the hole it was given: far closer to the truth than the input
        assert remove[recipe] > remove["copy"] + 3, (recipe, remove.to_dict())
    affected = psnr[psnr.region == "affected"].set_index("method")["value"]
    assert affected["void-pass1"] > affected["propainter"]  # VOID was given the affected level too, ProPainter not


def _propainter_specs(repo, **params) -> tuple:
    from void_eval.runner.plan import parse_method_specs

    items = [f"pp.recipe={params.pop('recipe', 'propainter')}", f"pp.repo={repo}", f"pp.python={sys.executable}"]
    items += [f"pp.{key}={value}" for key, value in params.items()]
    return parse_method_specs("pp=external", items)


def _run(root, specs, run_dir):
    from void_eval.runner.cell import RunOptions
    from void_eval.runner.run import run_benchmark

    return run_benchmark(root, specs, run_dir, options=RunOptions(metrics=("psnr",)), progress=False)


def test_user_recipe_file_runs_like_a_shipped_one(make_clip, fake_checkout, tmp_path):
    """A copy of the ProPainter recipe that reads the tool's mp4 instead of its PNG frames, given by path."""
    make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH)
    repo = fake_checkout("propainter")
    text = load_recipe("propainter").source.read_text()
    text = text.replace('kind = "frames"\npath = "{work}/results/{clip}/frames"\nglob = "*.png"', "")
    text = text.replace("[output]\n", '[output]\nkind = "video"\npath = "{work}/results/{clip}/inpaint_out.mp4"\n')
    user = tmp_path / "my_propainter.toml"
    user.write_text(text)
    run = tmp_path / "run"
    code = main(
        ["run", "--clips", str(tmp_path), "--methods", "mine=external", "--param", f"mine.recipe={user}",
         "--param", f"mine.repo={repo}", "--param", f"mine.python={sys.executable}", "--out", str(run),
         "--metrics", "psnr", "--quiet"]
    )  # fmt: skip
    assert code == 0
    cell = json.loads((run / "run.json").read_text())["cells"][0]
    assert cell["method_run"]["source"].endswith("inpaint_out.mp4") and cell["frames"] == FRAMES


def test_cache_key_follows_checkout_weights_and_params(make_clip, fake_checkout, tmp_path):
    make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH)
    repo = fake_checkout("propainter")
    run = tmp_path / "run"
    assert _run(tmp_path, _propainter_specs(repo), run).ok
    assert _run(tmp_path, _propainter_specs(repo), run).cells[0].output_cached
    assert _run(tmp_path, _propainter_specs(repo, keep_work=True), run).cells[0].output_cached  # not in the key
    assert not _run(tmp_path, _propainter_specs(repo, mask_dilation=2), run).cells[0].output_cached
    (repo / "weights" / "ProPainter.pth").write_bytes(b"other weights")
    assert not _run(tmp_path, _propainter_specs(repo, mask_dilation=2), run).cells[0].output_cached
    script = repo / "inference_propainter.py"
    script.write_text(script.read_text() + "\n# a local edit\n")
    edited = _run(tmp_path, _propainter_specs(repo, mask_dilation=2), run).cells[0]
    assert not edited.output_cached and edited.output_record["last_run"]["tool_revision"]["dirty"]
    record = json.loads((run / "cells" / "pp" / "c0" / "output.json").read_text())
    parts = record["parts"]["fingerprint"]
    assert parts["recipe"] == "propainter" and len(parts["recipe_sha256"]) == 64
    assert set(parts["weights_sha256"]) == {
        str(repo / "weights" / n) for n in ("ProPainter.pth", "recurrent_flow_completion.pth", "raft-things.pth")
    }


def _break(repo, old: str, new: str) -> None:
    script = repo / "inference_propainter.py"
    text = script.read_text()
    assert old in text
    script.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "args = parser.parse_args()\n",
            "args = parser.parse_args()\nraise RuntimeError('CUDA out of memory')\n",
            "exited with status 1; last stderr lines:.*RuntimeError: CUDA out of memory",
        ),
        (
            "    for idx, frame in enumerate(out):",
            "    for idx, frame in enumerate(out[1:]):",
            "has 5 frames, expected the 6 it was given",
        ),
        (
            "        cv2.imwrite(path, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))",
            "        cv2.imwrite(path, cv2.cvtColor(frame[:-2], cv2.COLOR_RGB2BGR))",
            "wrote frames of 52x34, expected 52x36 .the size it was given",
        ),
        ("if args.save_frames:", "if False:", "exited normally but wrote no output at .*frames"),
    ],
    ids=["fails", "frames", "size", "nothing"],
)
def test_a_broken_tool_fails_its_cell_and_nothing_is_cached(make_clip, fake_checkout, tmp_path, old, new, message):
    make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH)
    repo = fake_checkout("propainter")
    _break(repo, old, new)
    run = tmp_path / "run"
    summary = _run(tmp_path, _propainter_specs(repo), run)
    cell = summary.cells[0]
    assert cell.status == "failed" and cell.stage == "run"
    assert re.search(message, cell.error, flags=re.S), cell.error
    assert "work folder kept" in cell.error
    folder = run / "cells" / "pp" / "c0"
    assert not (folder / "output.json").exists() and not (folder / "output.mp4").exists()
    _break(repo, new, old)  # fixed: the cell runs (it was not recorded as done)
    again = _run(tmp_path, _propainter_specs(repo), run).cells[0]
    assert again.status == "done" and not again.output_cached


def test_missing_tool_weights_or_interpreter_are_named(make_clip, fake_checkout, tmp_path):
    make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH)
    repo = fake_checkout("propainter")
    cases = [
        (_propainter_specs(tmp_path / "nowhere"), "ProPainter checkout not found"),
        (_propainter_specs(tmp_path), "has no inference_propainter.py: not a ProPainter checkout"),
        (_propainter_specs(repo, python=str(tmp_path / "no-python")), "python interpreter not found"),
        (_propainter_specs(repo, recipe="lama"), "LaMa .per frame. runs on cpu only|has no bin/predict.py"),
    ]
    for number, (specs, message) in enumerate(cases):
        cell = _run(tmp_path, specs, tmp_path / f"run{number}").cells[0]
        assert cell.status == "failed" and re.search(message, cell.error), cell.error
    (repo / "weights" / "raft-things.pth").unlink()
    cell = _run(tmp_path, _propainter_specs(repo), tmp_path / "run-w").cells[0]
    assert "raft-things.pth: ProPainter weights not found" in cell.error


def test_recipe_errors_name_the_file_and_the_key(tmp_path):
    from void_eval.errors import InputError
    from void_eval.methods.registry import get_method

    with pytest.raises(InputError, match="no such shipped recipe; did you mean propainter"):
        load_recipe("propaint")
    text = load_recipe("propainter").source.read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('"--mask", "{mask}"', '"--mask", "{maks}"'))
    with pytest.raises(InputError, match=r"bad.toml: \[run\] command: unknown value\(s\) \{maks\}"):
        load_recipe(bad)
    bad.write_text(text.replace('polarity = "white"', 'polarity = "whit"'))
    with pytest.raises(InputError, match=r"\[mask\] polarity: must be one of white, black"):
        load_recipe(bad)
    bad.write_text(text.replace('[output]\nkind = "frames"\n', "[output]\n"))
    with pytest.raises(InputError, match=r"bad.toml: \[output\]: needs kind"):
        load_recipe(bad)
    bad.write_text(text.replace("[input]\n", "[input]\nsizes = 3\n"))
    with pytest.raises(InputError, match=r"\[input\]: unknown key\(s\) sizes"):
        load_recipe(bad)
    with pytest.raises(TypeError, match="recipe propainter has no parameter.s. mask_dilaton .its params: mask_dil"):
        get_method("external", recipe="propainter", repo=tmp_path, mask_dilaton=3)
    with pytest.raises(ValueError, match="recipe void-pass2 needs pass1_dir"):
        get_method("external", recipe="void-pass2", repo=tmp_path)


def test_command_device_and_conditional_flags(tmp_path, capsys):
    from void_eval.methods.registry import get_method

    method = get_method("external", recipe="propainter", repo=tmp_path, device="cuda:1", fp16=True)
    values = {**method._base_values(), **method.options, "work": "/w", "clip": "c", "input": "/w/c", "mask": "/w/m"}
    values |= {"fps_int": 12}
    argv, cwd, env = method._command(values)
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and argv[-1] == "--fp16" and cwd == tmp_path.resolve()
    assert argv[argv.index("--video") + 1] == "/w/c" and argv[argv.index("--mask_dilation") + 1] == "4"
    cpu = get_method("external", recipe="propainter", repo=tmp_path, device="cpu")
    argv, _, env = cpu._command({**values, **cpu.options})
    assert env["CUDA_VISIBLE_DEVICES"] == "" and "--fp16" not in argv
    assert main(["recipes"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in shipped_recipes()) and "tested against fake tools" in listed
    assert main(["recipes", "void-pass2"]) == 0
    assert "pass1_dir" in capsys.readouterr().out


def test_a_tool_that_hangs_is_stopped(make_clip, fake_checkout, tmp_path):
    make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH)
    repo = fake_checkout("propainter")
    _break(repo, "args = parser.parse_args()\n", "args = parser.parse_args()\nimport time\ntime.sleep(60)\n")
    cell = _run(tmp_path, _propainter_specs(repo, timeout=1, work_root=tmp_path / "work"), tmp_path / "run").cells[0]
    assert cell.status == "failed" and "ProPainter did not finish within 1 s and was stopped" in cell.error
    assert f"work folder kept: {tmp_path / 'work'}" in cell.error


IDENTITY_RECIPE = """
[tool]
name = "identity"
script = "identity.py"
[input]
kind = "{kind}"
path = "{{work}}/in{suffix}"
[mask]
kind = "{kind}"
path = "{{work}}/mask{suffix}"
[run]
command = ["{{python}}", "{{repo}}/identity.py", "{{input}}", "{{work}}/out{suffix}"]
[output]
kind = "{kind}"
path = "{{work}}/out{suffix}"
"""


@pytest.mark.parametrize("kind", ["frames", "video"])
def test_a_tool_returning_its_input_gives_the_input_back_exactly(make_clip, tmp_path, kind):
    """Known truth: what external prepares and reads back loses nothing (PNG frames, lossless video)."""
    from void_eval.clip import Clip
    from void_eval.methods.registry import get_method
    from void_eval.video import read_video

    clip = Clip.load(make_clip("c0", frames=FRAMES, height=HEIGHT, width=WIDTH))
    tool = tmp_path / "tool"
    tool.mkdir()
    copy = "shutil.copytree" if kind == "frames" else "shutil.copyfile"
    (tool / "identity.py").write_text(f"import shutil, sys\n{copy}(sys.argv[1], sys.argv[2])\n")
    recipe = tmp_path / "identity.toml"
    recipe.write_text(IDENTITY_RECIPE.format(kind=kind, suffix=".mp4" if kind == "video" else ""))
    method = get_method("external", recipe=str(recipe), repo=tool, python=sys.executable)
    output = method.run(clip, tmp_path / "out.mp4")
    np.testing.assert_array_equal(read_video(output), read_video(clip.input_path))
    assert method.last_run["tool_revision"] == {"script_sha256": method.identity()["tool_revision"]["script_sha256"]}
