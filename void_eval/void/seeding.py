"""The random streams of a VOID run, and when each one starts over.

A VOID run draws from four streams. Where upstream draws them (Netflix/void-model):

========================  =====================================================  ==============================
stream                    upstream                                               here
========================  =====================================================  ==============================
pass-1 initial noise      ``torch.Generator(cuda).manual_seed(42)`` made once    same; ``seeding="upstream"``:
                          per run in ``predict_v2v.py``, reused for every clip    once per run, ``"per-clip"``:
                                                                                 again for every clip
pass-2 initial noise      warped noise (its own stream, below); the pass-2       a generator seeded 42 for every
(``gaussian`` option)     script's generator is re-seeded 42 for every clip       clip
video-condition noise     ``torch.randn_like`` on the CPU video tensor: torch's  a CPU generator seeded with
augmentation (x 0.0563)   global generator, never seeded, one process per pass   torch's default seed, once per
                                                                                 run and pass (``"per-clip"``:
                                                                                 per clip);
                                                                                 ``noise_aug="generator"``
                                                                                 draws from the pass's seeded
                                                                                 generator instead
warped-noise draws        a fresh process per clip, never seeded: torch's        a generator on the run's device
                          default seed on the GPU                                seeded ``warp_seed`` (default
                                                                                 torch's default seed), per clip
========================  =====================================================  ==============================

Bit for bit, with the same weights, inputs, device and dtype: the pass-1 initial noise and its sequence over a
batch equal upstream's when the clips run in one process in upstream's order (sorted folder names);
``seeding="per-clip"`` makes each clip's result independent of the batch instead. The augmentation stream equals
upstream's global generator only if upstream's process drew nothing from it before (model loading could; not
verifiable without the real checkpoints). Warped noise is never bit-comparable (see
:mod:`void_eval.void.pass2_noise`).

Examples
--------
>>> streams = RandomStreams(42, seeding="upstream", device="cpu")
>>> a = streams.pass_noise(1).initial_seed(); streams.start_clip()
>>> streams.pass_noise(1) is streams.pass_noise(1), a
(True, 42)
"""

from __future__ import annotations

from typing import Any

import torch

from void_eval.void.noise_warp import TORCH_DEFAULT_SEED

SEEDINGS = ("upstream", "per-clip")
NOISE_AUG_SOURCES = ("upstream", "generator")


class RandomStreams:
    """Generators of one VOID method instance (one run), created on first use.

    Parameters
    ----------
    seed : int
        Seed of the initial-noise generators (upstream 42).
    seeding : {"upstream", "per-clip"}, keyword-only
        Whether the pass-1 and augmentation streams continue across clips (upstream) or restart per clip.
    device : str, keyword-only
        Execution device; CUDA devices get CUDA generators for the initial noise, as upstream.
    noise_aug : {"upstream", "generator"}, keyword-only
        Source of the video-condition noise augmentation (see the module docstring).
    """

    def __init__(self, seed: int, *, seeding: str, device: str, noise_aug: str = "upstream") -> None:
        if seeding not in SEEDINGS:
            raise ValueError(f"seeding must be one of {SEEDINGS}, got {seeding!r}")
        if noise_aug not in NOISE_AUG_SOURCES:
            raise ValueError(f"noise_aug must be one of {NOISE_AUG_SOURCES}, got {noise_aug!r}")
        self.seed = int(seed)
        self.seeding = seeding
        self.noise_aug = noise_aug
        self.device = "cuda" if str(device).startswith("cuda") else "cpu"
        if self.device == "cuda":
            self.device = str(device)
        self._run: dict[str, torch.Generator] = {}
        self._clip: dict[str, torch.Generator] = {}

    def start_clip(self) -> None:
        """Forget the per-clip generators (and, with ``per-clip`` seeding, every generator)."""
        self._clip.clear()
        if self.seeding == "per-clip":
            self._run.clear()

    def _get(self, name: str, scope: dict[str, torch.Generator], device: str, seed: int) -> torch.Generator:
        if name not in scope:
            scope[name] = torch.Generator(device=device).manual_seed(seed)
        return scope[name]

    def pass_noise(self, number: int) -> torch.Generator:
        """Initial-noise generator of pass ``number``: pass 1 lives for the run (upstream), pass 2 for the clip."""
        scope = self._run if number == 1 else self._clip
        return self._get(f"pass{number}", scope, self.device, self.seed)

    def augmentation(self, number: int) -> torch.Generator | None:
        """Generator of pass ``number``'s video-condition noise; None means "use the pass's generator"."""
        if self.noise_aug == "generator":
            return None
        return self._get(f"aug{number}", self._run, "cpu", TORCH_DEFAULT_SEED)

    def describe(self) -> dict[str, Any]:
        """JSON-serialisable summary for the run record."""
        return {
            "seed": self.seed,
            "seeding": self.seeding,
            "noise_aug": self.noise_aug,
            "noise_aug_seed": TORCH_DEFAULT_SEED if self.noise_aug == "upstream" else self.seed,
            "generator_device": self.device,
        }
