"""Line plots written as PNG with Pillow (learning curves, metric histories): no plotting library needed."""
import math

__all__ = ["line_plot"]

_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def _ticks(lo, hi, n=5):
    """About ``n`` round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v):
    if v == int(v) and abs(v) < 1e7:
        return str(int(v))
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}"


def line_plot(series, path, *, title="", xlabel="", ylabel="", size=(900, 540), logy=False):
    """Write ``series`` ({name: (xs, ys)}) as a PNG line plot with axes, ticks and a legend at ``path``."""
    from PIL import Image, ImageDraw, ImageFont

    series = {k: (list(map(float, xs)), list(map(float, ys))) for k, (xs, ys) in series.items() if len(xs)}
    if not series:
        raise ValueError("line_plot: nothing to plot (every series is empty)")
    transform = (lambda v: math.log10(v)) if logy else (lambda v: v)
    points = {k: [(x, transform(y)) for x, y in zip(xs, ys) if math.isfinite(y) and (y > 0 or not logy)]
              for k, (xs, ys) in series.items()}
    all_x = [x for pts in points.values() for x, _ in pts]
    all_y = [y for pts in points.values() for _, y in pts]
    if not all_y:
        raise ValueError("line_plot: no finite values to plot")
    x0, x1 = min(all_x), max(all_x)
    y0, y1 = min(all_y), max(all_y)
    pad = (y1 - y0) * 0.05 or abs(y0) * 0.1 or 0.5  # a constant series sits mid-axis at its own scale
    y0, y1 = y0 - pad, y1 + pad
    if x1 == x0:
        x1 = x0 + 1

    w, h = size
    left, right, top, bottom = 80, 20, 40, 60
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()

    def px(x, y):
        return (left + (x - x0) / (x1 - x0) * (w - left - right), top + (y1 - y) / (y1 - y0) * (h - top - bottom))

    draw.rectangle([left, top, w - right, h - bottom], outline="black")
    for tx in _ticks(x0, x1):
        x, _ = px(tx, y0)
        draw.line([x, h - bottom, x, h - bottom + 5], fill="black")
        draw.line([x, top, x, h - bottom], fill=(235, 235, 235))
        draw.text((x - 12, h - bottom + 8), _fmt(tx), fill="black", font=font)
    for ty in _ticks(y0, y1):
        _, y = px(x0, ty)
        draw.line([left - 5, y, left, y], fill="black")
        draw.line([left, y, w - right, y], fill=(235, 235, 235))
        draw.text((5, y - 6), _fmt(10 ** ty if logy else ty), fill="black", font=font)
    for i, (name, pts) in enumerate(points.items()):
        color = _COLORS[i % len(_COLORS)]
        xy = [px(x, y) for x, y in pts]
        if len(xy) > 1:
            draw.line(xy, fill=color, width=2)
        else:
            draw.ellipse([xy[0][0] - 2, xy[0][1] - 2, xy[0][0] + 2, xy[0][1] + 2], fill=color)
        draw.line([w - right - 150, top + 12 + 16 * i, w - right - 125, top + 12 + 16 * i], fill=color, width=3)
        draw.text((w - right - 120, top + 6 + 16 * i), name, fill="black", font=font)
    draw.text((left, 12), title, fill="black", font=font)
    draw.text(((w - len(xlabel) * 6) / 2, h - 22), xlabel, fill="black", font=font)
    draw.text((5, top - 20), ylabel + (" (log)" if logy else ""), fill="black", font=font)
    img.save(path, format="PNG")
    return path
