"""Signing: the manifest's content, safety rules, callback signers, sidecars."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import textwrap

import cv2
import numpy as np
import pytest

from forensics.provenance.record import REMOVAL_LABEL
from forensics.provenance.sign import sign_file
from forensics.provenance.signer_callback import key_file_callback
from forensics.provenance.verify import verify_file
from void_eval.errors import InputError

EDITED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def test_actions_and_removal_record(signed, media, pki):
    from void_eval.quadmask import read_quadmask

    result = verify_file(signed["mp4"], trust=pki.root)
    opened, edited = result.actions
    assert opened["action"] == "c2pa.opened"
    assert edited["action"] == "c2pa.edited" and edited["digitalSourceType"] == EDITED
    assert edited["softwareAgent"]["name"] == "void-eval"
    assert edited["softwareAgent"]["org.voideval.method"] == "telea"
    assert "telea v1" in edited["description"]
    record = result.removal
    assert record["method"]["name"] == "telea"
    assert record["method"]["version"] == "1" and record["rewritten_levels"] == ["remove", "overlap"]
    mask_file = media.clip / "quadmask_0.mp4"
    assert record["quadmask"]["files"][0]["sha256"] == hashlib.sha256(mask_file.read_bytes()).hexdigest()
    expected = read_quadmask(mask_file).fractions()  # independent: whole mask in memory
    for name in ("remove", "overlap", "affected", "keep"):
        assert record["region_fractions"][name] == pytest.approx(expected[name], abs=1e-12)
    assert record["rewritten_fraction"] == pytest.approx(expected["remove"] + expected["overlap"])
    original_sha256 = hashlib.sha256(media.original_mp4.read_bytes()).hexdigest()
    assert record["clip"]["input_sha256"] == original_sha256
    assert record["parent"] == {
        "name": "input_video.mp4",
        "sha256": original_sha256,
        "bytes": media.original_mp4.stat().st_size,
        "c2pa_state": "NoManifest",  # the clip's input was never signed
        "c2pa_failures": [],
    }
    [parent] = result.ingredients
    assert (parent["title"], parent["relationship"], parent["state"]) == ("input_video.mp4", "parentOf", "NoManifest")


def test_signing_keeps_the_frames_and_adds_a_thumbnail(signed, media):
    from c2pa import Reader

    from void_eval.video import read_video

    assert np.array_equal(read_video(signed["mp4"]), read_video(media.edited_mp4))
    with open(signed["mp4"], "rb") as stream, Reader("video/mp4", stream) as reader:
        store = json.loads(reader.json())
        thumbnail = store["manifests"][store["active_manifest"]]["thumbnail"]
        buffer = io.BytesIO()
        reader.resource_to_stream(thumbnail["identifier"], buffer)
    image = cv2.imdecode(np.frombuffer(buffer.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    assert thumbnail["format"] == "image/jpeg" and image.shape == (48, 64, 3)


def test_never_overwrites_source_or_parent(media, pki, tmp_path):
    before = media.edited_png.read_bytes()
    for target in (media.edited_png, media.original_png):
        with pytest.raises(InputError, match="never overwrites"):
            sign_file(media.edited_png, parent=media.original_png, chain=pki.chain, key=pki.key, out=target)
    assert media.edited_png.read_bytes() == before


def test_existing_output_needs_force_and_suffix_must_match(media, pki, tmp_path):
    out = tmp_path / "s.png"
    out.write_bytes(b"old")
    kwargs = {"parent": media.original_png, "chain": pki.chain, "key": pki.key}
    with pytest.raises(InputError, match="already exists"):
        sign_file(media.edited_png, out=out, **kwargs)
    sign_file(media.edited_png, out=out, force=True, **kwargs)
    assert verify_file(out, trust=pki.root).state == "Trusted"
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a deliverable, not a private temp file
    assert [path.name for path in tmp_path.iterdir()] == ["s.png"]  # no temp files left behind
    with pytest.raises(InputError, match="suffix"):
        sign_file(media.edited_png, out=tmp_path / "s.jpg", **kwargs)


SIGNER_SCRIPT = """
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
der = key.sign(sys.stdin.buffer.read(), ec.ECDSA(hashes.SHA256()))
if sys.argv[2] == "raw":
    r, s = decode_dss_signature(der)
    sys.stdout.buffer.write(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
else:
    sys.stdout.buffer.write(der)
"""


@pytest.mark.parametrize("encoding", ["der", "raw"])
def test_signer_command(encoding, media, pki, tmp_path):
    script = tmp_path / "kms_sign.py"
    script.write_text(textwrap.dedent(SIGNER_SCRIPT))
    out = sign_file(
        media.edited_jpg,
        parent=media.original_jpg,
        chain=pki.chain,
        key=None,
        out=tmp_path / "s.jpg",
        signer_cmd=f"{sys.executable} {script} {pki.key} {encoding}",
    )
    assert verify_file(out, trust=pki.root).state == "Trusted"


def test_failing_signer_command_leaves_nothing(media, pki, tmp_path):
    command = f"{sys.executable} -c \"import sys; sys.stderr.write('HSM offline'); sys.exit(3)\""
    with pytest.raises(InputError, match="exited with 3: HSM offline"):
        sign_file(
            media.edited_mp4,
            parent=media.original_mp4,
            chain=pki.chain,
            key=None,
            out=tmp_path / "s.mp4",
            signer_cmd=command,
        )
    assert list(tmp_path.iterdir()) == []


def test_python_callable_signer(media, pki, tmp_path):
    calls = []

    def hsm(data: bytes) -> bytes:
        calls.append(len(data))
        return key_file_callback(pki.key)(data)

    out = sign_file(
        media.edited_mp4, parent=media.original_mp4, chain=pki.chain, key=None, out=tmp_path / "s.mp4", signer=hsm
    )
    assert calls and verify_file(out, trust=pki.root).state == "Trusted"


def test_callable_returning_a_wrong_signature_fails_at_signing(media, pki, tmp_path):
    with pytest.raises(InputError):
        sign_file(
            media.edited_png,
            parent=media.original_png,
            chain=pki.chain,
            key=None,
            out=tmp_path / "s.png",
            signer=lambda data: b"\x01" * 64,
        )
    assert not (tmp_path / "s.png").exists()


def test_sidecar_leaves_the_asset_untouched(media, pki, tmp_path):
    asset = tmp_path / "deliverable.mp4"
    asset.write_bytes(media.edited_mp4.read_bytes())
    store = sign_file(
        asset,
        parent=media.original_mp4,
        chain=pki.chain,
        key=pki.key,
        out=tmp_path / "deliverable.c2pa",
        clip=media.clip,
        method="telea",
        sidecar=True,
    )
    assert asset.read_bytes() == media.edited_mp4.read_bytes()
    result = verify_file(asset, trust=pki.root)  # finds deliverable.c2pa beside it
    assert (result.state, result.manifest_source) == ("Trusted", "sidecar")
    assert result.removal["method"]["name"] == "telea"
    other = tmp_path / "other.mp4"
    other.write_bytes(media.foreign_mp4.read_bytes())
    mismatch = verify_file(other, trust=pki.root, sidecar=store)
    assert mismatch.state == "Invalid" and "assertion.bmffHash.mismatch" in mismatch.failures


def test_metrics_summary_nan_becomes_null(media, pki, tmp_path):
    rows = [{"region": "remove", "metric": "psnr", "reference": "counterfactual", "value": float("nan")}]
    out = sign_file(
        media.edited_png,
        parent=media.original_png,
        chain=pki.chain,
        key=pki.key,
        out=tmp_path / "s.png",
        method="my-external-tool",
        metrics=rows,
    )
    record = verify_file(out, trust=pki.root).removal
    assert record["metrics"] == [rows[0] | {"value": None}]
    assert record["method"]["registered"] is False and record["rewritten_levels"] is None


def test_creation_without_parent(media, pki, tmp_path):
    out = sign_file(media.edited_png, parent=None, chain=pki.chain, key=pki.key, out=tmp_path / "chart.png")
    result = verify_file(out, trust=pki.root)
    assert [action["action"] for action in result.actions] == ["c2pa.created"]
    assert result.removal is None and result.ingredients == []


def test_removal_label_is_reverse_domain():
    assert REMOVAL_LABEL.split(".")[:2] == ["org", "voideval"]


def test_key_not_matching_the_certificate_fails_at_signing(media, pki, other_pki, tmp_path):
    """c2pa's verify_after_sign stays on: the signature is checked against the chain before anything is written."""
    with pytest.raises(InputError, match="signature does not match"):
        sign_file(
            media.edited_mp4, parent=media.original_mp4, chain=pki.chain, key=other_pki.key, out=tmp_path / "s.mp4"
        )
    assert list(tmp_path.iterdir()) == []
