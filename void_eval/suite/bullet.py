"""pybullet without its console chatter: the module, a fresh DIRECT client, and a silencer for C-level output.

pybullet prints its build time and ``argv[0]=`` on the process's own stdout and stderr (file descriptors 1 and 2),
which Python's ``contextlib.redirect_stdout`` cannot catch; every part of the suite that touches pybullet goes
through these three.

Examples
--------
>>> client = new_client()
>>> client.getNumBodies()
0
>>> pybullet_module().DIRECT == client.getConnectionInfo()["connectionMethod"]
True
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_fds() -> Iterator[None]:
    """Silence C-level stdout and stderr (pybullet prints its build time and ``argv[0]=`` there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def pybullet_module():
    """``import pybullet`` without its build-time banner on stderr."""
    if "pybullet" not in sys.modules:
        with quiet_fds():
            import pybullet  # noqa: F401
    return sys.modules["pybullet"]


def new_client():
    """A fresh pybullet DIRECT client (``BulletClient``), created without pybullet's console chatter."""
    p = pybullet_module()
    with quiet_fds():
        from pybullet_utils.bullet_client import BulletClient

        return BulletClient(connection_mode=p.DIRECT)
