"""VOID (Netflix's CogVideoX-based object removal) as a diffusers pipeline, run from local weights only.

One concept per module:

- :mod:`~void_eval.void.conditioning` — quadmask and video preparation exactly as upstream (area resize, quantise,
  invert, snap per pass).
- :mod:`~void_eval.void.padding` — upstream's temporal padding to ``4k + 1`` frames (k odd, 85..197) with the clip
  played backwards, and the trim back.
- :mod:`~void_eval.void.windows` — windows of 22 latent frames and their 4-latent linear cross-fade weights.
- :mod:`~void_eval.void.noise_warp` — Go-with-the-Flow noise warping (Gaussian noise carried along optical flow).
- :mod:`~void_eval.void.pass2_noise` — pass 2's starting noise along upstream's path (72 frames, 480x720 canvas,
  linspace pick, bilinear resize to the latent grid).
- :mod:`~void_eval.void.seeding` — the run's random streams, drawn where and when upstream draws them.
- :mod:`~void_eval.void.checkpoint` — local loading of the base folder and the VOID transformer weights.
- :mod:`~void_eval.void.pipeline` — :class:`~void_eval.void.pipeline.VoidPipeline`, a ``DiffusionPipeline``.
- :mod:`~void_eval.void.method` — the ``void-pass1`` / ``void-pass2`` methods for the benchmark runner.
- :mod:`~void_eval.void.tiny` — tiny random-weight components of the same architecture, for tests and smoke runs.
  Outputs of tiny random-weight runs are NOT VOID results.

Nothing in this package downloads anything: every model file comes from a local path.
"""
