"""Signing through a callback, so the private key can stay in an HSM, a KMS or another process.

c2pa hands the callback the bytes to sign (the COSE ``Sig_structure``, a few kB) and expects the signature back.
For ECDSA both DER and raw ``r || s`` signatures are accepted; RSA-PSS and Ed25519 signatures are raw by nature.

- :func:`command_signer` runs an external command per signature: the bytes go to its stdin, the signature comes
  from its stdout (e.g. ``openssl pkeyutl``, a cloud KMS CLI, a PKCS#11 tool wrapper).
- :func:`key_file_callback` signs in this process with a PEM key (useful for tests and for a key held in memory
  by your own code); it shows what a callback must compute.

Examples
--------
>>> import tempfile
>>> from forensics.provenance.keys import make_dev_pki
>>> pki = make_dev_pki(tempfile.mkdtemp())
>>> sign = key_file_callback(pki.key)
>>> len(sign(b"to be signed")) > 60
True
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from void_eval.errors import InputError

SignCallback = Callable[[bytes], bytes]


def command_signer(command: str | Sequence[str], *, timeout_s: float = 60.0) -> SignCallback:
    """A callback that signs by running ``command`` (stdin: bytes to sign, stdout: the signature).

    Parameters
    ----------
    command : str or sequence of str
        The command; a string is split with :func:`shlex.split` (no shell is involved).
    timeout_s : float, keyword-only
        Seconds one signature may take, > 0.

    Returns
    -------
    callable
        ``sign(data: bytes) -> bytes``; raises :class:`InputError` when the command fails, times out or prints
        nothing. Its stderr is reported (trimmed), its stdout never is.
    """
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        raise ValueError("signer command is empty")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    label = "signer command " + shlex.join(argv[:1])

    def sign(data: bytes) -> bytes:
        try:
            done = subprocess.run(argv, input=data, capture_output=True, timeout=timeout_s, check=False)
        except FileNotFoundError as err:
            raise InputError(label, "not found") from err
        except subprocess.TimeoutExpired as err:
            raise InputError(label, f"took longer than {timeout_s:g} s") from err
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise InputError(label, f"exited with {done.returncode}: {reason[0][:200]}")
        if not done.stdout:
            raise InputError(label, "printed no signature on stdout")
        return done.stdout

    return sign


def key_file_callback(key: str | Path, *, password: bytes | None = None) -> SignCallback:
    """A callback that signs in-process with a PEM private key (ES256/384/512 DER, PS256, Ed25519).

    The key file's permissions are checked first (see :func:`forensics.provenance.keys.check_key_permissions`);
    ``password`` decrypts an encrypted key.
    """
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    from forensics.provenance.keys import read_private_key_pem

    path = Path(key)
    try:
        private_key = serialization.load_pem_private_key(read_private_key_pem(path, password=password), password=None)
    except (ValueError, TypeError) as err:
        raise InputError(path, "not a readable unencrypted PEM private key") from err

    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        digest = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}[private_key.curve.key_size]

        def sign(data: bytes) -> bytes:
            return private_key.sign(data, ec.ECDSA(digest()))

    elif isinstance(private_key, rsa.RSAPrivateKey):

        def sign(data: bytes) -> bytes:
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            return private_key.sign(data, pss, hashes.SHA256())

    elif isinstance(private_key, ed25519.Ed25519PrivateKey):

        def sign(data: bytes) -> bytes:
            return private_key.sign(data)

    else:
        raise InputError(path, f"unsupported key type {type(private_key).__name__}")
    return sign
