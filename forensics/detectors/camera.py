"""A virtual camera filming a photograph: a lens with a depth of field, a slow pan and zoom, a sensor's noise.

Camera moves over real photographs are real texture and real compression residue moving as a scene does, with
fresh noise in every frame as a sensor gives; :mod:`.footage` cuts training clips from them.

Examples
--------
>>> import numpy as np
>>> flat = np.full((200, 260, 3), 120, np.uint8)
>>> frames, move = photo_pan(flat, frames=4, size=(96, 128), rng=np.random.default_rng(0))
>>> frames.shape, sorted(move)[:3]
((4, 96, 128, 3), ['angle', 'defocus_radius', 'defocus_share'])
"""

from __future__ import annotations

import cv2
import numpy as np

#: Share of a photograph left out of focus (:func:`depth_of_field`), and the defocus disk's radius in pixels.
DEFOCUS_SHARE = (0.0, 0.8)
DEFOCUS_RADIUS = (1.5, 7.0)
#: Range of the filmed photographs' noise (grey levels at mid grey), drawn log-uniformly.
NOISE_SIGMA = (0.3, 3.5)


def depth_of_field(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """The photograph as a lens with a shallow depth of field shows it: part of the scene out of focus.

    A smooth random depth map (a 4x4 grid of random depths, bicubic) decides where: the far
    :data:`DEFOCUS_SHARE` (drawn) of the picture blends into a copy blurred by a disk (a defocused lens's
    point-spread function, radius drawn from :data:`DEFOCUS_RADIUS`), fully blurred a tenth of the depth range
    beyond the focus. Applied before the sensor noise, as optics come before the sensor: out-of-focus regions are
    smooth yet keep the camera's noise, where a smoothing fill removes it. Real footage is full of them.

    Returns
    -------
    tuple
        ``((H, W, 3) uint8 picture, the lens's parameters)``.
    """
    rows, cols = image.shape[:2]
    share, radius = rng.uniform(*DEFOCUS_SHARE), rng.uniform(*DEFOCUS_RADIUS)
    depth = cv2.resize(rng.uniform(0, 1, (4, 4)).astype(np.float32), (cols, rows), interpolation=cv2.INTER_CUBIC)
    focus = np.quantile(depth, 1.0 - share)
    blend = np.clip((depth - focus) / 0.1, 0.0, 1.0)[..., None]
    reach = int(np.ceil(radius))
    grid = np.hypot(*np.mgrid[-reach : reach + 1, -reach : reach + 1])
    disk = np.clip(radius + 0.5 - grid, 0.0, 1.0).astype(np.float32)  # anti-aliased edge
    picture = image.astype(np.float32)
    blurred = cv2.filter2D(picture, -1, disk / disk.sum(), borderType=cv2.BORDER_REFLECT)
    lens = np.clip(np.rint(picture + blend * (blurred - picture)), 0, 255).astype(np.uint8)
    return lens, {"defocus_share": round(float(share), 3), "defocus_radius": round(float(radius), 2)}


def photo_pan(
    image: np.ndarray, *, frames: int, size: tuple[int, int], rng: np.random.Generator, defocus: bool = True
) -> tuple[np.ndarray, dict]:
    """Film a photograph through a lens with a depth of field, a slow camera move and fresh noise in every frame.

    With ``defocus``, part of the picture is first put out of focus (:func:`depth_of_field`). The window (``size``,
    at the photograph's scale) drifts 0.2-1.2 px a frame in a random direction while zooming by up to 0.2% a frame
    (bicubic resampling); each frame then gets independent Gaussian noise whose variance grows with brightness
    (``sigma^2 = a + b I``), like a sensor's shot and read noise. ``sigma`` at mid grey is drawn log-uniformly
    from :data:`NOISE_SIGMA`: from the clean, denoised frames of a camera in good light to a noisy sensor.

    Returns
    -------
    tuple
        ``((T, h, w, 3) uint8 frames, the move's parameters)``.
    """
    height, width = size
    image, lens = depth_of_field(image, rng) if defocus else (image, {})
    rows, cols = image.shape[:2]
    speed, angle = rng.uniform(0.2, 1.2), rng.uniform(0, 2 * np.pi)
    zoom = rng.uniform(-0.002, 0.002)
    reach = speed * frames + abs(zoom) * frames * max(height, width) + 4
    if rows < height + 2 * reach or cols < width + 2 * reach:
        raise ValueError(f"photograph {cols}x{rows} is too small for a {width}x{height} pan")
    centre_x = rng.uniform(width / 2 + reach, cols - width / 2 - reach)
    centre = np.array([centre_x, rng.uniform(height / 2 + reach, rows - height / 2 - reach)])
    velocity = speed * np.array([np.cos(angle), np.sin(angle)])
    sigma_mid = float(np.exp(rng.uniform(*np.log(NOISE_SIGMA))))
    read_share = rng.uniform(0.2, 0.8)
    read, shot = read_share * sigma_mid**2, (1 - read_share) * sigma_mid**2 / 128.0
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        scale = 1.0 + zoom * t
        cx, cy = centre + velocity * t
        # destination (x, y) -> source (scale x + cx - scale w / 2, ...): an inverse map for warpAffine
        matrix = np.array([[scale, 0, cx - scale * width / 2], [0, scale, cy - scale * height / 2]], np.float64)
        frame = cv2.warpAffine(
            image, matrix, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
        ).astype(np.float32)
        noise = rng.standard_normal(frame.shape).astype(np.float32) * np.sqrt(read + shot * frame)
        out[t] = np.clip(np.rint(frame + noise), 0, 255).astype(np.uint8)
    move = {"speed_px": round(speed, 3), "angle": round(angle, 3), "zoom_per_frame": round(zoom, 5)}
    return out, {**move, **lens, "noise_sigma_mid_grey": round(sigma_mid, 3)}
