"""End to end on a real clip (BigBen, tiny): outputs aligned with the input, recorded, clearly labelled.
Tiny random-weight runs are NOT VOID results."""

from __future__ import annotations

import json

import pytest
import torch

from void_eval.cli import main
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.base import Method
from void_eval.methods.registry import METHODS, get_method
from void_eval.video import probe
from void_eval.void.passes import VoidPass1Method, VoidPass2Method

CUDA = torch.cuda.is_available()


def test_the_smoke_command_runs_with_no_other_option(bigben_tiny, tmp_path, capsys):
    """``void-eval void run CLIP --tiny-random --out OUT``: device auto, tiny size, steps and window."""
    code = main(["void", "run", str(bigben_tiny), "--out", str(tmp_path), "--tiny-random"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("TINY RANDOM WEIGHTS - NOT A VOID RESULT") == 2
    video = tmp_path / "BigBen-tiny-void-pass1-TINY-RANDOM-NOT-VOID.mp4"
    info, clip = probe(video), Clip.load(bigben_tiny)
    assert (info.frames, info.height, info.width, info.fps) == (clip.frames, clip.height, clip.width, clip.fps)
    record = json.loads(video.with_suffix(".json").read_text())
    assert record["version"] == "1+tiny-random-NOT-VOID" and record["padded_frames"] == 21
    assert record["trimmed_from"] == 21 and record["resized_with"] == "bicubic" and record["input_frames"] == 10
    assert record["params"]["size"] == [32, 48] and record["params"]["steps"] == 2
    assert record["params"]["dtype"] == "float32" and record["device"] == ("cuda" if CUDA else "cpu")
    assert "TINY RANDOM WEIGHTS - NOT A VOID RESULT" in record["notes"]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_two_pass_smoke_run_records_the_warped_noise(bigben_tiny, tmp_path):
    code = main(["void", "run", str(bigben_tiny), "--out", str(tmp_path), "--tiny-random", "--two-pass"])
    assert code == 0
    record = json.loads((tmp_path / "BigBen-tiny-void-pass2-TINY-RANDOM-NOT-VOID.json").read_text())
    noise = record["pass2"]["noise"]
    assert noise["scheme"] == "upstream" and noise["flow"] == "dis-medium" and noise["canvas"] == [48, 72]
    assert noise["latent_frames"] == 6 and noise["picked"] == [0, 3, 6, 10, 13, 17]
    assert record["params"]["pass2_noise"] == "upstream" and record["version"] == "2+tiny-random-NOT-VOID"
    assert record["rng"]["seeding"] == "upstream" and record["rng"]["noise_aug"] == "upstream"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--size", "384x672"], "error: void run: size 384x672 exceeds the largest the tiny random transformer takes"),
        (["--size", "20x32"], "error: void run: size must be multiples of 16"),
        (["--size", "big"], "error: --size: must be HEIGHTxWIDTH"),
        (["--window-frames", "13"], "error: void run: window_frames must be >= 21"),
        (["--window-frames", "30"], "error: void run: min_length must be 4k+1 with k odd"),
        (["--two-pass", "--warp-scale", "3"], "error: void run: warp_scale must be even"),
        (["--seeding", "sometimes"], "error: void run: seeding must be one of"),
    ],
)
def test_what_the_model_cannot_take_is_one_line_before_any_work(bigben_tiny, tmp_path, capsys, options, message):
    code = main(["void", "run", str(bigben_tiny), "--out", str(tmp_path / "out"), "--tiny-random", *options])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(CUDA, reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it_is_one_line(bigben_tiny, tmp_path, capsys):
    code = main(["void", "run", str(bigben_tiny), "--out", str(tmp_path), "--tiny-random", "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: --device: cuda asked for, but this torch sees no CUDA GPU")


def test_pass2_method_through_the_registry():
    method = get_method("void-pass2", tiny_random=True, device="cpu", size=(16, 32), steps2=3)
    assert isinstance(method, Method) and isinstance(method, VoidPass2Method)
    assert method.params["steps2"] == 3 and method.weights_sha256 is None
    assert method.version == "2+tiny-random-NOT-VOID" and VoidPass2Method.version == "2"
    assert VoidPass1Method.version == "1"


def test_defaults_are_upstreams_and_tiny_runs_have_their_own():
    def loader(number):
        raise AssertionError("not built")

    one = VoidPass1Method(pipeline_loader=loader)
    two = VoidPass2Method(pipeline_loader=loader)
    assert (one.size, one.steps, one.guidance, one.seed, one.dtype, one.window_frames) == (
        (384, 672),
        30,
        1.0,
        42,
        "bfloat16",
        85,
    )
    assert (one.seeding, one.params["noise_aug"], one.device) == ("upstream", "upstream", "cuda" if CUDA else "cpu")
    assert (two.steps2, two.guidance2, two.negative_prompt, two.pass2_noise) == (50, 6.0, "", "upstream")
    assert (two.warp_scale, two.noise_canvas, two.warp_seed, two.params["flow"]) == (
        8,
        (480, 720),
        67280421310721,
        "dis-medium",
    )
    tiny = VoidPass2Method(tiny_random=True)
    assert (tiny.size, tiny.steps, tiny.steps2, tiny.dtype, tiny.window_frames) == ((32, 48), 2, 2, "float32", 21)
    assert (tiny.noise_canvas, tiny.warp_scale) == ((48, 72), 2)
    assert {"void-pass1", "void-pass2"} <= set(METHODS.names())


def test_missing_weights_are_errors_naming_the_file(tmp_path, bigben_tiny, capsys):
    with pytest.raises(InputError, match="base model folder not found"):
        VoidPass1Method(base=tmp_path / "absent", pass1=tmp_path / "p1.safetensors")
    base = tmp_path / "base"
    for part in (
        "transformer/config.json",
        "vae/config.json",
        "text_encoder/config.json",
        "tokenizer/x",
        "scheduler/scheduler_config.json",
    ):
        (base / part).parent.mkdir(parents=True, exist_ok=True)
        (base / part).write_text("{}")
    with pytest.raises(InputError, match="needs void_pass1.safetensors"):
        VoidPass1Method(base=base)
    first = tmp_path / "p1.safetensors"
    first.write_bytes(b"")
    with pytest.raises(InputError, match="p2.safetensors: weights file not found"):
        VoidPass2Method(base=base, pass1=first, pass2=tmp_path / "p2.safetensors")
    code = main(
        [
            "void",
            "run",
            str(bigben_tiny),
            "--out",
            str(tmp_path),
            "--base",
            str(tmp_path / "nowhere"),
            "--pass1",
            str(tmp_path / "p1.safetensors"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and "nowhere" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": (20, 32)}, "multiples of 16"),
        ({"size": (528, 48)}, "528x48 exceeds"),
        ({"window_frames": 13}, ">= 21"),
        ({"memory_mode": "x"}, "memory_mode"),
        ({"noise_aug": "x"}, "noise_aug"),
        ({"pass2_noise": "x"}, "pass2_noise"),
        ({"noise_canvas": (50, 72)}, "noise_canvas"),
    ],
)
def test_bad_parameters_are_value_errors(options, message):
    with pytest.raises(ValueError, match=message):
        VoidPass2Method(tiny_random=True, **options)
