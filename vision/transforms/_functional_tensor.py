"""Image operations on raw arrays shaped ``(..., C, H, W)`` (NumPy on cpu, CuPy on cuda).

This is the tensor path of :mod:`zoo.vision.transforms.functional`: it follows torchvision's tensor backend
(``torch.nn.functional.interpolate`` / ``grid_sample`` conventions, dtype handling, rounding) so results agree
with torchvision's tensor path up to float rounding. Every function takes and returns arrays; the wrapping into
zoo tensors, NumPy HWC arrays and the input checks shared with the PIL path live in ``functional.py``.
"""
import math

import numpy as np

from zoo.core.device import array_module

_INT_MAX = {np.dtype(np.uint8): 255, np.dtype(np.int8): 127, np.dtype(np.int16): 32767,
            np.dtype(np.int32): 2 ** 31 - 1, np.dtype(np.int64): 2 ** 63 - 1}


def max_value(dtype):
    """The value of 'full intensity' for an image dtype: 1.0 for floats, the largest integer for integers."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype in _INT_MAX:
        return _INT_MAX[dtype]
    raise TypeError(f"image dtype {dtype} is not supported (expected uint8, int8, int16, int32, int64 or a float)")


def _is_float(a):
    return a.dtype.kind == "f"


def _work_dtype(a):
    """The float dtype computations on ``a`` run in: its own for float32/float64, float32 otherwise."""
    return a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _cast_back(x, dtype):
    """A float result back to the image dtype: integers are rounded and clipped to their range first."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind in "iu":
        xp = array_module(x)
        info = np.iinfo(dtype)
        x = xp.clip(xp.rint(x), info.min, info.max)
    return x.astype(dtype)


def num_channels(img):
    return 1 if img.ndim == 2 else img.shape[-3]


def check_channels(img, permitted, what):
    c = num_channels(img)
    if c not in permitted:
        raise TypeError(f"{what}: input image tensor permitted channel values are {list(permitted)}, but found {c}")


# --- geometry ----------------------------------------------------------------------------------------------------

def crop(img, top, left, height, width):
    """``img[..., top:top+height, left:left+width]``; the parts outside the image are zero-filled."""
    h, w = img.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        inside = img[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
        pads = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(inside, pads, 0, "constant")
    return img[..., top:bottom, left:right]


def hflip(img):
    return array_module(img).ascontiguousarray(img[..., ::-1])


def vflip(img):
    return array_module(img).ascontiguousarray(img[..., ::-1, :])


def pad(img, padding_ltrb, fill, padding_mode):
    """Pad the last two axes by (left, top, right, bottom); negative amounts crop. ``fill`` is a number or one
    value per channel (constant mode only)."""
    xp = array_module(img)
    left, top, right, bottom = padding_ltrb
    h, w = img.shape[-2:]
    # negative padding crops first (as torchvision does), then only non-negative padding remains
    c_l, c_t, c_r, c_b = (max(-p, 0) for p in (left, top, right, bottom))
    if c_l or c_t or c_r or c_b:
        img = img[..., c_t:h - c_b, c_l:w - c_r]
        h, w = img.shape[-2:]
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if not (left or top or right or bottom):
        return img
    if padding_mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        raise ValueError(f"pad: reflect padding ({left}, {top}, {right}, {bottom}) must be smaller than the image "
                         f"size (height {h}, width {w}) on each side")
    if padding_mode == "constant":
        out_shape = img.shape[:-2] + (h + top + bottom, w + left + right)
        out = xp.empty(out_shape, dtype=img.dtype)
        fills = fill if isinstance(fill, (list, tuple)) else [fill]
        if len(fills) == 1:
            out[...] = _fill_value(fills[0], img.dtype)
        else:
            if img.ndim < 3 or len(fills) != img.shape[-3]:
                raise ValueError(f"pad: fill has {len(fills)} values but the image has {num_channels(img)} channels")
            for c, f in enumerate(fills):
                out[..., c, :, :] = _fill_value(f, img.dtype)
        out[..., top:top + h, left:left + w] = img
        return out
    widths = [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)]
    return xp.pad(img, widths, mode=padding_mode)


def _fill_value(f, dtype):
    if dtype.kind in "iu":
        return int(f)
    return float(f)


def _nearest_indices(in_size, out_size, exact):
    """Source rows/columns of torch's ``nearest`` / ``nearest-exact`` interpolation (computed in float32 like it)."""
    if out_size == in_size:
        return np.arange(out_size)
    scale = np.float32(in_size) / np.float32(out_size)
    if exact:
        src = np.floor(((np.arange(out_size) + 0.5) * np.float64(scale)).astype(np.float32))
    elif out_size == 2 * in_size:
        return np.arange(out_size) >> 1
    else:
        src = np.floor(np.arange(out_size, dtype=np.float32) * scale)
    return np.minimum(src.astype(np.int64), in_size - 1)


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _cubic(x, a):
    """Keys' cubic convolution kernel with parameter ``a`` (-0.5 in PIL and antialiased torch, -0.75 otherwise)."""
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def resize_weights(in_size, out_size, mode, antialias):
    """The (out_size, in_size) float64 matrix that resamples one axis.

    ``antialias``: the separable filter of PIL and torch's ``antialias=True`` — each output pixel averages the
    input pixels under the filter stretched by the downscale factor (triangle for bilinear, Keys' cubic with
    a=-0.5 for bicubic), weights normalised to sum to one. Without it: torch's plain ``interpolate`` with
    ``align_corners=False`` (two taps for bilinear, four clamped taps with a=-0.75 for bicubic).
    """
    scale = in_size / out_size
    out_idx = np.arange(out_size, dtype=np.float64)
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    if antialias:
        base_support = 1.0 if mode == "bilinear" else 2.0
        support = base_support * scale if scale >= 1.0 else base_support
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        center = scale * (out_idx + 0.5)
        lo = np.maximum(np.trunc(center - support + 0.5), 0).astype(np.int64)
        hi = np.minimum(np.trunc(center + support + 0.5), in_size).astype(np.int64)
        src = np.arange(in_size, dtype=np.float64)
        dist = (src[None, :] - center[:, None] + 0.5) * invscale
        w = _triangle(dist) if mode == "bilinear" else _cubic(dist, -0.5)
        inside = (src[None, :] >= lo[:, None]) & (src[None, :] < hi[:, None])
        w = np.where(inside, w, 0.0)
        total = w.sum(axis=1, keepdims=True)
        return np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    src = scale * (out_idx + 0.5) - 0.5
    rows = np.arange(out_size)
    if mode == "bilinear":
        src = np.maximum(src, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
        i1 = np.minimum(i0 + 1, in_size - 1)
        frac = src - i0
        np.add.at(weights, (rows, i0), 1.0 - frac)
        np.add.at(weights, (rows, i1), frac)
        return weights
    i = np.floor(src).astype(np.int64)
    t = src - i
    for k, tap_w in zip(range(-1, 3), (_cubic(t + 1.0, -0.75), _cubic(t, -0.75), _cubic(1.0 - t, -0.75),
                                         _cubic(2.0 - t, -0.75))):
        np.add.at(weights, (rows, np.clip(i + k, 0, in_size - 1)), tap_w)
    return weights


def resize(img, size, interpolation, antialias):
    """Resize the last two axes to ``size`` = (height, width) with ``interpolation`` in
    {"nearest", "nearest-exact", "bilinear", "bicubic"}; integer images are computed in float32, then rounded
    and clipped back to their dtype (like torchvision)."""
    xp = array_module(img)
    h, w = img.shape[-2:]
    oh, ow = size
    if interpolation in ("nearest", "nearest-exact"):
        exact = interpolation == "nearest-exact"
        rows = xp.asarray(_nearest_indices(h, oh, exact))
        cols = xp.asarray(_nearest_indices(w, ow, exact))
        return img[..., rows[:, None], cols[None, :]]
    if interpolation not in ("bilinear", "bicubic"):
        raise ValueError(f"resize: interpolation '{interpolation}' is not supported for tensor images "
                         f"(nearest, nearest-exact, bilinear and bicubic are; PIL images support all modes)")
    dt = _work_dtype(img)
    x = img.astype(dt, copy=False)
    if ow != w:
        ww = xp.asarray(resize_weights(w, ow, interpolation, antialias).astype(dt))
        x = xp.matmul(x, ww.T)
    if oh != h:
        wh = xp.asarray(resize_weights(h, oh, interpolation, antialias).astype(dt))
        x = xp.matmul(wh, x)
    return _cast_back(x, img.dtype)


def rotation_matrix(angle, center_xy):
    """The inverse affine map (2x3, row-major list) of a counter-clockwise rotation by ``angle`` degrees about
    ``center_xy`` (pixel offsets from the image centre): output coordinates → input coordinates, the convention
    of torchvision's ``_get_inverse_affine_matrix`` with no translation, scale 1 and no shear."""
    rad = math.radians(angle)
    cos_a, sin_a = math.cos(rad), math.sin(rad)
    cx, cy = center_xy
    # input = R · (output − c) + c, with R the rotation by +angle in image coordinates (y pointing down)
    m = [cos_a, -sin_a, 0.0, sin_a, cos_a, 0.0]
    m[2] = cx - m[0] * cx - m[1] * cy
    m[5] = cy - m[3] * cx - m[4] * cy
    return m


def affine_output_size(matrix, w, h):
    """(width, height) of the canvas that holds the whole image mapped by ``matrix`` (``expand=True``); like
    torchvision, corner coordinates are truncated to 1e-4 before rounding outwards."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    pts = corners @ theta.T
    lo = pts.min(axis=0) + np.array([0.5 * w, 0.5 * h], dtype=np.float32)
    hi = pts.max(axis=0) + np.array([0.5 * w, 0.5 * h], dtype=np.float32)
    tol = np.float32(1e-4)
    hi = np.ceil(np.trunc(hi / tol) * tol)
    lo = np.floor(np.trunc(lo / tol) * tol)
    size = hi - lo
    return int(size[0]), int(size[1])


def affine_sample(img, matrix, out_w, out_h, interpolation, fill):
    """Resample ``img`` through the inverse affine ``matrix`` onto an ``out_h`` x ``out_w`` canvas, sampling
    pixel centres like ``grid_sample(align_corners=False, padding_mode="zeros")``; pixels that come (partly)
    from outside the image are blended with ``fill`` (None: zeros)."""
    xp = array_module(img)
    h, w = img.shape[-2:]
    dt = _work_dtype(img)
    # output pixel centres relative to the canvas centre, mapped to input pixel coordinates
    xs = np.linspace(-out_w * 0.5 + 0.5, out_w * 0.5 - 0.5, out_w, dtype=np.float32).astype(dt)
    ys = np.linspace(-out_h * 0.5 + 0.5, out_h * 0.5 - 0.5, out_h, dtype=np.float32).astype(dt)
    # the matrix is first divided by the half sizes (normalised coordinates, as torch's affine grid), then
    # unnormalised by grid_sample's rule: the same float steps keep nearest-neighbour ties identical
    m = np.asarray(matrix, dtype=dt).reshape(2, 3) / np.array([[0.5 * w], [0.5 * h]], dtype=dt)
    gx = xs[None, :] * m[0, 0] + ys[:, None] * m[0, 1] + m[0, 2]
    gy = xs[None, :] * m[1, 0] + ys[:, None] * m[1, 1] + m[1, 2]
    ix = ((gx + 1) * w - 1) / 2
    iy = ((gy + 1) * h - 1) / 2
    x = img.astype(dt, copy=False)
    lead = x.shape[:-2]
    x = x.reshape((-1, h, w))
    ones = np.ones((h, w), dtype=dt)

    def gather(a, yi, xi, wgt):
        valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        yc, xc = np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)
        coef = np.where(valid, wgt, 0).astype(dt)
        return a[..., xp.asarray(yc), xp.asarray(xc)] * xp.asarray(coef), ones[yc, xc] * coef

    if interpolation == "nearest":
        out, mask = gather(x, np.rint(iy).astype(np.int64), np.rint(ix).astype(np.int64), 1.0)
    elif interpolation == "bilinear":
        x0, y0 = np.floor(ix).astype(np.int64), np.floor(iy).astype(np.int64)
        fx, fy = (ix - x0).astype(dt), (iy - y0).astype(dt)
        out, mask = 0, 0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                o, mk = gather(x, y0 + dy, x0 + dx, wy * wx)
                out, mask = out + o, mask + mk
    else:
        raise ValueError(f"interpolation '{interpolation}' is not supported for tensor images here "
                         f"(nearest and bilinear are)")
    out = out.reshape(lead + (out_h, out_w))
    if fill is not None:
        channels = lead[-1] if lead else 1
        fills = np.asarray(fill, dtype=dt).reshape(-1)
        if fills.size not in (1, channels):
            raise ValueError(f"the number of elements in 'fill' cannot broadcast to match the number of channels of "
                             f"the image ({fills.size} != {channels})")
        fills = xp.asarray(fills.reshape((-1, 1, 1)) if lead else fills.reshape((1, 1)))
        mask = xp.asarray(mask)
        if interpolation == "nearest":
            out = xp.where(mask < 0.5, fills, out)
        else:
            out = out * mask + (1.0 - mask) * fills
    return _cast_back(out, img.dtype)


# --- colour ------------------------------------------------------------------------------------------------------

def blend(img1, img2, ratio):
    """``ratio * img1 + (1 - ratio) * img2`` clipped to the valid range and cast (truncated) to img1's dtype."""
    xp = array_module(img1)
    dt = _work_dtype(img1)
    r = dt.type(ratio)
    out = r * img1.astype(dt, copy=False) + dt.type(1.0 - ratio) * xp.asarray(img2).astype(dt, copy=False)
    return xp.clip(out, 0, max_value(img1.dtype)).astype(img1.dtype)


def rgb_to_grayscale(img, num_output_channels):
    """ITU-R 601-2 luma (0.2989 R + 0.587 G + 0.114 B), truncated to the input dtype; 1 or 3 output channels."""
    xp = array_module(img)
    if img.shape[-3] == 3:
        dt = _work_dtype(img)
        r, g, b = (img[..., i, :, :].astype(dt) for i in range(3))
        gray = (dt.type(0.2989) * r + dt.type(0.587) * g + dt.type(0.114) * b).astype(img.dtype)[..., None, :, :]
    else:
        gray = img.copy()
    if num_output_channels == 3:
        return xp.ascontiguousarray(xp.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:]))
    return gray


def adjust_brightness(img, factor):
    return blend(img, array_module(img).zeros_like(img), factor)


def adjust_contrast(img, factor):
    xp = array_module(img)
    dt = _work_dtype(img)
    gray = rgb_to_grayscale(img, 1) if num_channels(img) == 3 else img
    mean = xp.mean(gray.astype(dt), axis=(-3, -2, -1), keepdims=True)
    return blend(img, mean, factor)


def adjust_saturation(img, factor):
    if num_channels(img) == 1:  # like PIL: a grayscale image has no saturation
        return img
    return blend(img, rgb_to_grayscale(img, 1), factor)


def _rgb_to_hsv(img):
    xp = array_module(img)
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    flat = maxc == minc
    span = maxc - minc
    s = span / xp.where(flat, 1, maxc)
    span_safe = xp.where(flat, 1, span)
    rc, gc, bc = (maxc - r) / span_safe, (maxc - g) / span_safe, (maxc - b) / span_safe
    hue = xp.where(maxc == r, bc - gc, xp.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = xp.where(flat, 0, hue)
    hue = xp.fmod(hue / 6.0 + 1.0, 1.0)
    return hue, s, maxc


def _hsv_to_rgb(h, s, v):
    xp = array_module(h)
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # sector i of the hue circle picks which of (v, q, p, t) go to R, G and B
    table = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))
    out = []
    for ch in range(3):
        val = xp.zeros_like(v)
        for sector in range(6):
            val = xp.where(i == sector, table[sector][ch], val)
        out.append(val)
    return xp.stack(out, axis=-3)


def adjust_hue(img, factor):
    """Rotate the hue by ``factor`` (a fraction of the colour circle) through HSV, in float32/float64."""
    if num_channels(img) == 1:
        return img
    orig = img.dtype
    x = img if img.dtype in (np.float32, np.float64) else convert_image_dtype(img, np.float32)
    h, s, v = _rgb_to_hsv(x)
    h = (h + x.dtype.type(factor)) % 1.0
    out = _hsv_to_rgb(h.astype(x.dtype), s, v).astype(x.dtype)
    return convert_image_dtype(out, orig)


def convert_image_dtype(img, dtype):
    """Convert between image dtypes, rescaling values: floats live in [0, 1], integers in [0, max]."""
    xp = array_module(img)
    dtype = np.dtype(dtype)
    if img.dtype == dtype:
        return img
    if _is_float(img):
        if dtype.kind == "f":
            return img.astype(dtype)
        if (img.dtype == np.float32 and dtype in (np.int32, np.int64)) or (img.dtype == np.float64 and
                                                                            dtype == np.int64):
            raise RuntimeError(f"The cast from {img.dtype} to {dtype} cannot be performed safely.")
        top = float(max_value(dtype))
        # ×(max + 1 − eps) spreads [0, 1] evenly over the integers; values outside [0, 1] are clipped first
        scaled = xp.clip(img, 0.0, 1.0) * img.dtype.type(top + 1.0 - 1e-3)
        return scaled.astype(dtype)
    in_max = max_value(img.dtype)
    if dtype.kind == "f":
        return img.astype(dtype) / dtype.type(in_max)
    if dtype.kind not in "iu":
        raise TypeError(f"convert_image_dtype: unsupported target dtype {dtype}")
    out_max = max_value(dtype)
    if in_max > out_max:
        return (img // ((in_max + 1) // (out_max + 1))).astype(dtype)
    return img.astype(dtype) * dtype.type((out_max + 1) // (in_max + 1))
