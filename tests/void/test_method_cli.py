"""End to end on a real clip (BigBen, tiny): outputs aligned with the input, recorded, clearly labelled.
Tiny random-weight runs are NOT VOID results."""

from __future__ import annotations

import json

import pytest

from void_eval.cli import main
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.base import Method
from void_eval.methods.registry import METHODS, get_method
from void_eval.video import probe
from void_eval.void.method import VoidPass1Method, VoidPass2Method

TINY = ["--tiny-random", "--device", "cpu", "--size", "16x32", "--steps", "1", "--window-frames", "21"]


def test_cli_runs_pass1_on_bigben_and_writes_an_aligned_labelled_output(bigben_tiny, tmp_path, capsys):
    code = main(["void", "run", str(bigben_tiny), "--out", str(tmp_path), *TINY])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("TINY RANDOM WEIGHTS - NOT A VOID RESULT") == 2
    video = tmp_path / "BigBen-tiny-void-pass1-TINY-RANDOM-NOT-VOID.mp4"
    info, clip = probe(video), Clip.load(bigben_tiny)
    assert (info.frames, info.height, info.width, info.fps) == (clip.frames, clip.height, clip.width, clip.fps)
    record = json.loads(video.with_suffix(".json").read_text())
    assert record["version"] == "1+tiny-random-NOT-VOID" and record["padded_frames"] == 21
    assert record["trimmed_from"] == 21 and record["resized_with"] == "bicubic" and record["input_frames"] == 10
    assert "TINY RANDOM WEIGHTS - NOT A VOID RESULT" in record["notes"]


def test_pass2_method_through_the_registry():
    method = get_method("void-pass2", tiny_random=True, device="cpu", size=(16, 32), steps2=3, window_frames=21)
    assert isinstance(method, Method) and isinstance(method, VoidPass2Method)
    assert method.params["steps2"] == 3 and method.weights_sha256 is None
    assert method.version == "1+tiny-random-NOT-VOID" and VoidPass2Method.version == "1"


def test_defaults_are_upstreams():
    one = VoidPass1Method(tiny_random=True, device="cpu")
    two = VoidPass2Method(tiny_random=True, device="cpu")
    assert (one.size, one.steps, one.guidance, one.seed, one.dtype, one.window_frames) == (
        (384, 672),
        30,
        1.0,
        42,
        "bfloat16",
        85,
    )
    assert (two.steps2, two.guidance2, two.negative_prompt) == (50, 6.0, "")
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
    [({"size": (20, 32)}, "multiples of 16"), ({"window_frames": 13}, ">= 21"), ({"memory_mode": "x"}, "memory_mode")],
)
def test_bad_parameters_are_value_errors(options, message):
    with pytest.raises(ValueError, match=message):
        VoidPass1Method(tiny_random=True, **options)
