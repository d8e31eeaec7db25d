"""Development PKI: files, modes, extensions c2pa needs, every algorithm signs and verifies."""

from __future__ import annotations

import os

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from forensics.provenance.keys import DEV_MARK, algorithm_of_chain, make_dev_pki, read_private_key_pem
from forensics.provenance.sign import sign_file
from forensics.provenance.verify import verify_file
from void_eval.errors import InputError


def test_files_modes_and_marking(pki):
    assert oct(pki.key.stat().st_mode & 0o777) == "0o600"
    assert DEV_MARK in (pki.folder / "README.txt").read_text()
    root = x509.load_pem_x509_certificate(pki.root.read_bytes())
    signer, intermediate = x509.load_pem_x509_certificates(pki.chain.read_bytes())
    for certificate in (root, intermediate, signer):
        assert "NOT FOR PRODUCTION" in certificate.subject.rfc4514_string()
    assert intermediate.issuer == root.subject and signer.issuer == intermediate.subject
    basic = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 1
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    leaf_basic = signer.extensions.get_extension_for_class(x509.BasicConstraints)
    assert leaf_basic.critical and not leaf_basic.value.ca
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ca_usage = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert ca_usage.critical and ca_usage.value.key_cert_sign and ca_usage.value.crl_sign
    purposes = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in purposes
    assert ObjectIdentifier("1.3.6.1.5.5.7.3.36") in purposes
    signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


@pytest.mark.parametrize("algorithm", ["ps256", "ed25519", "es384"])
def test_each_algorithm_signs_and_verifies(algorithm, media, tmp_path):
    pki = make_dev_pki(tmp_path / "pki", algorithm=algorithm)
    assert algorithm_of_chain(pki.chain) == algorithm
    out = sign_file(media.edited_png, parent=media.original_png, chain=pki.chain, key=pki.key, out=tmp_path / "s.png")
    result = verify_file(out, trust=pki.root)
    assert result.state == "Trusted", result.failures
    assert result.signer["alg"].lower() == algorithm


def test_refuses_to_overwrite_without_force(pki):
    with pytest.raises(InputError, match="--force"):
        make_dev_pki(pki.folder)


def test_key_readable_by_others_is_refused(pki, tmp_path):
    loose = tmp_path / "loose.key"
    loose.write_bytes(pki.key.read_bytes())
    os.chmod(loose, 0o644)
    with pytest.raises(InputError, match=r"group/others \(mode 0644\).*chmod 600") as caught:
        read_private_key_pem(loose)
    assert "PRIVATE KEY" not in str(caught.value)


def test_bad_key_message_has_no_key_bytes(tmp_path):
    bogus = tmp_path / "bogus.key"
    bogus.write_text("secret-material-0123456789")
    os.chmod(bogus, 0o600)
    with pytest.raises(InputError) as caught:
        read_private_key_pem(bogus)
    assert "secret-material" not in str(caught.value)


def test_an_encrypted_key_needs_its_passphrase_from_the_environment(media, tmp_path, capsys, monkeypatch):
    from void_eval.cli import main

    monkeypatch.setenv("DEV_KEY_PASSPHRASE", "correct horse battery staple")
    keys = tmp_path / "keys"
    assert main(["keys", "dev", str(keys), "--key-password-env", "DEV_KEY_PASSPHRASE"]) == 0
    assert "encrypted" in capsys.readouterr().out
    assert b"ENCRYPTED PRIVATE KEY" in (keys / "signer.key").read_bytes()
    base = ["sign", str(media.edited_png), "--parent", str(media.original_png), "--chain", str(keys / "chain.pem"),
            "--key", str(keys / "signer.key")]  # fmt: skip
    out = tmp_path / "signed.png"

    def run(*extra) -> tuple[int, str]:
        code = main([*base, "--out", str(out), *extra])
        return code, capsys.readouterr().err

    code, err = run()
    assert code == 1 and err.count("\n") == 1 and "is encrypted" in err and "--key-password-env VAR" in err
    code, err = run("--key-password-env", "UNSET_PASSPHRASE_VARIABLE")
    assert (
        code == 1
        and err == "error: --key-password-env: environment variable UNSET_PASSPHRASE_VARIABLE is not set (or empty)\n"
    )
    monkeypatch.setenv("WRONG_PASSPHRASE", "wrong")
    code, err = run("--key-password-env", "WRONG_PASSPHRASE")
    assert code == 1 and err.count("\n") == 1 and "wrong passphrase" in err
    assert not out.exists() and "Traceback" not in err
    code, err = run("--key-password-env", "DEV_KEY_PASSPHRASE")
    assert code == 0, err
    assert verify_file(out, trust=keys / "root.pem").state == "Trusted"
    assert b"PRIVATE KEY" not in out.read_bytes() and "correct horse" not in err
