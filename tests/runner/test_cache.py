"""Cache keys: everything a method's output or a score depends on is in its key."""

from __future__ import annotations

import json
from pathlib import Path

from void_eval.clip import Clip
from void_eval.hashing import cache_key
from void_eval.methods.registry import get_method
from void_eval.runner.cache import code_sha256, output_key_parts, scoring_code_files


def _output_key(folder: Path) -> str:
    return cache_key(output_key_parts("copy", get_method("copy"), Clip.load(folder)))


def test_editing_or_removing_the_prompt_changes_the_output_key(make_clip):
    folder = make_clip("prompted", frames=4)
    original = _output_key(folder)
    assert _output_key(folder) == original
    (folder / "prompt.json").write_text(json.dumps({"bg": "an empty street at dusk"}), encoding="utf-8")
    edited = _output_key(folder)
    assert edited != original
    (folder / "prompt.json").unlink()
    parts = output_key_parts("copy", get_method("copy"), Clip.load(folder))
    assert parts["prompt_sha256"] == "absent"
    assert cache_key(parts) not in {original, edited}


def test_scoring_code_hash_covers_core_modules(tmp_path):
    package = tmp_path / "pkg"
    (package / "metrics").mkdir(parents=True)
    (package / "metrics" / "psnr.py").write_text("A = 1\n")
    for name in ("video.py", "quadmask.py", "clip.py", "weights.py", "cli.py"):
        (package / name).write_text(f"# {name}\n")
    files = scoring_code_files(package)
    assert [path.relative_to(package).as_posix() for path in files] == [
        "clip.py",
        "metrics/psnr.py",
        "quadmask.py",
        "video.py",
        "weights.py",
    ]
    before = code_sha256(files, package)
    (package / "video.py").write_text("# decoding changed\n")
    assert code_sha256(scoring_code_files(package), package) != before
    real = {path.name for path in scoring_code_files()}
    assert {"video.py", "quadmask.py", "clip.py", "weights.py", "psnr.py"} <= real


def test_every_core_module_the_metrics_read_is_in_the_scoring_hash():
    """A change to how scored frames are decoded, aligned or labelled must invalidate cached scores."""
    import ast

    import void_eval
    from void_eval.runner.cache import SCORING_CORE_FILES

    package = Path(void_eval.__file__).parent
    no_values = {"errors", "cli_options", "registry"}  # messages, CLI options, the registry type: no numbers
    imported = set()
    for path in (package / "metrics").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("void_eval."):
                imported.add(node.module.split(".")[1])
    core = {name for name in imported if (package / f"{name}.py").is_file()} - no_values
    assert core and core <= {name.removesuffix(".py") for name in SCORING_CORE_FILES}
