"""Functional image transforms with torchvision's names and semantics (``import zoo.vision.transforms.functional
as F``).

Every function takes one image in any of three forms and returns the same form:

* a PIL image — Pillow does the work (its own resampling, rotation and enhancers), as torchvision does;
* a zoo tensor shaped ``(..., C, H, W)`` (or ``(H, W)``), uint8 or float in [0, 1] — zoo/NumPy (or CuPy) code
  that follows torchvision's tensor backend, so results match it up to float rounding;
* a NumPy array shaped ``(H, W, C)`` or ``(H, W)`` (e.g. a decoded uint8 image) — the tensor code on the
  array, returned as an HWC array of the same dtype.

Geometric and colour operations do not record autograd history, so a tensor that requires grad is refused
(``normalize`` and ``erase`` are plain tensor ops and are differentiable).
"""
import enum
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
from PIL import Image

import zoo
from zoo.core import dtypes
from zoo.core.tensor import Tensor

from . import _functional_pil as F_pil
from . import _functional_tensor as F_t

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor",
           "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize", "resize", "pad", "crop",
           "center_crop", "resized_crop", "hflip", "vflip", "rotate", "adjust_brightness", "adjust_contrast",
           "adjust_saturation", "adjust_hue", "rgb_to_grayscale", "to_grayscale", "erase"]


class InterpolationMode(enum.Enum):
    """Interpolation modes, as torchvision's enum: tensors support NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC;
    PIL images all of them."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer filter constants, still accepted (as in torchvision) in place of an InterpolationMode
_PIL_CONSTANTS = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                  4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation(value):
    """An InterpolationMode from the enum, its string value or a Pillow integer constant."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, str):
        for mode in InterpolationMode:
            if value.lower() == mode.value:
                return mode
    elif isinstance(value, int) and not isinstance(value, bool) and value in _PIL_CONSTANTS:
        return _PIL_CONSTANTS[value]
    raise TypeError(f"interpolation should be an InterpolationMode (or its name, or a Pillow filter constant), "
                    f"got {value!r}")


# --- the three image forms ---------------------------------------------------------------------------------------

def _is_pil_image(img):
    return isinstance(img, Image.Image)


def _unwrap(img, fname):
    """``(array, rewrap)``: the image as a ``(..., C, H, W)`` array and the function that turns a result array
    back into the caller's form (the input object itself when the operation left the array untouched). 2-D
    images get a channel axis for the duration of the call."""
    if isinstance(img, Tensor):
        if img.requires_grad and zoo.is_grad_enabled():
            raise NotImplementedError(f"{fname} does not record autograd history: call it on a tensor that does "
                                      f"not require grad (e.g. img.detach())")
        if img.ndim < 2:
            raise TypeError(f"{fname}: a tensor image has shape (..., H, W); got shape {tuple(img.shape)}")
        arr = img._data[None] if img.ndim == 2 else img._data

        def rewrap(a):
            if a is arr:
                return img
            return zoo.as_tensor(a[0] if img.ndim == 2 and a.shape[0] == 1 else a)
        return arr, rewrap
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{fname}: a NumPy image has shape (H, W) or (H, W, C); got shape {img.shape}")
        arr = img[None] if img.ndim == 2 else np.moveaxis(img, -1, 0)

        def rewrap(a):
            if a is arr:
                return img
            if img.ndim == 2 and a.shape[0] == 1:
                return a[0]
            return np.ascontiguousarray(np.moveaxis(a, 0, -1))
        return arr, rewrap
    raise TypeError(f"{fname}: img should be a PIL Image, a zoo Tensor or a NumPy array; got {type(img).__name__}")


def get_dimensions(img):
    """``[channels, height, width]`` of an image."""
    if _is_pil_image(img):
        return [F_pil.num_channels(img), img.height, img.width]
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"get_dimensions: a tensor image has shape (..., H, W); got shape {tuple(img.shape)}")
        return [1 if img.ndim == 2 else img.shape[-3], img.shape[-2], img.shape[-1]]
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"get_dimensions: a NumPy image has shape (H, W) or (H, W, C); got shape {img.shape}")
        return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]
    raise TypeError(f"get_dimensions: img should be a PIL Image, a zoo Tensor or a NumPy array; "
                    f"got {type(img).__name__}")


def get_image_size(img):
    """``[width, height]`` of an image (torchvision's order)."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# --- conversions -------------------------------------------------------------------------------------------------

def _pil_to_array(pic):
    """The pixels of a PIL image as an HWC NumPy array with a dtype zoo supports."""
    if pic.mode == "1":
        arr = np.array(pic, dtype=np.uint8) * 255
    elif pic.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.array(pic).astype(np.int32)  # zoo has no uint16: int32 holds every 16-bit value
    elif pic.mode == "I":
        arr = np.array(pic, dtype=np.int32)
    elif pic.mode == "F":
        arr = np.array(pic, dtype=np.float32)
    else:
        arr = np.array(pic, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def _numpy_supported(arr):
    if arr.dtype == np.uint16:
        return arr.astype(np.int32)
    if arr.dtype == np.uint32:
        return arr.astype(np.int64)
    return arr


def to_tensor(pic):
    """A PIL image or an HWC NumPy array → a CHW tensor; uint8 data (and PIL mode '1') is scaled to float in
    [0, 1] (default float dtype), other dtypes keep their values."""
    if _is_pil_image(pic):
        arr = _pil_to_array(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(_numpy_supported(arr).transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        dt = dtypes.get_default_dtype().numpy
        return zoo.as_tensor(chw.astype(dt) / dt.type(255))
    return zoo.as_tensor(chw)


def pil_to_tensor(pic):
    """A PIL image → a CHW tensor holding the raw pixel values (uint8 for 8-bit modes, no scaling)."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    if pic.mode == "1":
        arr = np.array(pic)
        arr = arr[:, :, None] if arr.ndim == 2 else arr
    else:
        arr = _pil_to_array(pic)
    return zoo.as_tensor(np.ascontiguousarray(arr.transpose(2, 0, 1)))


_MODES_1 = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
            np.dtype(np.int32): "I", np.dtype(np.float32): "F"}
_PERMITTED = {2: ("LA",), 3: ("RGB", "YCbCr", "HSV"), 4: ("RGBA", "CMYK", "RGBX")}
_DEFAULT_MODE = {2: "LA", 3: "RGB", 4: "RGBA"}


def to_pil_image(pic, mode=None):
    """A CHW tensor or HWC NumPy array → a PIL image. Float data is taken as [0, 1] and becomes uint8 (×255,
    truncated, clipped to [0, 255]) unless ``mode='F'``; the mode follows torchvision (L, I;16, I, F, LA, RGB,
    RGBA …)."""
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic.detach()._cpu_array()
        if arr.ndim == 3:
            arr = arr.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        arr = pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
    if arr.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-1]} channels.")
    if arr.dtype.kind == "f" and mode != "F":
        arr = np.clip(arr * 255, 0, 255).astype(np.uint8)
    channels = arr.shape[2]
    if channels == 1:
        arr = arr[:, :, 0]
        expected = _MODES_1.get(arr.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. Should be {expected}")
        mode = expected
        if mode == "I;16":
            arr = arr.astype("<u2")
        elif mode == "F":
            arr = arr.astype(np.float32)
    else:
        if mode is not None and mode not in _PERMITTED[channels]:
            raise ValueError(f"Only modes {list(_PERMITTED[channels])} are supported for {channels}-channel inputs")
        if mode is None and arr.dtype == np.uint8:
            mode = _DEFAULT_MODE[channels]
        if mode is not None and arr.dtype != np.uint8:
            raise TypeError(f"Input type {arr.dtype} is not supported for mode {mode} (expected uint8)")
    if mode is None:
        raise TypeError(f"Input type {arr.dtype} is not supported")
    arr = np.ascontiguousarray(arr)
    return Image.frombytes(mode, (arr.shape[1], arr.shape[0]), arr.tobytes())


def convert_image_dtype(image, dtype=zoo.float32):
    """Convert a tensor image to ``dtype``, rescaling values (float [0, 1] ↔ integer [0, max])."""
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be a zoo Tensor; got {type(image).__name__}")
    arr, wrap = _unwrap(image, "convert_image_dtype")
    return wrap(F_t.convert_image_dtype(arr, dtypes.as_dtype(dtype).numpy))


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel of a float tensor image (..., C, H, W); differentiable."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    np_dtype = tensor.dtype.numpy
    mean_a = np.asarray(mean.detach()._cpu_array() if isinstance(mean, Tensor) else mean, dtype=np_dtype)
    std_a = np.asarray(std.detach()._cpu_array() if isinstance(std, Tensor) else std, dtype=np_dtype)
    if (std_a == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    channels = tensor.shape[-3]
    for name, a in (("mean", mean_a), ("std", std_a)):
        if a.ndim == 1 and a.size not in (1, channels):
            raise ValueError(f"normalize: {name} has {a.size} values but the image has {channels} channels")
    mean_t = zoo.as_tensor(mean_a.reshape(-1, 1, 1) if mean_a.ndim == 1 else mean_a, device=tensor.device)
    std_t = zoo.as_tensor(std_a.reshape(-1, 1, 1) if std_a.ndim == 1 else std_a, device=tensor.device)
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t


# --- geometry ----------------------------------------------------------------------------------------------------

def _output_size(image_hw, size, max_size):
    """torchvision's ``_compute_resized_output_size``: ``[h, w]`` for an int/1-sequence size (shorter side,
    aspect kept, longer side capped at ``max_size``) or a 2-sequence ``(h, w)``."""
    h, w = image_hw
    if len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        new_short = size[0]
        new_long = int(new_short * long / short)
        if max_size is not None:
            if max_size <= new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    else:
        new_h, new_w = size
    return [int(new_h), int(new_w)]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size``: an int (or 1-sequence) sets the shorter side keeping the aspect ratio, ``(h, w)`` sets
    both. PIL images always antialias (Pillow's filters); tensors antialias bilinear/bicubic when ``antialias``
    is True (None means False for tensors, as in torchvision)."""
    interpolation = _interpolation(interpolation)
    if isinstance(size, bool) or not isinstance(size, (int, Sequence)):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    if isinstance(size, Sequence):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             f"tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1")
        size = list(size)
    else:
        size = [size]
    if any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s <= 0 for s in size):
        raise ValueError(f"resize: size values must be positive integers, got {size}")
    _, h, w = get_dimensions(img)
    out_hw = _output_size((h, w), size, max_size)
    if min(out_hw) <= 0:
        raise ValueError(f"resize: an image of size (h={h}, w={w}) would become {out_hw}; sizes must be positive")
    if out_hw == [h, w]:
        return img
    if _is_pil_image(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
        return F_pil.resize(img, out_hw, interpolation.value)
    arr, wrap = _unwrap(img, "resize")
    use_aa = bool(antialias) and interpolation in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    return wrap(F_t.resize(arr, out_hw, interpolation.value, use_aa))


def _parse_padding(padding):
    """(left, top, right, bottom) from an int or a 1-, 2- (left/right, top/bottom) or 4-sequence."""
    if isinstance(padding, bool) or not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    values = list(padding) if isinstance(padding, (tuple, list)) else [padding]
    if len(values) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(values)} element tuple")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral,)):
            raise TypeError(f"padding values must be integers, got {padding!r}")
    values = [int(v) for v in values]
    if len(values) == 1:
        return [values[0]] * 4
    if len(values) == 2:
        return [values[0], values[1], values[0], values[1]]
    return values


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: ``padding`` int / (left-right, top-bottom) / (left, top, right, bottom); negative values
    crop. ``padding_mode`` constant (``fill``: a number or one per channel), edge, reflect or symmetric."""
    ltrb = _parse_padding(padding)
    if fill is None:
        fill = 0
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate fill arg: {fill!r}")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric; got {padding_mode!r}")
    if _is_pil_image(img):
        return F_pil.pad(img, ltrb, fill, padding_mode)
    arr, wrap = _unwrap(img, "pad")
    return wrap(F_t.pad(arr, ltrb, fill, padding_mode))


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` region whose top-left corner is (``top``, ``left``); outside is zero."""
    top, left, height, width = (int(v) for v in (top, left, height, width))
    if height < 0 or width < 0:
        raise ValueError(f"crop: height and width must be non-negative, got ({height}, {width})")
    if _is_pil_image(img):
        return F_pil.crop(img, top, left, height, width)
    arr, wrap = _unwrap(img, "crop")
    return wrap(F_t.crop(arr, top, left, height, width))


def _crop_size(output_size, what):
    if isinstance(output_size, numbers.Number) and not isinstance(output_size, bool):
        return int(output_size), int(output_size)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return int(output_size[0]), int(output_size[0])
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        return int(output_size[0]), int(output_size[1])
    raise ValueError(f"{what}: size should be an int or a sequence (h, w); got {output_size!r}")


def center_crop(img, output_size):
    """The centred ``(h, w)`` crop; an image smaller than the crop is zero-padded first (torchvision's rule)."""
    crop_h, crop_w = _crop_size(output_size, "center_crop")
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """``crop`` then ``resize`` to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img):
    """Mirror left ↔ right."""
    if _is_pil_image(img):
        return F_pil.hflip(img)
    arr, wrap = _unwrap(img, "hflip")
    return wrap(F_t.hflip(arr))


def vflip(img):
    """Mirror top ↔ bottom."""
    if _is_pil_image(img):
        return F_pil.vflip(img)
    arr, wrap = _unwrap(img, "vflip")
    return wrap(F_t.vflip(arr))


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (x, y) in pixels (default: the image centre).
    ``expand`` enlarges the canvas to hold the whole rotated image; uncovered pixels get ``fill``.
    Tensors support nearest and bilinear interpolation, PIL images bicubic too."""
    interpolation = _interpolation(interpolation)
    if isinstance(angle, bool) or not isinstance(angle, numbers.Number):
        raise TypeError(f"Argument angle should be int or float, got {type(angle).__name__}")
    if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
        raise TypeError(f"Argument center should be a sequence of two numbers (x, y), got {center!r}")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"Argument fill should be a number or a sequence, got {fill!r}")
    if _is_pil_image(img):
        return F_pil.rotate(img, angle, interpolation.value, expand,
                            None if center is None else tuple(center), fill)
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input "
                         f"(nearest and bilinear are)")
    arr, wrap = _unwrap(img, "rotate")
    h, w = arr.shape[-2:]
    center_xy = [0.0, 0.0] if center is None else [float(c) - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = F_t.rotation_matrix(float(angle), center_xy)
    out_w, out_h = F_t.affine_output_size(matrix, w, h) if expand else (w, h)
    return wrap(F_t.affine_sample(arr, matrix, out_w, out_h, interpolation.value, fill))


# --- colour ------------------------------------------------------------------------------------------------------

def _colour_op(img, name, factor, pil_fn, array_fn, permitted=(1, 3)):
    if _is_pil_image(img):
        return pil_fn(img, factor)
    arr, wrap = _unwrap(img, name)
    F_t.check_channels(arr, permitted, name)
    return wrap(array_fn(arr, factor))


def _check_factor(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise TypeError(f"{name} should be a number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    """Scale intensities by ``brightness_factor`` (0 black, 1 unchanged)."""
    _check_factor(brightness_factor, "brightness_factor")
    return _colour_op(img, "adjust_brightness", brightness_factor, F_pil.adjust_brightness, F_t.adjust_brightness)


def adjust_contrast(img, contrast_factor):
    """Blend with the mean gray level: 0 gives a uniform gray image, 1 the original."""
    _check_factor(contrast_factor, "contrast_factor")
    return _colour_op(img, "adjust_contrast", contrast_factor, F_pil.adjust_contrast, F_t.adjust_contrast)


def adjust_saturation(img, saturation_factor):
    """Blend with the grayscale image: 0 gives gray, 1 the original, 2 doubles saturation."""
    _check_factor(saturation_factor, "saturation_factor")
    return _colour_op(img, "adjust_saturation", saturation_factor, F_pil.adjust_saturation, F_t.adjust_saturation)


def adjust_hue(img, hue_factor):
    """Rotate the hue by ``hue_factor`` in [-0.5, 0.5] (a fraction of the colour circle)."""
    if isinstance(hue_factor, bool) or not isinstance(hue_factor, numbers.Number):
        raise TypeError(f"hue_factor should be a number, got {hue_factor!r}")
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _colour_op(img, "adjust_hue", hue_factor, F_pil.adjust_hue, F_t.adjust_hue)


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma of an RGB image (0.2989 R + 0.587 G + 0.114 B on tensors, Pillow's 'L' conversion on PIL images),
    with 1 or 3 (identical) output channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil_image(img):
        return F_pil.to_grayscale(img, num_output_channels)
    arr, wrap = _unwrap(img, "rgb_to_grayscale")
    F_t.check_channels(arr, (1, 3), "rgb_to_grayscale")
    return wrap(F_t.rgb_to_grayscale(arr, num_output_channels))


to_grayscale = rgb_to_grayscale


def erase(img, i, j, h, w, v, inplace=False):
    """Set ``img[..., i:i+h, j:j+w]`` to ``v`` (a tensor broadcastable to the region, or a number)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img

