"""A second, independent C2PA implementation (@trustnxt/c2pa-ts, pure TypeScript under node) checks our files.

c2pa-ts does not check certificate chains, so it confirms hashes, signatures and structure, not trust. It must
also reject a tampered file, or agreement would mean nothing. Install it with
``npm ci --prefix tools/c2pa-ts`` (``make test`` does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.provenance.conftest import top_level_boxes

TOOL = Path(__file__).resolve().parents[2] / "tools" / "c2pa-ts"


def _c2pa_ts(*files: Path) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the independent C2PA check needs node >= 18")
    if not (TOOL / "node_modules" / "@trustnxt" / "c2pa-ts").is_dir():
        pytest.fail(f"@trustnxt/c2pa-ts is not installed: run `npm ci --prefix {TOOL}`")
    done = subprocess.run(
        [node, str(TOOL / "verify.mjs"), *map(str, files)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_signed_files_verify_with_c2pa_ts(signed):
    reports = _c2pa_ts(signed["mp4"], signed["foreign"], signed["png"], signed["jpg"])
    for report in reports:
        assert report["has_manifest"] and report["valid"], report
        assert report["errors"] == []
        assert "org.voideval.removal" in report["assertions"] and "c2pa.actions.v2" in report["assertions"]
    hashes = [code for report in reports for code in report["codes"] if code.endswith("Hash.match")]
    assert hashes == ["assertion.bmffHash.match"] * 2 + ["assertion.dataHash.match"] * 2


def test_c2pa_ts_rejects_a_tampered_mp4(signed, tmp_path):
    data = bytearray(signed["mp4"].read_bytes())
    [(offset, size)] = [(offset, size) for kind, offset, size in top_level_boxes(data) if kind == "mdat"][:1]
    data[offset + size // 2] ^= 0x01
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    [report] = _c2pa_ts(tampered)
    assert report["has_manifest"] and not report["valid"]
    assert "assertion.bmffHash.mismatch" in report["errors"]


def test_a_repackaged_large_file_verifies_with_c2pa_ts(large_foreign, media, pki, tmp_path):
    from forensics.provenance.sign import sign_file

    out = sign_file(large_foreign, parent=media.original_mp4, chain=pki.chain, key=pki.key, out=tmp_path / "s.mp4")
    [report] = _c2pa_ts(out)
    assert report["has_manifest"] and report["valid"] and report["errors"] == [], report
    assert "assertion.bmffHash.match" in report["codes"]
