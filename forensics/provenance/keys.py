"""An offline development PKI for C2PA signing, and safe loading of signing keys.

:func:`make_dev_pki` writes a three-level chain that c2pa accepts (root CA -> intermediate CA -> signing
certificate with the extensions the C2PA trust model asks for) so signing and verification can be tried end to end
without a commercial certificate. Every certificate it makes carries "DEVELOPMENT ONLY - NOT FOR PRODUCTION" in its
subject. :func:`read_private_key_pem` refuses a key file that group or others can read and never puts key bytes in
an error message.

Files written into the folder:

- ``root.pem``: the root CA certificate (the trust anchor to give ``verify --trust``);
- ``intermediate.pem``: the intermediate CA certificate;
- ``chain.pem``: signing certificate followed by the intermediate (what the signer sends);
- ``signer.key``: the signing certificate's private key, PKCS#8 PEM, mode 0600 (encrypted with a passphrase when
  ``key_password`` is given: signing then needs ``--key-password-env VAR``);
- ``README.txt``: what these files are and that they must not be used in production.

Examples
--------
>>> import tempfile
>>> pki = make_dev_pki(tempfile.mkdtemp(), algorithm="es256")
>>> oct(pki.key.stat().st_mode & 0o777), algorithm_of_chain(pki.chain)
('0o600', 'es256')
"""

from __future__ import annotations

import datetime as dt
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from void_eval.errors import InputError

Algorithm = Literal["es256", "es384", "ps256", "ed25519"]
ALGORITHMS: tuple[str, ...] = ("es256", "es384", "ps256", "ed25519")
DEV_MARK = "DEVELOPMENT ONLY - NOT FOR PRODUCTION"
#: id-kp-documentSigning (RFC 9336), accepted by the C2PA trust model for claim signers.
DOCUMENT_SIGNING_OID = "1.3.6.1.5.5.7.3.36"
PKI_FILES = ("root.pem", "intermediate.pem", "chain.pem", "signer.key", "README.txt")


@dataclass(frozen=True)
class DevPki:
    """Paths of a development PKI written by :func:`make_dev_pki`."""

    folder: Path
    algorithm: str
    root: Path
    intermediate: Path
    chain: Path
    key: Path


def _new_private_key(algorithm: str):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if algorithm == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "es384":
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == "ps256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")


def _hash_for(key):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None  # Ed25519 signs without a separate digest
    return hashes.SHA256()


def _name(common_name: str):
    from cryptography.x509 import Name, NameAttribute
    from cryptography.x509.oid import NameOID

    return Name(
        [
            NameAttribute(NameOID.COUNTRY_NAME, "XX"),
            NameAttribute(NameOID.ORGANIZATION_NAME, "void-eval development PKI"),
            NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_MARK),
            NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(*, subject, issuer, public_key, issuer_key, issuer_public_key, ca: bool, path_length, days: int):
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False)
    )
    if ca:
        usage = x509.KeyUsage(
            digital_signature=False,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(usage, critical=True)
    else:
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        extended = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ObjectIdentifier(DOCUMENT_SIGNING_OID)])
        builder = builder.add_extension(usage, critical=True).add_extension(extended, critical=False)
    return builder.sign(issuer_key, _hash_for(issuer_key))


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write a key or certificate file: a fresh exclusive temp file (0600, never a planted symlink), then rename."""
    from void_eval.atomic import write_bytes_atomic

    write_bytes_atomic(path, data, mode=mode, fsync=True)


def _three_level_chain(algorithm: str, days: int):
    """The signing key and the root, intermediate and signing certificates of a fresh development chain."""
    keys = [_new_private_key(algorithm) for _ in range(3)]
    names = [_name(f"void-eval dev {role} - NOT FOR PRODUCTION") for role in ("root CA", "intermediate CA", "signer")]
    certificates = []
    for level, (key, name) in enumerate(zip(keys, names, strict=True)):
        issuer = max(level - 1, 0)  # the root signs itself and the intermediate; the intermediate signs the signer
        certificates.append(
            _certificate(
                subject=name,
                issuer=names[issuer],
                public_key=key.public_key(),
                issuer_key=keys[issuer],
                issuer_public_key=keys[issuer].public_key(),
                ca=level < 2,
                path_length=(1, 0, None)[level],
                days=days,
            )
        )
    return (keys[2], *certificates)


def make_dev_pki(
    folder: str | Path,
    *,
    algorithm: Algorithm = "es256",
    days: int = 365,
    force: bool = False,
    key_password: bytes | None = None,
) -> DevPki:
    """Write an offline development PKI (root -> intermediate -> signer) into ``folder``.

    Parameters
    ----------
    folder : str or Path
        Created when missing.
    algorithm : {"es256", "es384", "ps256", "ed25519"}, keyword-only
        Key type of the signing certificate (and of the CAs): P-256, P-384, RSA-2048 with PSS, Ed25519.
    days : int, keyword-only
        Validity of every certificate, 1 to 3650 days.
    force : bool, keyword-only
        Replace existing PKI files; without it existing files are an error.
    key_password : bytes, optional, keyword-only
        Encrypt ``signer.key`` with this passphrase (PKCS#8, the best encryption ``cryptography`` offers).

    Returns
    -------
    DevPki

    Raises
    ------
    InputError
        When the folder already holds PKI files and ``force`` is off.
    """
    from cryptography.hazmat.primitives import serialization

    algorithm = str(algorithm).lower()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    if not 1 <= days <= 3650:
        raise ValueError(f"days must be in 1..3650, got {days}")
    folder = Path(folder)
    existing = [name for name in PKI_FILES if (folder / name).exists()]
    if existing and not force:
        raise InputError(folder, f"already holds {', '.join(existing)} (use --force to replace them)")
    folder.mkdir(parents=True, exist_ok=True)

    (signer_key, root, intermediate, signer) = _three_level_chain(algorithm, days)
    pem = serialization.Encoding.PEM
    protection = serialization.BestAvailableEncryption(key_password) if key_password else serialization.NoEncryption()
    key_bytes = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, protection)
    _write_atomic(folder / "signer.key", key_bytes, 0o600)
    _write_atomic(folder / "root.pem", root.public_bytes(pem), 0o644)
    _write_atomic(folder / "intermediate.pem", intermediate.public_bytes(pem), 0o644)
    _write_atomic(folder / "chain.pem", signer.public_bytes(pem) + intermediate.public_bytes(pem), 0o644)
    readme = (
        f"{DEV_MARK}\n\n"
        "An offline development PKI written by `void-eval keys dev`. Anyone can make one; files signed with it\n"
        "prove nothing about who signed them. Use it to try signing and verification, never for deliverables.\n\n"
        f"algorithm: {algorithm}\nvalid until: {signer.not_valid_after_utc.isoformat()}\n\n"
        "root.pem          trust anchor (void-eval verify --trust root.pem)\n"
        "intermediate.pem  intermediate CA\n"
        "chain.pem         signing certificate + intermediate (void-eval sign --chain chain.pem)\n"
        "signer.key        private key of the signing certificate, mode 0600 (void-eval sign --key signer.key)\n"
    )
    _write_atomic(folder / "README.txt", readme.encode(), 0o644)
    return DevPki(
        folder=folder,
        algorithm=algorithm,
        root=folder / "root.pem",
        intermediate=folder / "intermediate.pem",
        chain=folder / "chain.pem",
        key=folder / "signer.key",
    )


def check_key_permissions(path: str | Path) -> None:
    """Refuse a private key file that group or others may read or write.

    Raises
    ------
    InputError
        When the file is missing, not a regular file, or its mode grants any group/other permission.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError as err:
        raise InputError(path, "key file not found") from err
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, "key file is not a regular file")
    loose = info.st_mode & 0o077
    if loose:
        raise InputError(
            path,
            f"private key is accessible by group/others (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run `chmod 600 {path}` and try again",
        )


def is_encrypted_pem(data: bytes) -> bool:
    """Whether a PEM private key is passphrase-protected (PKCS#8 ``ENCRYPTED PRIVATE KEY`` or a legacy
    ``Proc-Type: 4,ENCRYPTED`` header)."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data


def read_private_key_pem(path: str | Path, *, password: bytes | None = None) -> bytes:
    """Read a PEM private key after :func:`check_key_permissions`; error messages never contain key bytes.

    An encrypted key is decrypted in memory with ``password`` and returned as clear PKCS#8 PEM (never written).

    Raises
    ------
    InputError
        When permissions are too open, the file is not a PEM private key, or it is encrypted and ``password`` is
        missing or wrong.
    """
    path = Path(path)
    check_key_permissions(path)
    data = path.read_bytes()
    if b"PRIVATE KEY-----" not in data:
        raise InputError(path, "is not a PEM private key (expected a '-----BEGIN ... PRIVATE KEY-----' block)")
    if not is_encrypted_pem(data):
        return data
    if password is None:
        raise InputError(
            path,
            "private key is encrypted: put its passphrase in an environment variable and name it with "
            "--key-password-env VAR",
        )
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as err:
        raise InputError(path, "could not decrypt the private key (wrong passphrase?)") from err
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def read_chain_pem(path: str | Path) -> bytes:
    """Read a PEM certificate chain (signing certificate first) and check it parses.

    Raises
    ------
    InputError
        When the file is missing or holds no PEM certificate.
    """
    from cryptography import x509

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "certificate chain file not found")
    data = path.read_bytes()
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as err:
        raise InputError(path, "holds no readable PEM certificate") from err
    if not certificates:
        raise InputError(path, "holds no PEM certificate")
    return data


def algorithm_of_chain(chain: str | Path | bytes) -> str:
    """The signing algorithm that fits the chain's first (signing) certificate's public key.

    P-256 -> ``es256``, P-384 -> ``es384``, P-521 -> ``es512``, RSA -> ``ps256``, Ed25519 -> ``ed25519``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    data = chain if isinstance(chain, bytes) else read_chain_pem(chain)
    public_key = x509.load_pem_x509_certificates(data)[0].public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if public_key.curve.name not in curves:
            raise InputError(str(chain)[:80], f"unsupported elliptic curve {public_key.curve.name}")
        return curves[public_key.curve.name]
    if isinstance(public_key, rsa.RSAPublicKey):
        return "ps256"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    raise InputError(str(chain)[:80], f"unsupported public key type {type(public_key).__name__}")
