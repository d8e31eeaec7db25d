"""Tamper catalogue: each change to a signed file gives the documented state and validation code."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from forensics.provenance.sign import sign_file
from forensics.provenance.verify import exit_code, verify_file
from tests.provenance.conftest import top_level_boxes

BMFF_MISMATCH = "assertion.bmffHash.mismatch"
DATA_MISMATCH = "assertion.dataHash.mismatch"


def _copy_with(path: Path, out: Path, edit) -> Path:
    data = bytearray(path.read_bytes())
    out.write_bytes(bytes(edit(data)))
    return out


def _box(data: bytes, kind: str, index: int = 0) -> tuple[int, int]:
    boxes = [(offset, size) for name, offset, size in top_level_boxes(data) if name == kind]
    assert boxes, f"no {kind} box"
    return boxes[index]


def _flip_in_box(kind: str, *, at: float = 0.5):
    def edit(data: bytearray) -> bytearray:
        offset, size = _box(data, kind)
        position = offset + 16 + int((size - 16) * at)
        data[position] ^= 0x01
        return data

    return edit


@pytest.mark.parametrize("variant", ["mp4", "foreign"])
def test_bit_flip_in_mdat_is_invalid(signed, pki, tmp_path, variant):
    tampered = _copy_with(signed[variant], tmp_path / "t.mp4", _flip_in_box("mdat"))
    result = verify_file(tampered, trust=pki.root)
    assert (result.state, result.failures) == ("Invalid", [BMFF_MISMATCH])
    assert exit_code([result]) == 1


def test_byte_in_moov_is_invalid(signed, pki, tmp_path):
    tampered = _copy_with(signed["mp4"], tmp_path / "t.mp4", _flip_in_box("moov", at=0.3))
    result = verify_file(tampered, trust=pki.root)
    assert result.state == "Invalid" and BMFF_MISMATCH in result.failures


def test_appended_mdat_is_invalid(signed, pki, tmp_path):
    payload = b"\x00" * 64
    tampered = _copy_with(
        signed["mp4"], tmp_path / "t.mp4", lambda d: d + struct.pack(">I", 8 + 64) + b"mdat" + payload
    )
    result = verify_file(tampered, trust=pki.root)
    assert (result.state, result.failures) == ("Invalid", [BMFF_MISMATCH])


def test_appended_free_box_is_excluded_by_design(signed, pki, tmp_path):
    tampered = _copy_with(signed["mp4"], tmp_path / "t.mp4", lambda d: d + struct.pack(">I", 16) + b"free" + bytes(8))
    assert verify_file(tampered, trust=pki.root).state == "Trusted"


def _flip_signature(data: bytearray) -> bytearray:
    label = data.find(b"c2pa.signature\x00")
    assert label > 0
    start = data.rfind(b"jumb", 0, label) - 4  # the signature superbox
    size = int.from_bytes(data[start : start + 4], "big")
    data[start + size - 1] ^= 0x01  # the last byte of the COSE signature
    return data


@pytest.mark.parametrize("kind", ["mp4", "png", "jpg"])
def test_signature_byte_is_invalid(signed, pki, tmp_path, kind):
    tampered = _copy_with(signed[kind], tmp_path / f"t.{kind}", _flip_signature)
    result = verify_file(tampered, trust=pki.root)
    assert result.state == "Invalid" and "claimSignature.mismatch" in result.failures


def test_stripped_manifest_has_no_manifest(signed, pki, tmp_path):
    def strip(data: bytearray) -> bytearray:
        offset, size = _box(data, "uuid")
        return data[:offset] + data[offset + size :]

    tampered = _copy_with(signed["mp4"], tmp_path / "t.mp4", strip)
    result = verify_file(tampered, trust=pki.root)
    assert (result.state, exit_code([result])) == ("NoManifest", 3)


def test_reencode_has_no_manifest(signed, pki, tmp_path):
    from void_eval.video import read_video, write_video

    out = write_video(tmp_path / "re.mp4", read_video(signed["mp4"]), 10.0, kind="h264")
    assert verify_file(out, trust=pki.root).state == "NoManifest"


def test_untrusted_ingredient_is_reported_under_a_trusted_top_level(media, pki, other_pki, tmp_path):
    parent = sign_file(
        media.original_mp4, parent=None, chain=other_pki.chain, key=other_pki.key, out=tmp_path / "parent.mp4"
    )
    child = sign_file(media.edited_mp4, parent=parent, chain=pki.chain, key=pki.key, out=tmp_path / "child.mp4")
    result = verify_file(child, trust=pki.root)
    assert result.state == "Trusted" and result.failures == []
    [ingredient] = result.ingredients
    assert (ingredient["state"], ingredient["failures"]) == ("Valid", ["signingCredential.untrusted"])
    assert exit_code([result]) == 4  # never hidden behind the trusted top level
    # trusting the parent's root too makes the ingredient trusted (c2pa re-checks it at read time)
    both = tmp_path / "both.pem"
    both.write_bytes(pki.root.read_bytes() + other_pki.root.read_bytes())
    again = verify_file(child, trust=both)
    assert again.ingredients[0]["state"] == "Trusted" and exit_code([again]) == 0


def test_wrong_trust_anchor_is_valid_untrusted(signed, other_pki):
    result = verify_file(signed["mp4"], trust=other_pki.root)
    assert (result.state, result.failures, exit_code([result])) == ("Valid", ["signingCredential.untrusted"], 4)


def test_no_trust_given_is_valid_untrusted(signed):
    assert verify_file(signed["png"]).state == "Valid"


def _png_edit_idat(data: bytearray) -> bytearray:
    offset = 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8])
        if kind == b"IDAT":
            position = offset + 8 + length // 2
            data[position] ^= 0x01
            crc = zlib.crc32(bytes(data[offset + 4 : offset + 8 + length]))  # keep the chunk well-formed
            data[offset + 8 + length : offset + 12 + length] = crc.to_bytes(4, "big")
            return data
        offset += 12 + length
    raise AssertionError("no IDAT chunk")


def test_png_data_edit_is_invalid(signed, pki, tmp_path):
    tampered = _copy_with(signed["png"], tmp_path / "t.png", _png_edit_idat)
    result = verify_file(tampered, trust=pki.root)
    assert (result.state, result.failures) == ("Invalid", [DATA_MISMATCH])


def _jpeg_edit_scan(data: bytearray) -> bytearray:
    start = data.rfind(b"\xff\xda")  # start of scan (the manifest sits in APP11 segments before it)
    length = int.from_bytes(data[start + 2 : start + 4], "big")
    position = start + 2 + length + 20
    data[position] = data[position] ^ 0x10 if data[position] not in (0xFF, 0xEF) else 0x11
    return data


def test_jpeg_data_edit_is_invalid(signed, pki, tmp_path):
    tampered = _copy_with(signed["jpg"], tmp_path / "t.jpg", _jpeg_edit_scan)
    result = verify_file(tampered, trust=pki.root)
    assert (result.state, result.failures) == ("Invalid", [DATA_MISMATCH])


def test_untampered_files_are_trusted(signed, pki):
    for path in signed.values():
        result = verify_file(path, trust=pki.root)
        assert (result.state, result.failures, exit_code([result])) == ("Trusted", [], 0), path


def test_corrupt_manifest_store_is_invalid_and_says_why(signed, pki, tmp_path):
    def scramble_claim(data: bytearray) -> bytearray:
        position = data.find(b"c2pa.claim") + 40
        data[position : position + 16] = b"\xff" * 16
        return data

    tampered = _copy_with(signed["mp4"], tmp_path / "t.mp4", scramble_claim)
    result = verify_file(tampered, trust=pki.root)
    # c2pa cannot decode the claim: the code c2pa-rs logs for it, and c2pa's own message
    assert (result.state, result.failures, exit_code([result])) == ("Invalid", ["claim.malformed"], 1)
    assert "claim could not be converted from CBOR" in result.detail
