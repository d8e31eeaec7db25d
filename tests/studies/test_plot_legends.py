"""The forest plot's legend sits outside the axes: it covers no interval, not even at a win rate of 1.0."""

from __future__ import annotations

import matplotlib.figure

from studies.analysis import analyze
from studies.plots import forest_plot
from studies.responses import read_responses


def test_forest_legend_covers_no_point(tiny_csv, tmp_path, monkeypatch):
    boxes = []
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):  # measure while the figure is still open
        result = original(self, *args, **kwargs)
        renderer = self.canvas.get_renderer()
        (ax,) = self.axes
        boxes.append((ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)))
        return result

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    analysis = analyze(read_responses(tiny_csv), salt="x", bootstrap=10, mixed_model=False)
    forest_plot(analysis, tmp_path / "forest.png")
    ((legend, axes),) = boxes
    assert legend.x0 >= axes.x1  # right of the axes, where x = 1.0 ends
    assert (tmp_path / "forest.png").stat().st_size > 5000
