"""make_suite: determinism, refusing to overwrite, argument checks, the CLI and the previews."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from void_eval.cli import main
from void_eval.clip import Clip
from void_eval.errors import InputError, OutputError
from void_eval.suite.make import clip_seed, make_suite
from void_eval.suite.scenarios import build_scene
from void_eval.suite.spec import ObjectSpec
from void_eval.suite.textures import texture_image

SMALL = {"preset": "tiny", "clips": 2, "frames": 8, "size": (48, 80), "scenarios": "collision,occlusion"}


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_same_arguments_give_byte_identical_folders(tmp_path):
    first = make_suite(tmp_path / "a", seed=5, progress=False, workers=1, **SMALL)
    second = make_suite(tmp_path / "b", seed=5, progress=False, workers=2, **SMALL)
    assert [p.name for p in first] == [p.name for p in second] == ["000_collision", "001_occlusion"]
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert files_a.keys() == files_b.keys()
    assert len(files_a) == 2 * 8 + 1
    different = [name for name in files_a if files_a[name] != files_b[name]]
    assert different == []


def test_another_seed_gives_another_scene(tmp_path):
    make_suite(tmp_path / "a", seed=5, progress=False, workers=1, **SMALL)
    make_suite(tmp_path / "b", seed=6, progress=False, workers=1, **SMALL)
    meta_a = json.loads((tmp_path / "a" / "000_collision" / "meta.json").read_text())
    meta_b = json.loads((tmp_path / "b" / "000_collision" / "meta.json").read_text())
    assert meta_a["seed"] != meta_b["seed"] and meta_a["camera"] != meta_b["camera"]


def test_refuses_a_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        make_suite(out, progress=False, workers=1, **SMALL)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    (out / "007_chain").mkdir()  # an earlier suite's clip: replaced under force
    paths = make_suite(out, progress=False, workers=1, force=True, **SMALL)
    assert sorted(p.name for p in out.iterdir()) == ["000_collision", "001_occlusion", "keep.txt", "suite.json"]
    assert all(path.is_dir() for path in paths)
    assert not list(out.glob(".*"))  # no temporary folders left behind


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "huge"}, "unknown preset"),
        ({"scenarios": "occlusion,explosion"}, "unknown scenario"),
        ({"clips": 0}, "clips"),
        ({"frames": 1}, "frames"),
        ({"size": (8, 80)}, "size"),
        ({"seed": -1}, "seed"),
        ({"threshold": 255}, "threshold"),
        ({"dilation": -1}, "dilation"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        make_suite(tmp_path / "out", progress=False, **options)
    assert not (tmp_path / "out").exists()


def test_a_clip_too_short_for_its_event_is_refused_with_a_reason(tmp_path):
    with pytest.raises(ValueError, match="more frames"):
        make_suite(tmp_path / "out", preset="tiny", clips=1, frames=2, scenarios="collision", progress=False)


def test_clip_seeds_are_distinct_and_stable():
    seeds = {clip_seed(0, index, attempt) for index in range(50) for attempt in range(4)}
    assert len(seeds) == 200
    assert clip_seed(0, 0, 0) == clip_seed(0, 0, 0)


@pytest.mark.parametrize("family", ["occlusion", "shadow", "support", "collision", "chain"])
def test_scenes_are_deterministic_and_well_formed(family):
    first, second = build_scene(family, 11), build_scene(family, 11)
    assert first == second
    assert build_scene(family, 12) != first
    assert sum(obj.intended_role == "removed" for obj in first.objects) == 1
    for obj in first.objects:
        assert obj.position[2] >= obj.half_height - 1e-6 or obj.intended_role == "removed"


def test_object_spec_rejects_bad_values():
    with pytest.raises(ValueError, match="positive sizes"):
        ObjectSpec("x", "box", (0.1, 0.1), (0, 0, 0), (1, 2, 3), 1.0, "static")
    with pytest.raises(ValueError, match="color"):
        ObjectSpec("x", "sphere", (0.1,), (0, 0, 0), (1, 2, 300), 1.0, "static")


def test_textures_come_from_skimage_images():
    recipe = {"image": "grass", "tint": [255, 200, 150], "contrast": 0.5, "brightness": 1.0}
    image = texture_image(recipe)
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    assert image[..., 0].mean() > image[..., 2].mean()  # tinted warm
    assert image.std() > 5  # real texture, not flat colour
    with pytest.raises(ValueError, match="unknown texture"):
        texture_image({"image": "nope"})


def test_cli_make_and_preview(tmp_path, capsys):
    out = tmp_path / "suite"
    args = ["suite", "make", str(out), "--preset", "tiny", "--count", "2", "--frames", "6", "--size", "48x80"]
    assert main([*args, "--quiet", "--scenarios", "support,chain", "--workers", "1"]) == 0
    assert "wrote 2 clips" in capsys.readouterr().out
    assert main([*args, "--quiet"]) == 1  # not empty
    assert "not empty" in capsys.readouterr().err
    assert main(["suite", "make", str(tmp_path / "x"), "--size", "big"]) == 2
    assert main(["suite", "preview", str(out)]) == 0
    sheets = sorted(out.glob("preview_*.png"))
    assert [p.name for p in sheets] == ["preview_chain.png", "preview_support.png"]
    sheet = cv2.imread(str(sheets[0]))
    assert sheet.shape[1] == 4 * 80 + 3 * 2 and sheet.shape[0] == 4 * 48 + 3 * 2
    assert Clip.load(out / "000_support").scenario == "support"
    assert main([*args, "--quiet", "--force", "--count", "1", "--scenarios", "chain"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["000_chain", "suite.json"]  # earlier output cleared
    assert main(["suite", "preview", str(tmp_path / "missing")]) == 1


def test_suite_index_is_written_atomically(tmp_path, monkeypatch):
    import os

    options = {"preset": "tiny", "clips": 1, "frames": 8, "size": (48, 80), "scenarios": "collision"}
    real_replace = os.replace
    renamed = []

    def failing_replace(source, target):
        renamed.append((Path(source).name, Path(target).name))
        if Path(target).name == "suite.json":
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing_replace)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=r"suite.json: cannot write \(No space left on device \[ENOSPC\]\)"):
        make_suite(out, seed=5, progress=False, workers=1, **options)
    [(temp_name, _)] = [pair for pair in renamed if pair[1] == "suite.json"]
    assert temp_name.startswith(".suite.json.") and temp_name.endswith(".part")
    assert not (out / "suite.json").exists()  # no half-written index
    assert not list(out.glob(".suite.json*"))  # and no temporary file left behind
    monkeypatch.setattr(os, "replace", real_replace)
    make_suite(out, seed=5, progress=False, workers=1, force=True, **options)
    assert json.loads((out / "suite.json").read_text())["clips"] == ["000_collision"]
    assert (out / "suite.json").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
