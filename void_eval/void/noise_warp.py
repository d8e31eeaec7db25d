"""Go-with-the-Flow noise warping: Gaussian noise carried along optical flow, every frame still i.i.d. N(0, 1).

The algorithm of Burgert et al., "Go-with-the-Flow: Motion-Controllable Video Diffusion Models Using Real-Time
Warped Noise" (CVPR 2025), as its authors' ``noise_warp.py`` runs it by default (no sub-pixel particle positions),
written here from that description. The state is a grid of noise values (``C`` channels) with one positive weight
per cell. One step along a flow ``F`` (grid pixels, from the previous frame to the next):

1. **Particles** (contraction): every cell ``q`` of the previous frame moves to ``q + round(F(q))``. A particle that
   would leave the grid stays at ``q`` as an empty particle (value 0, weight 1).
2. **Expansion**: a cell ``p`` that no particle reaches copies the previous value at ``round(p - F(p))`` (nearest,
   backward); where that falls outside the grid it is empty (value 0, weight 1). Cells reached by a particle take
   nothing from expansion (their expansion slot is empty too).
3. **Regaussianise**: the entries that carry the same previous value form a group (a particle and the expansion
   copies of the same source; all empty entries form one group). An entry of a group of ``n`` becomes
   ``x / sqrt(n) + (z - mean_group(z))`` with fresh ``z ~ N(0, 1)``, and its weight is divided by ``n``: the ``n``
   entries are each N(0, 1), mutually uncorrelated, and still sum to ``sqrt(n) x``.
4. **Contract**: a cell reached by particles takes ``sum(w v) / sqrt(sum(w^2))`` over them (N(0, 1) again, since
   the particles are independent) and the sum of their weights; other cells take their expansion entry.
5. Weights are divided by their mean, raised by ``1e-5`` and to the power ``0.9999``.

The fresh noise of step 3 is drawn in one ``(C, H, 2W)`` block laid out ``[particles | expansion]`` along the
width, as upstream lays it out, so a generator in the same state draws the same numbers.

How a group is found: upstream's code groups entries by equal channel-0 values (``torch.unique``), not by the cell
they copy, so two unrelated cells whose float32 values happen to be equal are merged too. That is rare per value but
not per frame: one step merges 0.23% of the entries at 480x720 and 3.6% at upstream's 1920x2880 grid (measured,
smooth random flow). Merged entries stay N(0, 1) each. ``grouping="value"`` (the default) does the same as upstream,
so the warp equals upstream's bit for bit (checked against upstream's code); ``grouping="source"`` groups by the
copied cell, the algorithm as published.

Examples
--------
>>> import torch
>>> warper = NoiseWarper(2, 8, 12, generator=torch.Generator().manual_seed(0))
>>> before = warper.noise.clone()
>>> shift = torch.zeros(2, 8, 12); shift[0] = 3.0          # everything moves 3 cells right
>>> warper.step(shift)
>>> bool(torch.equal(warper.noise[:, :, 3:-3], before[:, :, :-6]))  # away from the borders, exactly
True
"""

from __future__ import annotations

import torch

#: The seed of torch's default generators in a fresh process: what upstream's unseeded helper process draws from.
TORCH_DEFAULT_SEED = 67280421310721
#: Added to the normalised weights so none reaches 0 (upstream's value).
WEIGHT_FLOOR = 1e-5
#: Exponent pulling weights towards 1 at every step (upstream's value).
WEIGHT_EXPONENT = 0.9999


def regaussianize(
    values: torch.Tensor, groups: torch.Tensor, counts: torch.Tensor, foreign: torch.Tensor
) -> torch.Tensor:
    """Split each group's shared value into uncorrelated N(0, 1) parts.

    Parameters
    ----------
    values : torch.Tensor
        ``(C, N)`` entries; entries of one group carry the same value.
    groups : torch.Tensor
        ``(N,)`` int64 group index of each entry.
    counts : torch.Tensor
        Entries per group (``bincount(groups)``), float.
    foreign : torch.Tensor
        ``(C, N)`` fresh N(0, 1) noise.

    Returns
    -------
    torch.Tensor
        ``values / sqrt(n) + foreign - mean_group(foreign)``, ``(C, N)``.

    Examples
    --------
    >>> import torch
    >>> values = torch.full((1, 4), 2.0); groups = torch.zeros(4, dtype=torch.long)
    >>> out = regaussianize(values, groups, torch.tensor([4.0]), torch.randn(1, 4))
    >>> round(float(out.sum()), 4)  # the group still sums to sqrt(n) * value
    4.0
    """
    sums = torch.zeros(values.shape[0], counts.numel(), dtype=foreign.dtype, device=foreign.device)
    sums.index_add_(1, groups, foreign)
    out = foreign - (sums / counts)[:, groups]
    out += values / counts.sqrt()[groups]
    return out


def _grid(height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.arange(height, device=device).view(height, 1).expand(height, width)
    cols = torch.arange(width, device=device).view(1, width).expand(height, width)
    return rows, cols


def _inside(rows: torch.Tensor, cols: torch.Tensor, height: int, width: int) -> torch.Tensor:
    return (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)


def _backward_sources(flow: torch.Tensor) -> torch.Tensor:
    """Cell copied by each cell, ``round(p - F(p))``, or -1 off the grid, rounded exactly as upstream's nearest
    ``grid_sample`` (``align_corners=True``) rounds it: through normalised float32 coordinates, so near-ties land
    where upstream's land."""
    import torch.nn.functional as F

    _, height, width = flow.shape
    rows, cols = _grid(height, width, flow.device)
    x = (-flow[0] + cols.to(flow.dtype)) / (width - 1) * 2 - 1
    y = (-flow[1] + rows.to(flow.dtype)) / (height - 1) * 2 - 1
    ids = torch.stack([rows, cols]).to(flow.dtype) + 1  # exact in float32 below 2**24 per axis; 0 = off the grid
    picked = F.grid_sample(ids[None], torch.stack([x, y], dim=-1)[None], mode="nearest", align_corners=True)[0]
    row, col = picked.long() - 1
    return torch.where((row >= 0) & (col >= 0), row * width + col, -1)


def _moves(flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where every particle lands, which cells are reached, and each cell's backward source (-1: none).

    Returns ``(target, moved, reached, source)``, all ``(H, W)``. A particle whose ``round(q + F)`` leaves the grid
    stays at ``q`` empty (``moved`` False); one that stays on the grid lands on ``q + round(F)`` (upstream rounds
    the two separately; where they disagree at the border the particle is dropped, ``target = -1``). ``source`` is
    the cell an unreached cell copies, or -1.
    """
    _, height, width = flow.shape
    cells, device = height * width, flow.device
    rows, cols = _grid(height, width, device)
    own = torch.arange(cells, device=device).view(height, width)
    moved = _inside((rows + flow[1]).round(), (cols + flow[0]).round(), height, width)
    step = flow.round().long()
    lands = _inside(rows + step[1], cols + step[0], height, width)
    target = torch.where(moved, torch.where(lands, own + step[1] * width + step[0], -1), own)
    reached = torch.zeros(cells + 1, dtype=torch.bool, device=device)
    reached[torch.where(target < 0, cells, target).reshape(-1)] = True
    reached = reached[:cells].view(height, width)
    source = torch.where(reached, -1, _backward_sources(flow))
    return target, moved, reached, source


def _groups(entries: torch.Tensor, values: torch.Tensor, grouping: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Group index of every entry and the group sizes (float).

    ``source``: entries copied from one previous cell form a group, empty entries another (the algorithm as
    published). ``value``: entries with equal channel-0 values form a group (upstream's implementation; unrelated
    values that happen to be equal in float32 merge too).
    """
    if grouping == "source":
        groups = torch.where(entries < 0, entries.max() + 1, entries)
        return groups, torch.bincount(groups).to(values.dtype)
    if grouping == "value":
        _, groups, counts = torch.unique(values[0], return_inverse=True, return_counts=True)
        return groups, counts.to(values.dtype)
    raise ValueError(f"grouping must be 'value' or 'source', got {grouping!r}")


def warp_step(
    noise: torch.Tensor,
    weight: torch.Tensor,
    flow: torch.Tensor,
    generator: torch.Generator | None,
    *,
    grouping: str = "value",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One Go-with-the-Flow step (see the module docstring).

    Parameters
    ----------
    noise : torch.Tensor
        ``(C, H, W)`` float32 noise of the previous frame.
    weight : torch.Tensor
        ``(H, W)`` positive weights of the previous frame.
    flow : torch.Tensor
        ``(2, H, W)`` displacement (x, y) in grid cells from the previous frame to the next.
    generator : torch.Generator or None
        Source of the fresh noise (on ``noise``'s device).
    grouping : {"value", "source"}, keyword-only
        How entries sharing a previous value are found (:func:`_groups`); ``value`` is upstream's.

    Returns
    -------
    tuple of torch.Tensor
        The next frame's ``(noise, weight)``.
    """
    channels, height, width = noise.shape
    if tuple(flow.shape) != (2, height, width) or tuple(weight.shape) != (height, width):
        raise ValueError(f"flow must be (2, {height}, {width}) and weight ({height}, {width})")
    cells, device = height * width, noise.device
    target, moved, reached, source = _moves(flow)
    own = torch.arange(cells, device=device).view(height, width)
    # entries in upstream's (H, 2W) layout: [particles | expansion], -1 = empty (value 0, weight 1)
    entries = torch.cat([torch.where(moved, own, -1), source], dim=1).reshape(-1)
    padded_noise = torch.cat([noise.reshape(channels, cells), noise.new_zeros(channels, 1)], dim=1)
    padded_weight = torch.cat([weight.reshape(cells), weight.new_ones(1)])
    lookup = torch.where(entries < 0, cells, entries)
    values = padded_noise[:, lookup]
    groups, counts = _groups(entries, values, grouping)
    foreign = torch.randn(channels, height, 2 * width, generator=generator, device=device, dtype=noise.dtype)
    values = regaussianize(values, groups, counts, foreign.reshape(channels, -1)).view(channels, height, 2 * width)
    weights = (padded_weight[lookup] / counts[groups]).view(height, 2 * width)
    del foreign, padded_noise

    flat_target = torch.where(target < 0, cells, target).reshape(-1)  # dropped particles go to a spare slot
    particle_values = values[:, :, :width].reshape(channels, cells)
    particle_weights = weights[:, :width].reshape(cells)
    total = torch.zeros(cells + 1, dtype=noise.dtype, device=device).index_add_(0, flat_target, particle_weights)
    squares = torch.zeros(cells + 1, dtype=noise.dtype, device=device)
    squares.index_add_(0, flat_target, particle_weights**2)
    sums = torch.zeros(channels, cells + 1, dtype=noise.dtype, device=device)
    sums.index_add_(1, flat_target, particle_values * particle_weights)
    contracted = (sums[:, :cells] / squares[:cells].sqrt()).view(channels, height, width)
    total = total[:cells]
    next_noise = torch.where(reached, contracted, values[:, :, width:])
    next_weight = torch.where(reached, total.view(height, width), weights[:, width:])
    next_weight = (next_weight / next_weight.mean() + WEIGHT_FLOOR) ** WEIGHT_EXPONENT
    return next_noise.contiguous(), next_weight.contiguous()


class NoiseWarper:
    """Noise that follows a video's motion, one :meth:`step` per frame.

    Parameters
    ----------
    channels, height, width : int
        Noise shape (the warp grid).
    generator : torch.Generator, keyword-only
        Draws the first frame (``randn(C, H, W)``) and the fresh noise of every step; its device is the device of
        the work.
    dtype : torch.dtype, keyword-only
        float32 (upstream's).
    grouping : {"value", "source"}, keyword-only
        ``value`` (default): entries are grouped by equal channel-0 values, as upstream's code does, so the numbers
        match upstream's; ``source``: by the cell they copy, as the algorithm is published (see the module
        docstring).

    Examples
    --------
    >>> import torch
    >>> warper = NoiseWarper(4, 16, 16, generator=torch.Generator().manual_seed(1))
    >>> warper.step(torch.full((2, 16, 16), 0.3))  # rounds to no motion: the noise stays
    >>> tuple(warper.noise.shape), round(float(warper.weight.mean()), 3)
    ((4, 16, 16), 1.0)
    """

    def __init__(
        self,
        channels: int,
        height: int,
        width: int,
        *,
        generator: torch.Generator,
        dtype=torch.float32,
        grouping: str = "value",
    ) -> None:
        if min(channels, height, width) < 1:
            raise ValueError(f"channels, height and width must be >= 1, got {channels}, {height}, {width}")
        if grouping not in ("value", "source"):
            raise ValueError(f"grouping must be 'value' or 'source', got {grouping!r}")
        self.generator = generator
        self.grouping = grouping
        device = generator.device
        self.noise = torch.randn(channels, height, width, generator=generator, device=device, dtype=dtype)
        self.weight = torch.ones(height, width, device=device, dtype=dtype)

    @property
    def frame(self) -> torch.Tensor:
        """The frame's output noise, as upstream computes it: ``noise * w / sqrt(w^2)`` (the noise itself up to the
        last bit of float rounding)."""
        return self.noise * self.weight / (self.weight**2).sqrt()

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        return tuple(self.noise.shape)

    def step(self, flow: torch.Tensor) -> None:
        """Carry the noise to the next frame along ``flow`` ``(2, H, W)`` (grid cells, x then y)."""
        flow = flow.to(device=self.noise.device, dtype=self.noise.dtype)
        self.noise, self.weight = warp_step(self.noise, self.weight, flow, self.generator, grouping=self.grouping)
