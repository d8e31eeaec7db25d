"""The c2pa ``Signer`` for a certificate chain and one of: a key file (optionally passphrase-protected), a signer
command, a Python callable.

The signing algorithm follows the chain's signing certificate (P-256 -> ES256, P-384 -> ES384, RSA -> PS256,
Ed25519 -> Ed25519). An encrypted key file is decrypted in memory with the passphrase given (the CLI reads it from
the environment variable named by ``--key-password-env``); the clear key is never written anywhere. An exception
raised by a signer command or callable is kept, so the caller can report it instead of c2pa's generic failure.

Examples
--------
>>> import tempfile
>>> from forensics.provenance.keys import make_dev_pki
>>> pki = make_dev_pki(tempfile.mkdtemp())
>>> signer, errors = make_signer(pki.chain, key=pki.key)
>>> errors is None
True
>>> signer.close()
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from void_eval.errors import InputError


class CallbackErrors:
    """Wraps a signing callback so an exception it raises reaches the caller (c2pa only sees a failure)."""

    def __init__(self, callback: Callable[[bytes], bytes]) -> None:
        self.callback = callback
        self.error: BaseException | None = None

    def __call__(self, data: bytes) -> bytes:
        try:
            signature = self.callback(data)
        except BaseException as err:
            self.error = err
            raise
        if not isinstance(signature, bytes | bytearray) or not signature:
            self.error = TypeError(f"signing callback must return non-empty bytes, got {type(signature).__name__}")
            raise self.error
        return bytes(signature)

    def reraise(self, err: BaseException) -> None:
        """Raise what the callback raised (an :class:`InputError` as it was), if it raised anything."""
        cause = self.error
        if cause is None:
            return
        if isinstance(cause, InputError):
            raise cause from err
        raise InputError("signing callback", f"failed: {type(cause).__name__}: {cause}") from err


def password_from_env(name: str) -> bytes:
    """The passphrase held by the environment variable ``name``; :class:`InputError` when it is unset or empty."""
    if not name or "=" in name:
        raise InputError("--key-password-env", f"{name!r} is not an environment variable name")
    value = os.environ.get(name)
    if not value:
        raise InputError("--key-password-env", f"environment variable {name} is not set (or empty)")
    return value.encode()


def make_signer(
    chain: str | Path,
    *,
    key: str | Path | None = None,
    signer_cmd: str | None = None,
    signer: Callable[[bytes], bytes] | None = None,
    key_password: bytes | None = None,
):
    """A c2pa ``Signer`` from a chain plus exactly one of: a key file, a signer command, a callable.

    Parameters
    ----------
    chain : str or Path
        PEM chain: signing certificate first, then intermediates.
    key, signer_cmd, signer : keyword-only
        Exactly one: a PEM private key file (mode 0600), a command (bytes on stdin, signature on stdout), or a
        callable ``bytes -> bytes``.
    key_password : bytes, optional, keyword-only
        Passphrase of an encrypted ``key``.

    Returns
    -------
    tuple
        ``(signer, callback_errors)``; ``callback_errors`` is a :class:`CallbackErrors` for a command or callable,
        else ``None``.

    Raises
    ------
    InputError
        A missing or unreadable chain or key, a key readable by others, an encrypted key without (or with a wrong)
        passphrase.
    """
    from c2pa import C2paSignerInfo, C2paSigningAlg, Signer

    from forensics.provenance.keys import algorithm_of_chain, read_chain_pem, read_private_key_pem
    from forensics.provenance.signer_callback import command_signer

    given = [name for name, value in (("key", key), ("signer_cmd", signer_cmd), ("signer", signer)) if value]
    if len(given) != 1:
        raise ValueError(f"give exactly one of key, signer_cmd, signer (got {', '.join(given) or 'none'})")
    chain_pem = read_chain_pem(chain)
    algorithm = getattr(C2paSigningAlg, algorithm_of_chain(chain_pem).upper())
    if key is not None:
        info = C2paSignerInfo(algorithm, chain_pem, read_private_key_pem(key, password=key_password), None)
        return Signer.from_info(info), None
    errors = CallbackErrors(command_signer(signer_cmd) if signer_cmd else signer)
    return Signer.from_callback(errors, algorithm, chain_pem.decode(), None), errors
