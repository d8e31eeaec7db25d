"""Review fixes: tampered parents are refused, unsupported types are input errors, atomic writes, strict params."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from forensics.provenance.keys import make_dev_pki
from forensics.provenance.record import describe_method, removal_record
from forensics.provenance.sign import check_parent, sign_file
from forensics.provenance.verify import SUPPORTED_SUFFIXES, exit_code, verify_file
from tests.provenance.conftest import top_level_boxes
from void_eval.atomic import atomic_output, write_bytes_atomic, write_json_atomic
from void_eval.cli import main
from void_eval.errors import InputError, OutputError

BMFF_MISMATCH = "assertion.bmffHash.mismatch"


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture
def tampered_parent(signed, tmp_path) -> Path:
    """A signed mp4 with one bit flipped in its mdat (Invalid, assertion.bmffHash.mismatch)."""
    data = bytearray(signed["mp4"].read_bytes())
    [(offset, size)] = [(offset, size) for kind, offset, size in top_level_boxes(data) if kind == "mdat"][:1]
    data[offset + size // 2] ^= 1
    path = tmp_path / "tampered_parent.mp4"
    path.write_bytes(bytes(data))
    return path


# P1: the parent is verified before signing


def test_tampered_parent_is_refused_naming_parent_and_codes(tampered_parent, media, pki, tmp_path):
    out = tmp_path / "child.mp4"
    with pytest.raises(InputError, match="allow-invalid-parent") as caught:
        sign_file(media.edited_mp4, parent=tampered_parent, chain=pki.chain, key=pki.key, out=out, method="telea")
    message = str(caught.value)
    assert message.startswith(f"{tampered_parent}: ") and "Invalid" in message and BMFF_MISMATCH in message
    assert "\n" not in message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tampered_parent.mp4"]  # nothing written


def test_allow_invalid_parent_signs_and_records_the_parent_state(tampered_parent, media, pki, tmp_path):
    lines: list[str] = []
    child = sign_file(
        media.edited_mp4,
        parent=tampered_parent,
        chain=pki.chain,
        key=pki.key,
        out=tmp_path / "child.mp4",
        method="telea",
        allow_invalid_parent=True,
        trust=pki.root,
        echo=lines.append,
    )
    assert lines == [f"parent {tampered_parent}: Invalid ({BMFF_MISMATCH})"]
    result = verify_file(child, trust=pki.root)
    parent = result.removal["parent"]
    assert (parent["c2pa_state"], parent["c2pa_failures"], parent["signed_despite_invalid"]) == (
        "Invalid",
        [BMFF_MISMATCH],
        True,
    )
    assert result.state == "Trusted" and result.ingredients[0]["state"] == "Invalid"
    assert exit_code([result]) == 1  # the tampered ingredient still shows when verifying the child


def test_parent_state_is_recorded_trusted_valid_or_no_manifest(signed, media, pki, tmp_path):
    common = {"chain": pki.chain, "key": pki.key, "method": "telea"}
    trusted = sign_file(media.edited_png, parent=signed["png"], out=tmp_path / "a.png", trust=pki.root, **common)
    untrusted = sign_file(media.edited_png, parent=signed["png"], out=tmp_path / "b.png", **common)
    unsigned = sign_file(media.edited_png, parent=media.original_png, out=tmp_path / "c.png", **common)
    states = [verify_file(path).removal["parent"] for path in (trusted, untrusted, unsigned)]
    assert [(item["c2pa_state"], item["c2pa_failures"]) for item in states] == [
        ("Trusted", []),
        ("Valid", ["signingCredential.untrusted"]),
        ("NoManifest", []),
    ]
    assert "signed_despite_invalid" not in states[0]
    assert check_parent(signed["png"], trust=pki.root).line == f"parent {signed['png']}: Trusted"


def test_cli_refuses_a_tampered_parent_unless_allowed(capsys, tampered_parent, media, pki, tmp_path):
    out = tmp_path / "child.mp4"
    base = ("sign", media.edited_mp4, "--parent", tampered_parent, "--chain", pki.chain, "--key", pki.key)
    code, stdout, err = _run(capsys, *base, "--out", out)
    assert code == 1 and not out.exists()
    assert err.startswith(f"error: {tampered_parent}: ") and BMFF_MISMATCH in err and err.count("\n") == 1
    code, stdout, err = _run(capsys, *base, "--out", out, "--allow-invalid-parent", "--trust", pki.root)
    assert code == 0, err
    assert f"parent {tampered_parent}: Invalid ({BMFF_MISMATCH})" in stdout
    code, stdout, _ = _run(capsys, "sign", media.edited_png, "--parent", media.original_png, "--chain", pki.chain,
                           "--key", pki.key, "--out", tmp_path / "c.png")  # fmt: skip
    assert code == 0 and f"parent {media.original_png}: NoManifest" in stdout


# P2: unsupported file types are input errors, never "Invalid"


def test_unsupported_file_type_is_an_input_error(capsys, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a media file")
    with pytest.raises(InputError, match=re.escape("unsupported file type '.txt' (supported: ")):
        verify_file(notes)
    code, stdout, err = _run(capsys, "verify", notes)
    assert code == 2 and stdout == ""  # a usage error, never the Invalid state's 1
    assert err == f"error: {notes}: unsupported file type '.txt' (supported: {', '.join(SUPPORTED_SUFFIXES)})\n"
    bare = tmp_path / "README"
    bare.write_text("x")
    with pytest.raises(InputError, match=r"unsupported file type \(no suffix\)"):
        verify_file(bare)
    assert {".mp4", ".png", ".jpg", ".jpeg"} <= set(SUPPORTED_SUFFIXES)


@pytest.mark.parametrize("suffix", [".mp4", ".png", ".jpg"])
def test_renamed_non_media_file_is_an_input_error_not_invalid(suffix, tmp_path):
    fake = tmp_path / f"fake{suffix}"
    fake.write_text("hello, I am a text file")
    with pytest.raises(InputError, match=r"content is not (video/mp4|image/png|image/jpeg).*cannot be checked"):
        verify_file(fake)


# P3 / P5: atomic writes


def test_key_write_never_follows_a_planted_symlink(tmp_path):
    folder = tmp_path / "pki"
    folder.mkdir()
    stolen = tmp_path / "stolen.txt"
    stolen.write_text("")
    for name in ("signer.key.tmp", "root.pem.tmp", ".signer.key.part"):
        (folder / name).symlink_to(stolen)
    pki = make_dev_pki(folder)
    assert stolen.read_text() == ""  # the private key never went through the planted links
    assert not pki.key.is_symlink() and pki.key.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in pki.key.read_bytes()
    leftovers = sorted(path.name for path in folder.iterdir() if path.name.endswith((".tmp", ".part")))
    assert leftovers == [".signer.key.part", "root.pem.tmp", "signer.key.tmp"]  # only the planted links


def test_failed_write_leaves_no_temp_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "index.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    with pytest.raises(RuntimeError, match="mid-write"):
        with atomic_output(target) as handle:
            handle.write(b"half")
            raise RuntimeError("mid-write")

    def failing_fsync(descriptor):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OutputError, match=r"signer.key: cannot write \(I/O error \[EIO\]\)"):
        write_bytes_atomic(tmp_path / "signer.key", b"secret", mode=0o600, fsync=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.json"]
    assert target.read_text() == "old"


def test_atomic_write_modes(tmp_path):
    private = write_bytes_atomic(tmp_path / "k.key", b"k", mode=0o600)
    public = write_json_atomic(tmp_path / "v.json", [1, None])
    assert private.stat().st_mode & 0o777 == 0o600
    assert public.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert json.loads(public.read_text()) == [1, None]


# P4: bad method parameters are errors, not notes


def test_bad_method_parameter_is_refused_naming_it():
    with pytest.raises(InputError, match=r"^--param typo: method 'telea' has no parameter 'typo'"):
        removal_record(method="telea", params={"typo": 1})
    with pytest.raises(InputError, match=r"radius=-3.*radius must be"):
        removal_record(method="telea", params={"radius": -3})


def test_void_methods_missing_weights_is_a_note_but_bad_values_are_errors():
    """One test for the VOID methods: importing them (torch, diffusers) is the slow part."""
    with pytest.raises(InputError, match="steps"):
        describe_method("void-pass1", {"steps": 0})
    with pytest.raises(InputError, match="typo"):  # **kwargs constructor: caught when building
        describe_method("void-pass2", {"typo": 1})
    described = describe_method("void-pass1")  # no --base/--pass1 here: cannot be built, class facts are used
    assert described["version"] == "1" and "no base model folder" in described["note"]
    assert described["rewritten_levels"] == ["remove", "overlap", "affected"]
    tiny = describe_method("void-pass1", {"tiny_random": True})
    assert tiny["version"] == "1+tiny-random-NOT-VOID" and "note" not in tiny
    assert describe_method("telea", {"radius": 3})["version"] == "1"


def test_cli_sign_with_a_typo_parameter_fails_and_writes_nothing(capsys, media, pki, tmp_path):
    out = tmp_path / "signed.png"
    code, _, err = _run(capsys, "sign", media.edited_png, "--parent", media.original_png, "--chain", pki.chain,
                        "--key", pki.key, "--out", out, "--method", "telea", "--param", "typo=1")  # fmt: skip
    assert code == 1 and not out.exists()
    assert err.startswith("error: --param typo: method 'telea' has no parameter 'typo'")
