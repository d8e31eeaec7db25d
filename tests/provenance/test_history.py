"""Trust over a whole history, with files the toolkit signs itself: a three-signer chain, re-signing, remote
manifests, specific c2pa codes, ``verify --json`` keyed by manifest label, usage errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from forensics.provenance.keys import make_dev_pki
from forensics.provenance.sign import sign_file
from forensics.provenance.verify import exit_code, verify_file
from void_eval.cli import main
from void_eval.errors import InputError


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _anchors(path: Path, *pkis) -> Path:
    path.write_bytes(b"".join(pki.root.read_bytes() for pki in pkis))
    return path


@pytest.fixture(scope="module")
def chain(media, tmp_path_factory):
    """child (key A) <- parent (key B) <- grandparent (key C) <- the unsigned original."""
    folder = tmp_path_factory.mktemp("chain")
    a, b, c = (make_dev_pki(folder / name) for name in "abc")
    grandparent = sign_file(media.edited_png, parent=media.original_png, chain=c.chain, key=c.key,
                            out=folder / "grandparent.png", method="telea")  # fmt: skip
    parent = sign_file(media.edited_png, parent=grandparent, chain=b.chain, key=b.key, out=folder / "parent.png")
    child = sign_file(media.edited_png, parent=parent, chain=a.chain, key=a.key, out=folder / "child.png")
    return {"a": a, "b": b, "c": c, "child": child, "parent": parent, "grandparent": grandparent, "folder": folder}


def test_an_untrusted_parent_between_trusted_signers_is_never_reported_trusted(chain, capsys):
    trust = _anchors(chain["folder"] / "a_c.pem", chain["a"], chain["c"])
    result = verify_file(chain["child"], trust=trust)
    assert (result.state, result.failures) == ("Trusted", [])  # the child's own manifest
    [parent] = result.ingredients
    assert (parent["title"], parent["state"], parent["failures"]) == ("parent.png", "Valid", [UNTRUSTED])
    states = [result.manifests[label]["state"] for label in result.history()]
    assert states == ["Trusted", "Valid", "Trusted"]  # child, parent, grandparent: each judged on its own
    assert result.worst_state == "Valid" and exit_code([result]) == 4
    assert verify_file(chain["parent"], trust=trust).state == "Valid"  # the parent alone says the same
    code, out, _ = _run(capsys, "verify", chain["child"], "--trust", trust)
    assert code == 4 and "worst in its history: Valid" in out
    everyone = _anchors(chain["folder"] / "abc.pem", chain["a"], chain["b"], chain["c"])
    assert _run(capsys, "verify", chain["child"], "--trust", everyone)[0] == 0
    only_a = _anchors(chain["folder"] / "a.pem", chain["a"])
    assert [verify_file(chain["child"], trust=only_a).manifests[label]["state"] for label in result.history()] == [
        "Trusted",
        "Valid",
        "Valid",
    ]


UNTRUSTED = "signingCredential.untrusted"


def test_json_lists_every_manifest_and_ingredient_keyed_by_label(chain, capsys):
    trust = _anchors(chain["folder"] / "a_c2.pem", chain["a"], chain["c"])
    code, out, _ = _run(capsys, "verify", chain["child"], "--trust", trust, "--json")
    [payload] = json.loads(out)
    assert code == 4
    assert (payload["state"], payload["failures"], payload["worst_state"]) == ("Trusted", [], "Valid")
    manifests = payload["manifests"]
    assert len(manifests) == 3 and payload["active_manifest"] in manifests
    assert all(label.startswith("urn:c2pa:") for label in manifests)
    by_title = {entry["ingredients"][0]["title"]: (label, entry) for label, entry in manifests.items()}
    assert set(by_title) == {"parent.png", "grandparent.png", "original.png"}
    parent_label, _ = by_title["grandparent.png"]  # the manifest whose ingredient is the grandparent: the parent's
    assert (manifests[parent_label]["state"], manifests[parent_label]["failures"]) == ("Valid", [UNTRUSTED])
    assert manifests[parent_label]["ingredients"][0]["state"] == "Trusted"
    assert by_title["original.png"][1]["ingredients"][0]["state"] == "NoManifest"
    assert by_title["original.png"][1]["removal"]["method"]["name"] == "telea"


def test_resigning_keeps_the_history_or_is_refused(chain, media, tmp_path):
    a = chain["a"]
    again = sign_file(chain["child"], parent=None, chain=a.chain, key=a.key, out=tmp_path / "again.png")
    result = verify_file(again, trust=_anchors(tmp_path / "all.pem", chain["a"], chain["b"], chain["c"]))
    assert [action["action"] for action in result.actions] == ["c2pa.opened"]
    assert result.ingredients[0]["title"] == "child.png" and result.ingredients[0]["state"] == "Trusted"
    assert len(result.history()) == 4 and result.worst_state == "Trusted"  # nothing dropped
    assert result.removal is None  # a re-signature declares no edit of its own ...
    assert result.declared_removal() == result.manifests[result.history()[1]]["removal"]  # ... the child's counts
    records = [result.manifests[label]["removal"] for label in result.history()[1:]]
    assert records[-1]["method"]["name"] == "telea"  # and the grandparent's is still there
    with pytest.raises(InputError, match="already carries a C2PA manifest .* would drop that history.*--force"):
        sign_file(chain["child"], parent=media.original_png, chain=a.chain, key=a.key, out=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    forced = sign_file(chain["child"], parent=media.original_png, chain=a.chain, key=a.key,
                       out=tmp_path / "forced.png", force=True)  # fmt: skip
    replaced = verify_file(forced).removal["replaced_manifest"]
    assert replaced["active_manifest"].startswith("urn:c2pa:") and replaced["state"] == "Valid"


def test_a_remote_manifest_is_never_fetched_and_has_its_own_exit_code(media, pki, tmp_path, capsys):
    url = "https://manifests.example.com/edited.c2pa"
    code, out, err = _run(capsys, "sign", media.edited_jpg, "--parent", media.original_jpg, "--chain", pki.chain,
                          "--key", pki.key, "--out", tmp_path / "edited.jpg", "--remote-url", url)  # fmt: skip
    assert code == 0, err
    store = tmp_path / "edited.c2pa"
    assert f"manifest store {store}: publish it at {url}" in out
    beside = verify_file(tmp_path / "edited.jpg", trust=pki.root)  # the local copy of the store is used
    assert (beside.state, beside.manifest_source, beside.remote_url) == ("Trusted", "sidecar", url)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tmp_path / "edited.jpg", alone / "edited.jpg")
    result = verify_file(alone / "edited.jpg", trust=pki.root)
    assert (result.state, result.remote_url, exit_code([result])) == ("Remote", url, 5)
    code, out, _ = _run(capsys, "verify", alone / "edited.jpg", "--trust", pki.root, "--json")
    assert code == 5 and json.loads(out)[0]["remote_url"] == url
    code, out, _ = _run(capsys, "verify", alone / "edited.jpg", "--trust", pki.root, "--sidecar", store)
    assert code == 0 and out.startswith(f"{alone / 'edited.jpg'}: Trusted (sidecar manifest)")


def test_an_unreadable_manifest_keeps_its_specific_code(signed, pki, tmp_path):
    data = bytearray(signed["png"].read_bytes())
    claim = data.find(b"c2pa.claim")
    at = data.find(b"\x63alg", claim)  # the claim's CBOR key "alg" (its hash algorithm)
    data[at + 1 : at + 4] = b"alx"  # c2pa-rs: no hash algorithm -> algorithm.unsupported
    tampered = tmp_path / "no_alg.png"
    tampered.write_bytes(bytes(data))
    result = verify_file(tampered, trust=pki.root)
    assert (result.state, result.failures, exit_code([result])) == ("Invalid", ["algorithm.unsupported"], 1)
    assert "unknown algorithm" in result.detail


def test_usage_errors_exit_2_and_name_the_problem(signed, pki, tmp_path, capsys):
    folder = tmp_path / "a_folder.mp4"
    folder.mkdir()
    not_pem = tmp_path / "trust.pem"
    not_pem.write_text("not a certificate")
    cases = [
        ((tmp_path / "missing.mp4",), "file not found"),
        ((folder,), "is a directory, not a file"),
        ((tmp_path / "notes.txt",), "unsupported file type '.txt'"),
        ((signed["png"], "--trust", not_pem), "trust anchor file holds no PEM certificate"),
        ((signed["png"], "--trust", tmp_path), "trust anchor file is a directory"),
        ((signed["png"], "--trust", tmp_path / "none.pem"), "trust anchor file not found"),
    ]
    (tmp_path / "notes.txt").write_text("x")
    for args, message in cases:
        code, out, err = _run(capsys, "verify", *args)
        assert (code, out) == (2, ""), args
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    code, out, _ = _run(capsys, "verify", signed["png"], tmp_path / "missing.png", "--trust", pki.root)
    assert (code, out) == (2, "")  # nothing is verified when one FILE cannot be
    with pytest.raises(InputError, match="is a directory, not a file"):
        sign_file(folder, parent=None, chain=pki.chain, key=pki.key, out=tmp_path / "x.mp4")
