"""benchmarks/void_gpu.py: its shipped full-size configs build VOID's architecture; its plumbing runs on the CPU
with tiny configs; without CUDA it refuses clearly. (No GPU figure is produced here.)"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch

from void_eval.void.tiny import TINY_TEXT_DIM, tiny_transformer_config, tiny_vae

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "void_gpu.py"


def _load():
    spec = importlib.util.spec_from_file_location("void_gpu_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_configs(folder: Path, bench) -> Path:
    full = bench.load_configs(bench.CONFIGS)
    text = dict(full["text_encoder"], d_model=TINY_TEXT_DIM, d_kv=8, d_ff=37, num_layers=1, num_heads=4,
                num_decoder_layers=1, vocab_size=32, relative_attention_num_buckets=8)  # fmt: skip
    parts = {
        "transformer": dict(tiny_transformer_config(), add_noise_in_inpaint_model=True),
        "vae": {k: v for k, v in tiny_vae().config.items() if not k.startswith("_")},
        "text_encoder": text,
        "scheduler": full["scheduler"],
    }
    folder.mkdir()
    for name, config in parts.items():
        (folder / f"{name}.json").write_text(json.dumps(config))
    return folder


def test_shipped_configs_build_the_full_size_void_architecture():
    """On the meta device (no memory): 48-channel patch embedding, 42 blocks of 3072, T5-XXL, the CogVideoX VAE."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    bench = _load()
    configs = bench.load_configs(bench.CONFIGS)
    transformer_config = {k: v for k, v in configs["transformer"].items() if k != "add_noise_in_inpaint_model"}
    with init_empty_weights():
        transformer = CogVideoXTransformer3DModel.from_config(transformer_config)
        text_encoder = T5EncoderModel(T5Config(**configs["text_encoder"]))
        vae = AutoencoderKLCogVideoX.from_config(configs["vae"])
    text_encoder.tie_weights()  # as the benchmark does: one shared token embedding
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert (transformer.patch_embed.proj.in_features, transformer.patch_embed.proj.out_features) == (384, 3072)
    assert len(transformer.transformer_blocks) == 42 and 5.5e9 < count(transformer) < 5.8e9
    assert 4.75e9 < count(text_encoder) < 4.77e9 and text_encoder.config.d_model == 4096
    assert vae.config.latent_channels == 16 and 2.0e8 < count(vae) < 2.3e8


def test_plumbing_runs_on_the_cpu_with_tiny_configs(tmp_path, capsys):
    bench = _load()
    configs = _tiny_configs(tmp_path / "tiny", bench)
    out = tmp_path / "result.json"
    args = ["--configs", str(configs), "--device", "cpu", "--modes", "gpu", "--passes", "1,2", "--frames", "21",
            "--size", "32x48", "--steps", "1", "--steps2", "1", "--warp-scale", "2", "--canvas", "48x72",
            "--out", str(out)]  # fmt: skip
    assert bench.main(args) == 0
    printed = capsys.readouterr().out
    assert "NOT VOID figures" in printed and "upstream figures" in printed
    record = json.loads(out.read_text())
    assert record["not_void_figures"] is True and record["device"] == "cpu"
    assert [(row["mode"], row["pass"]) for row in record["rows"]] == [("gpu", 1), ("gpu", 2)]
    assert record["rows"][1]["warped_noise_s"] > 0 and record["rows"][0]["seconds"] > 0
    assert record["upstream"] == {"model-offload+fp8": {"seconds": 153.5, "peak_gib": 18.9},
                                  "gpu": {"seconds": 134.4, "peak_gib": 38.0}}  # fmt: skip


def test_refusals_are_one_line(capsys):
    bench = _load()
    assert bench.main(["--modes", "warp-speed"]) == 2
    assert "unknown memory modes" in capsys.readouterr().err
    assert bench.main(["--device", "cpu", "--modes", "model-offload"]) == 2
    assert "offload modes need CUDA" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert bench.main([]) == 2
        assert "needs a CUDA GPU" in capsys.readouterr().err
