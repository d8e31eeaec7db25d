"""The pieces that keep signing light and fast: the manifest helper process and the background output writer."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from forensics.provenance.background_writer import BackgroundWriter
from forensics.provenance.prepare import HelperError, prepare_inputs, start_preparation
from forensics.provenance.sign import sign_file
from forensics.provenance.verify import verify_file
from void_eval.errors import InputError, OutputError

REPO = Path(__file__).resolve().parents[2]


class CountingFile(io.BytesIO):
    """An in-memory file that records its write calls and can fail from the n-th one on."""

    def __init__(self, fail_from: int | None = None) -> None:
        super().__init__()
        self.write_calls = 0
        self.fail_from = fail_from

    def write(self, data) -> int:
        self.write_calls += 1
        if self.fail_from is not None and self.write_calls >= self.fail_from:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_background_writer_gives_the_same_bytes_as_the_file_itself():
    rng = np.random.default_rng(3)
    plain, raw = io.BytesIO(), CountingFile()
    with BackgroundWriter(raw, block_bytes=64, depth=2) as sink:
        for step in range(300):
            choice = rng.integers(0, 10)
            if choice < 7:
                data = rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
                assert sink.write(data) == len(data)
                plain.write(data)
            elif choice < 9:
                where = int(rng.integers(0, len(plain.getvalue()) + 1))
                assert sink.seek(where) == plain.seek(where)
            else:
                size = int(rng.integers(1, 50))
                assert sink.read(size) == plain.read(size)
            assert sink.tell() == plain.tell(), step
    assert raw.getvalue() == plain.getvalue()
    assert raw.write_calls < 300  # small writes reached the file as blocks


def test_background_writer_raises_a_write_error_and_stops():
    raw = CountingFile(fail_from=2)
    sink = BackgroundWriter(raw, block_bytes=8, depth=1)
    with pytest.raises(OSError, match="No space left"):
        for _ in range(100):
            sink.write(b"0123456789")
        sink.close()
    assert isinstance(sink.error, OSError)
    sink.abort()
    assert not sink._thread.is_alive()


@pytest.mark.parametrize("options", [{"block_bytes": 0}, {"depth": 0}])
def test_background_writer_refuses_bad_sizes(options):
    with pytest.raises(ValueError):
        BackgroundWriter(io.BytesIO(), **options)


def test_helper_process_builds_what_this_process_builds(media):
    request = {"file": media.edited_mp4, "thumbnail": True, "method": "telea", "params": {"radius": 4}}
    request |= {"clip": media.clip, "metrics": [{"region": "remove", "metric": "psnr", "value": float("nan")}]}
    here = prepare_inputs(**request)
    there = start_preparation(**request).result()
    assert there.record == here.record
    assert there.thumbnail == here.thumbnail and there.thumbnail.startswith(b"\xff\xd8")
    assert there.record["metrics"][0]["value"] is None
    assert there.helper_peak_rss_mb > 0 and here.helper_peak_rss_mb is None


def test_helper_process_errors_keep_their_kind_and_message(media, tmp_path):
    bad_param = {"file": None, "thumbnail": False, "method": "telea", "params": {"radiuss": 4}}
    with pytest.raises(InputError) as inline:
        prepare_inputs(**bad_param)
    with pytest.raises(InputError) as child:
        start_preparation(**bad_param).result()
    assert str(child.value) == str(inline.value) and "radiuss" in str(child.value)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(4000))
    with pytest.raises(InputError, match="no decodable video frame"):
        start_preparation(file=broken, thumbnail=True).result()


def _crashing_python(folder: Path) -> Path:
    fake_python = folder / "python"
    fake_python.write_text("#!/bin/sh\necho 'helper exploded' >&2\nkill -SEGV $$\n")
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IXUSR)
    return fake_python


def test_a_dying_helper_is_a_helper_error_with_its_message(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(_crashing_python(tmp_path)))
    with pytest.raises(HelperError, match="exited with -11: helper exploded"):
        start_preparation(file=None, thumbnail=False, method="copy").result()


def test_a_crashed_helper_fails_signing_on_one_line_naming_the_file(monkeypatch, media, pki, tmp_path):
    (tmp_path / "bin").mkdir()
    monkeypatch.setattr(sys, "executable", str(_crashing_python(tmp_path / "bin")))
    out = tmp_path / "out" / "signed.mp4"
    out.parent.mkdir()
    with pytest.raises(InputError) as caught:
        sign_file(media.edited_mp4, parent=media.original_mp4, chain=pki.chain, key=pki.key, out=out, method="telea")
    message = str(caught.value)
    assert str(media.edited_mp4) in message and "helper exploded" in message and "\n" not in message
    assert list(out.parent.iterdir()) == []


def test_the_helper_never_imports_from_the_working_folder(monkeypatch, tmp_path):
    marker = tmp_path / "planted_module_ran"
    (tmp_path / "base64.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.chdir(tmp_path)
    inputs = start_preparation(file=None, thumbnail=False, method="telea", params={"radius": 3}).result()
    assert inputs.record["method"]["name"] == "telea" and not marker.exists()


def test_bad_key_and_non_finite_parameters_are_refused_before_any_work(monkeypatch, media, pki, tmp_path):
    def no_helper(**_):
        raise AssertionError("the helper must not start")

    monkeypatch.setattr("forensics.provenance.sign.start_preparation", no_helper)
    loose_key = tmp_path / "loose.key"
    loose_key.write_bytes(Path(pki.key).read_bytes())
    loose_key.chmod(0o644)
    common = {"parent": media.original_mp4, "chain": pki.chain, "method": "telea"}
    with pytest.raises(InputError, match="accessible by group/others"):
        sign_file(media.edited_mp4, key=loose_key, out=tmp_path / "a.mp4", **common)
    with pytest.raises(InputError, match="parameter radius: must be a finite number, got nan"):
        sign_file(media.edited_mp4, key=pki.key, out=tmp_path / "b.mp4", params={"radius": float("nan")}, **common)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["loose.key"]


SIGN_AND_LIST_MODULES = """
import json, sys
from forensics.provenance.sign import sign_file
out = sign_file(sys.argv[1], parent=sys.argv[2], chain=sys.argv[3], key=sys.argv[4], out=sys.argv[5],
                clip=sys.argv[6], method="telea", isolate=sys.argv[7] == "1")
print(json.dumps(sorted(name for name in ("av", "cv2", "numpy") if name in sys.modules)))
"""


@pytest.mark.parametrize(("isolate", "expected"), [("1", []), ("0", ["av", "cv2", "numpy"])])
def test_signing_process_never_loads_the_heavy_libraries(isolate, expected, media, pki, tmp_path):
    out = tmp_path / "signed.mp4"
    arguments = [media.edited_mp4, media.original_mp4, pki.chain, pki.key, out, media.clip, isolate]
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SIGN_AND_LIST_MODULES), *map(str, arguments)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected
    assert verify_file(out, trust=pki.root).state == "Trusted"


def test_isolated_and_inline_signing_record_the_same(media, pki, tmp_path):
    records = []
    for isolate in (True, False):
        out = sign_file(
            media.edited_mp4,
            parent=media.original_mp4,
            chain=pki.chain,
            key=pki.key,
            out=tmp_path / f"signed_{isolate}.mp4",
            clip=media.clip,
            method="telea",
            isolate=isolate,
        )
        result = verify_file(out, trust=pki.root)
        assert result.state == "Trusted"
        records.append(result.removal)
    assert records[0] == records[1]


def test_a_failed_write_is_an_output_error_and_leaves_nothing(monkeypatch, media, pki, tmp_path):
    def no_space(self, block):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BackgroundWriter, "_write_all", no_space)
    out = tmp_path / "signed.mp4"
    with pytest.raises(OutputError) as err:
        sign_file(media.edited_mp4, parent=media.original_mp4, chain=pki.chain, key=pki.key, out=out)
    assert str(err.value) == f"{out}: cannot write (No space left on device [ENOSPC])"
    assert list(tmp_path.iterdir()) == []
