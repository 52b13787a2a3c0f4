"""Image utilities with torchvision's names: ``make_grid`` tiles a batch of images into one image, ``save_image``
writes a tensor (or a grid of them) as an image file through Pillow, atomically."""
import contextlib
import math
import os
import uuid

import numpy as np

import zoo
from zoo.core.device import array_module
from zoo.core.tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _as_batch_array(tensor):
    """The images as a (B, C, H, W) array: a list of (C, H, W) tensors is stacked, an (H, W) or (C, H, W) image is
    one image, single-channel images become 3-channel (so the grid is an RGB image), as in torchvision."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: expected a zoo Tensor or a non-empty list of zoo Tensors")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"make_grid: all images in the list must have the same shape, got {sorted(shapes)}")
        xp = array_module(tensor[0]._data)
        arr = xp.stack([t.detach()._data for t in tensor])
    elif isinstance(tensor, Tensor):
        arr = tensor.detach()._data
    else:
        raise TypeError(f"tensor should be of type zoo.Tensor (or a list of them), got {type(tensor).__name__}")
    xp = array_module(arr)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = xp.concatenate([arr, arr, arr], axis=0)
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid: expected images shaped (B, C, H, W), (C, H, W) or (H, W); got {arr.shape}")
    if arr.shape[1] == 1:
        arr = xp.concatenate([arr, arr, arr], axis=1)
    return arr


def _normalize_range(arr, value_range):
    """Clip to ``value_range`` (default: the array's own min and max) and map it linearly to [0, 1]."""
    low, high = (float(arr.min()), float(arr.max())) if value_range is None else value_range
    arr = array_module(arr).clip(arr, low, high)
    return (arr - arr.dtype.type(low)) / arr.dtype.type(max(high - low, 1e-5))


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images (B, C, H, W) — or a list of (C, H, W) images — into one (C, H', W') image with
    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` between and around them.

    ``normalize`` maps ``value_range`` (default: the min and max, per image when ``scale_each``) to [0, 1].
    Returns a new tensor that does not record autograd history (it is for viewing and saving).
    """
    arr = _as_batch_array(tensor)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        if arr.dtype.kind != "f":
            arr = arr.astype(zoo.get_default_dtype().numpy)
        if scale_each:
            arr = array_module(arr).stack([_normalize_range(img, value_range) for img in arr])
        else:
            arr = _normalize_range(arr, value_range)
    if arr.shape[0] == 1:
        return zoo.as_tensor(array_module(arr).ascontiguousarray(arr[0]))
    nmaps, channels, h, w = arr.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(nmaps / xmaps))
    cell_h, cell_w = h + padding, w + padding
    xp = array_module(arr)
    grid = xp.full((channels, cell_h * ymaps + padding, cell_w * xmaps + padding), pad_value, dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = arr[k]
    return zoo.as_tensor(grid)


@contextlib.contextmanager
def _atomic_write(path):
    """A binary file to write ``path`` through: a temporary file in the same folder that replaces ``path`` in one
    rename when the block succeeds and is removed when it fails, so readers never see a half-written file."""
    path = os.path.abspath(os.fspath(path))
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _format_for(path):
    from PIL import Image
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if not ext:
        return "PNG"
    fmt = Image.registered_extensions().get(ext)
    if fmt is None:
        raise ValueError(f"save_image: unknown image file extension {ext!r} in {os.fspath(path)!r}; pass format= "
                         f"(e.g. 'PNG') or use .png/.jpg")
    return fmt


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor image — or a batch, tiled with ``make_grid(tensor, **kwargs)`` — to ``fp`` (a path or a
    binary file object). Float values in [0, 1] become 8-bit (×255, rounded); uint8 tensors are written as
    they are. The format comes from ``format``, else the file extension (PNG when there is none). A path is
    written atomically (temporary file + rename)."""
    from PIL import Image
    grid = make_grid(tensor, **kwargs)
    arr = grid._cpu_array()
    if arr.dtype != np.uint8:
        arr = np.clip(arr.astype(np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
    hwc = np.ascontiguousarray(arr.transpose(1, 2, 0))
    if hwc.shape[2] == 1:
        hwc = hwc[:, :, 0]
    image = Image.fromarray(hwc)
    if hasattr(fp, "write"):
        image.save(fp, format=format or "PNG")
        return
    fmt = format or _format_for(fp)
    with _atomic_write(fp) as f:
        image.save(f, format=fmt)
