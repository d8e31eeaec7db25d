"""Floor and backdrop textures made from scikit-image's offline sample images.

A texture recipe is a small dict, ``{"image": "grass", "tint": [r, g, b], "contrast": 0.6, "brightness": 0.8}``,
stored in the scene spec and meta.json; :func:`texture_png` turns it into a PNG file that pybullet's
``loadTexture`` reads. Only images that ship inside scikit-image (no download) are offered.

Examples
--------
>>> import tempfile
>>> path = texture_png({"image": "brick", "tint": [220, 180, 150], "contrast": 0.6, "brightness": 0.8},
...                    tempfile.mkdtemp())
>>> path.suffix
'.png'
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from void_eval.atomic import atomic_path

#: Grey images that tile acceptably as a floor.
FLOOR_IMAGES: tuple[str, ...] = ("grass", "gravel", "brick")
#: Photographs for the backdrop wall.
BACKDROP_IMAGES: tuple[str, ...] = ("chelsea", "astronaut", "rocket", "brick", "immunohistochemistry", "coffee")
TEXTURE_SIDE = 512


def _load_image(name: str) -> np.ndarray:
    import skimage.data

    if name not in FLOOR_IMAGES + BACKDROP_IMAGES:
        raise ValueError(
            f"unknown texture image {name!r}; expected one of {sorted(set(FLOOR_IMAGES + BACKDROP_IMAGES))}"
        )
    image = np.asarray(getattr(skimage.data, name)())
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return image[..., :3].astype(np.uint8)


def texture_image(recipe: dict[str, Any]) -> np.ndarray:
    """The texture as a ``(512, 512, 3)`` uint8 RGB array.

    The image is centre-cropped to a square, resized (area), its contrast scaled about its mean by
    ``contrast`` (0-1], multiplied by ``tint / 255`` and by ``brightness`` (0-1.5].
    """
    contrast = float(recipe.get("contrast", 1.0))
    brightness = float(recipe.get("brightness", 1.0))
    if not 0 < contrast <= 1:
        raise ValueError(f"texture contrast must be in (0, 1], got {contrast}")
    if not 0 < brightness <= 1.5:
        raise ValueError(f"texture brightness must be in (0, 1.5], got {brightness}")
    image = _load_image(str(recipe["image"]))
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = cv2.resize(
        image[top : top + side, left : left + side], (TEXTURE_SIDE, TEXTURE_SIDE), interpolation=cv2.INTER_AREA
    )
    values = square.astype(np.float32)
    values = values.mean() + (values - values.mean()) * contrast
    tint = np.asarray(recipe.get("tint", (255, 255, 255)), dtype=np.float32) / 255.0
    values = values * tint * brightness
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def texture_png(recipe: dict[str, Any], folder: str | Path) -> Path:
    """Write the recipe's texture as a PNG in ``folder`` (named by a hash of the recipe) and return its path.

    An existing file of the same name is reused; new files appear atomically (temp file + rename).
    """
    folder = Path(folder)
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    path = folder / f"texture_{key}.png"
    if path.exists():
        return path
    rgb = texture_image(recipe)
    with atomic_path(path) as temp:
        if not cv2.imwrite(str(temp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write texture {path}")
    return path
