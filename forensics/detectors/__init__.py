"""Weight-free forensic signals and a small learned fusion that localise AI-deleted (filled-in) regions in video.

Layout: one signal per module (:mod:`.noise`, :mod:`.residual`, :mod:`.spectral`, :mod:`.temporal`,
:mod:`.flicker`), all reporting on one grid of square blocks (:mod:`.blocks`), some also averaged along the motion
(:mod:`.tracking`); :mod:`.features` streams a video into per-block feature vectors; :mod:`.fusion` is the
gradient-boosted model stored as JSON (never pickle); :mod:`.scoring` turns block probabilities into heatmaps,
frame and video scores; :mod:`.detect` runs it all on a file; :mod:`.localisation` holds the pixel/video metrics;
:mod:`.footage` and :mod:`.dataset` build training examples (clips x removal methods x degradations); :mod:`.train`
rebuilds the shipped model from a seed; :mod:`.cli` mounts ``void-eval detect``, ``detect-eval`` and ``check``.
"""
