"""PNG line plots for learning curves."""
import pytest
import numpy as np
from PIL import Image

from zoo.core.plot import line_plot


def test_line_plot_writes_a_png(tmp_path):
    out = line_plot({"train": ([0, 1, 2], [3.0, 2.0, 1.5]), "val": ([0, 2], [3.1, 1.7])}, tmp_path / "curve.png",
                    title="loss", xlabel="step", ylabel="loss")
    img = Image.open(out)
    assert img.format == "PNG" and img.size == (900, 540)
    pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(c) for c in p) for p in np.unique(pixels, axis=0)}
    assert (31, 119, 180) in colours and (255, 127, 14) in colours  # both series drawn


def test_line_plot_log_scale_and_errors(tmp_path):
    line_plot({"lr": ([0, 1, 2], [1e-3, 1e-4, 1e-5])}, tmp_path / "lr.png", logy=True)
    with pytest.raises(ValueError, match="nothing to plot"):
        line_plot({"a": ([], [])}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="no finite values"):
        line_plot({"a": ([0], [float("nan")])}, tmp_path / "x.png")


def test_constant_series_is_drawn_mid_axis(tmp_path):
    """A constant learning rate (0.001) gets an axis at its own scale, not a ±0.5 one that flattens it onto 0."""
    from PIL import Image
    path = tmp_path / "const.png"
    line_plot({"lr": ([0, 1, 2, 3], [0.001] * 4)}, path, size=(400, 300))
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    blue = np.argwhere((abs(img - (31, 119, 180)).sum(-1) < 30)[:, 100:200])  # the line, left of the legend
    rows = set(blue[:, 0])
    top, bottom = 40, 300 - 60
    assert rows and all(abs(r - (top + bottom) / 2) < 5 for r in rows)
