"""Hugging Face image processors (``preprocessor_config.json``): the same pixel_values as Transformers' PIL backend.

A model directory or hub repo carries a ``preprocessor_config.json`` saying how images become ``pixel_values``::

    {"image_processor_type": "ViTImageProcessor", "do_resize": true, "size": {"height": 224, "width": 224},
     "resample": 2, "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true,
     "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}

:class:`AutoImageProcessor` reads it and builds the class it names (``ViTImageProcessor``, or
``ConvNextImageProcessor``, which ``microsoft/resnet-*`` use; the legacy ``*FeatureExtractor`` names and sizes
given as one int are understood). The steps, in Transformers' order and arithmetic (its ``PilBackend``):

1. the image as a (C, H, W) array (PIL images, uint8 or float NumPy arrays HWC or CHW, zoo tensors CHW);
2. ``do_resize``: ``size`` ``{"height", "width"}`` resizes to exactly that, ``{"shortest_edge"}`` keeps the
   aspect ratio (the long side truncated to an int); resampling is Pillow's on uint8 pixels (``resample``:
   0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming); float images in [0, 1] are scaled to
   uint8 for it and back. ``ConvNextImageProcessor`` resizes the shortest edge to ``int(size / crop_pct)`` and
   center-crops ``size`` (below 384), or warps to ``size`` x ``size`` (384 and up);
3. ``do_center_crop`` to ``crop_size`` (zero padding when the image is smaller);
4. ``do_rescale``: ``x * rescale_factor`` computed in float64, stored as float32;
5. ``do_normalize``: ``(x - mean) / std`` in float32.

Transformers 5 defaults to a torchvision backend whose antialiased tensor resize differs from Pillow's by up to a
few 1/255 steps; zoo has no torch, so it follows the PIL backend (``ViTImageProcessorPil`` ...) exactly.
"""
import json
import os

import numpy as np

__all__ = ["BatchFeature", "BaseImageProcessor", "ViTImageProcessor", "ConvNextImageProcessor",
           "AutoImageProcessor", "PREPROCESSOR_CONFIG_NAME"]

PREPROCESSOR_CONFIG_NAME = "preprocessor_config.json"
IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5]
IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5]
IMAGENET_DEFAULT_MEAN = [0.485, 0.456, 0.406]
IMAGENET_DEFAULT_STD = [0.229, 0.224, 0.225]

_RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


class BatchFeature(dict):
    """The processor's output: a dict (``out["pixel_values"]``) also readable as attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"'BatchFeature' object has no attribute '{name}'") from None


def _size_dict(size, default_to_square, name="size"):
    """Transformers' ``get_size_dict``: an int becomes ``{"height": s, "width": s}`` (square) or
    ``{"shortest_edge": s}``, a (h, w) pair ``{"height", "width"}``; dicts are checked."""
    if size is None:
        return None
    if isinstance(size, dict):
        keys = set(size)
        if keys not in ({"height", "width"}, {"shortest_edge"}, {"shortest_edge", "longest_edge"}):
            raise ValueError(f"{name} must have the keys height and width, or shortest_edge (and longest_edge); got "
                             f"{sorted(keys)}")
        return {k: int(v) for k, v in size.items()}
    if isinstance(size, (list, tuple)):
        if len(size) != 2:
            raise ValueError(f"{name} as a sequence must be (height, width), got {size!r}")
        return {"height": int(size[0]), "width": int(size[1])}
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        return {"height": int(size), "width": int(size)} if default_to_square else {"shortest_edge": int(size)}
    raise TypeError(f"{name} must be an int, a (height, width) pair or a dict, got {size!r}")


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("zoo.vision image processing needs Pillow: pip install pillow") from None
    return Image


def _to_chw(image):
    """A (C, H, W) NumPy array from a PIL image, a NumPy array (HWC or CHW) or a zoo tensor (CHW)."""
    Image = _pil()
    if isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGB")
        array = np.asarray(image)
        return array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    if hasattr(image, "detach") and hasattr(image, "numpy"):  # a zoo (or torch) tensor, CHW
        array = image.detach().cpu().numpy() if hasattr(image.detach(), "cpu") else image.detach().numpy()
        if array.ndim != 3:
            raise ValueError(f"an image tensor must be (C, H, W), got shape {tuple(array.shape)}")
        return array
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            return image[None]
        if image.ndim != 3:
            raise ValueError(f"an image array must be (H, W), (H, W, C) or (C, H, W), got shape {image.shape}")
        if image.shape[0] in (1, 3, 4):  # ambiguous shapes are taken as channels-first, as Transformers does
            return image
        if image.shape[-1] in (1, 3, 4):
            return np.moveaxis(image, -1, 0)
        raise ValueError(f"cannot tell the channel axis of an image array of shape {image.shape}: it needs 1, 3 or "
                         "4 channels first or last")
    raise TypeError(f"expected a PIL image, a NumPy array or a tensor, got {type(image).__name__}")


def _needs_rescale_for_pil(image):
    if image.dtype == np.uint8:
        return False
    if np.allclose(image, image.astype(int)):
        if image.min() >= 0 and image.max() <= 255:
            return False
        raise ValueError(f"an image with values outside [0, 255] ([{image.min()}, {image.max()}]) cannot be resized")
    if image.min() >= 0 and image.max() <= 1:
        return True
    raise ValueError(f"a float image must hold values in [0, 1] to be resized, got [{image.min()}, {image.max()}]")


def resize(image, height, width, resample=2):
    """Resize a (C, H, W) array with Pillow on uint8 pixels, as Transformers' ``resize``; returns (C, h, w)."""
    Image = _pil()
    if resample not in _RESAMPLE_NAMES:
        raise ValueError(f"resample must be one of {sorted(_RESAMPLE_NAMES)} (Pillow's filters), got {resample!r}")
    rescale = _needs_rescale_for_pil(image)
    hwc = np.moveaxis(image, 0, -1)
    if hwc.shape[-1] == 1:
        hwc = hwc[..., 0]
    if rescale:
        hwc = (hwc.astype(np.float64) * 255).astype(np.float32)
    pil = Image.fromarray(hwc.astype(np.uint8))
    out = np.asarray(pil.resize((int(width), int(height)), resample=int(resample)))
    out = out[None] if out.ndim == 2 else np.moveaxis(out, -1, 0)
    if rescale:
        out = (out.astype(np.float64) * (1 / 255)).astype(np.float32)
    return out


def shortest_edge_size(height, width, size):
    """(new_height, new_width) with the shorter side ``size`` and the longer truncated to keep the ratio."""
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(size * long / short)
    return (new_long, size) if width <= height else (size, new_long)


def center_crop(image, height, width):
    """Crop the center ``height`` x ``width`` of a (C, H, W) array, zero-padding when it is smaller."""
    h, w = image.shape[-2:]
    top, left = (h - height) // 2, (w - width) // 2
    if top >= 0 and left >= 0 and top + height <= h and left + width <= w:
        return image[..., top:top + height, left:left + width]
    new_h, new_w = max(height, h), max(width, w)
    padded = np.zeros(image.shape[:-2] + (new_h, new_w), dtype=image.dtype)
    pad_top, pad_left = -(-(new_h - h) // 2), -(-(new_w - w) // 2)
    padded[..., pad_top:pad_top + h, pad_left:pad_left + w] = image
    top, left = top + pad_top, left + pad_left
    return padded[..., max(0, top):min(new_h, top + height), max(0, left):min(new_w, left + width)]


def rescale(image, scale):
    return (image.astype(np.float64) * scale).astype(np.float32)


def normalize(image, mean, std):
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    c = image.shape[0]
    mean = np.asarray(mean if isinstance(mean, (list, tuple)) else [mean] * c, dtype=image.dtype)
    std = np.asarray(std if isinstance(std, (list, tuple)) else [std] * c, dtype=image.dtype)
    if len(mean) != c or len(std) != c:
        raise ValueError(f"image_mean / image_std have {len(mean)} / {len(std)} values for an image of {c} "
                         "channels")
    return (image - mean[:, None, None]) / std[:, None, None]


def _convert_rgb(image):
    """A (3, H, W) array: grayscale repeated, RGBA composited onto white (as Transformers' convert_to_rgb)."""
    c = image.shape[0]
    if c == 3:
        return image
    if c == 1:
        return np.repeat(image, 3, axis=0)
    if c == 4:
        white = 255 if np.issubdtype(image.dtype, np.integer) else 1.0
        alpha = image[3:4] / white
        out = alpha * image[:3] + (1 - alpha) * white
        return np.round(out).astype(image.dtype) if white == 255 else out.astype(image.dtype)
    raise ValueError(f"cannot convert an image of {c} channels to RGB")


class BaseImageProcessor:
    """The generic processor: resize, center-crop, rescale, normalize (see the module docstring)."""

    image_processor_type = "BaseImageProcessor"
    default_to_square = True
    defaults = dict(do_resize=True, size={"height": 224, "width": 224}, resample=2, do_center_crop=False,
                    crop_size=None, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                    image_mean=IMAGENET_STANDARD_MEAN, image_std=IMAGENET_STANDARD_STD, do_convert_rgb=None)
    model_input_names = ["pixel_values"]

    def __init__(self, **kwargs):
        settings = {**self.defaults, **kwargs}
        for legacy in ("feature_extractor_type", "image_processor_type", "processor_class", "_processor_class"):
            settings.pop(legacy, None)
        settings["size"] = _size_dict(settings.get("size"), self.default_to_square)
        settings["crop_size"] = _size_dict(settings.get("crop_size"), True, "crop_size")
        if settings["do_resize"] and settings["size"] is None:
            raise ValueError(f"{type(self).__name__}: do_resize needs a size")
        if settings.get("do_center_crop") and settings["crop_size"] is None:
            raise ValueError(f"{type(self).__name__}: do_center_crop needs a crop_size")
        for key, value in settings.items():
            setattr(self, key, value)
        self._keys = list(settings)

    # configuration --------------------------------------------------------------------------------------------
    def to_dict(self):
        out = {k: getattr(self, k) for k in self._keys}
        out["image_processor_type"] = type(self).__name__
        return out

    def to_json_string(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def save_pretrained(self, save_directory):
        """Write ``preprocessor_config.json`` into ``save_directory`` (created if needed); returns its path."""
        os.makedirs(save_directory, exist_ok=True)
        path = os.path.join(save_directory, PREPROCESSOR_CONFIG_NAME)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json_string())
        return path

    @classmethod
    def from_dict(cls, config, **kwargs):
        return cls(**{**config, **kwargs})

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, revision=None, **kwargs):
        """This class from a directory's / hub repo's ``preprocessor_config.json`` (or that file's path)."""
        return cls.from_dict(_read_preprocessor_config(pretrained_model_name_or_path, revision), **kwargs)

    def __repr__(self):
        return f"{type(self).__name__} {self.to_json_string()}"

    # processing -----------------------------------------------------------------------------------------------
    def _resize(self, image, size, resample, params):
        if "height" in size:
            return resize(image, size["height"], size["width"], resample)
        if "longest_edge" in size:
            raise NotImplementedError(f"{type(self).__name__}: size with longest_edge is not supported")
        return resize(image, *shortest_edge_size(*image.shape[-2:], size["shortest_edge"]), resample)

    def preprocess(self, images, return_tensors=None, **kwargs):
        """``{"pixel_values": ...}`` for one image or a list: a list of (C, H, W) float32 arrays when
        ``return_tensors`` is None, one stacked array for ``"np"``, a zoo tensor for ``"zoo"`` (or ``"pt"``).
        Keyword arguments override this processor's settings for the call."""
        unknown = set(kwargs) - set(self._keys)
        if unknown:
            raise TypeError(f"{type(self).__name__}.preprocess got unknown option(s) {', '.join(sorted(unknown))}")
        p = {k: getattr(self, k) for k in self._keys}
        p.update(kwargs)
        p["size"] = _size_dict(p["size"], self.default_to_square)
        p["crop_size"] = _size_dict(p["crop_size"], True, "crop_size")
        batch = images if isinstance(images, (list, tuple)) else [images]
        if not batch:
            raise ValueError(f"{type(self).__name__}: no images given")
        out = []
        for image in batch:
            x = _to_chw(image)
            if p.get("do_convert_rgb"):
                x = _convert_rgb(x)
            if p["do_resize"]:
                x = self._resize(x, p["size"], p["resample"], p)
            if p["do_center_crop"]:
                x = center_crop(x, p["crop_size"]["height"], p["crop_size"]["width"])
            if p["do_rescale"]:
                x = rescale(x, p["rescale_factor"])
            if p["do_normalize"]:
                x = normalize(x, p["image_mean"], p["image_std"])
            out.append(np.ascontiguousarray(x))
        return BatchFeature(pixel_values=_as_return_type(out, return_tensors))

    __call__ = preprocess


def _as_return_type(arrays, return_tensors):
    if return_tensors is None:
        return arrays
    if len({a.shape for a in arrays}) > 1:
        raise ValueError(f"cannot stack images of different shapes {sorted({a.shape for a in arrays})}; resize them "
                         "to one size or use return_tensors=None")
    stacked = np.stack(arrays)
    if return_tensors == "np":
        return stacked
    if return_tensors in ("zoo", "pt"):
        from ..core import from_numpy
        return from_numpy(stacked)
    raise ValueError(f"return_tensors must be None, 'np' or 'zoo', got {return_tensors!r}")


class ViTImageProcessor(BaseImageProcessor):
    """Transformers' ``ViTImageProcessor``: resize to 224x224 (bilinear), rescale, normalize with 0.5 / 0.5."""
    defaults = dict(BaseImageProcessor.defaults)


class ConvNextImageProcessor(BaseImageProcessor):
    """Transformers' ``ConvNextImageProcessor`` (used by ``microsoft/resnet-*``): below 384, resize the shortest
    edge to ``size / crop_pct`` (bicubic) and center-crop ``size``; at 384 and above, warp to ``size``."""
    default_to_square = False
    defaults = dict(BaseImageProcessor.defaults, size={"shortest_edge": 384}, resample=3, crop_pct=224 / 256)

    def _resize(self, image, size, resample, params):
        crop_pct = params.get("crop_pct")
        if "shortest_edge" not in size:
            raise ValueError(f"ConvNextImageProcessor: size must have a shortest_edge key, got {sorted(size)}")
        edge = size["shortest_edge"]
        if edge < 384:
            crop_pct = 224 / 256 if crop_pct is None else crop_pct
            image = resize(image, *shortest_edge_size(*image.shape[-2:], int(edge / crop_pct)), resample)
            return center_crop(image, edge, edge)
        return resize(image, edge, edge, resample)


_PROCESSORS = {"BaseImageProcessor": BaseImageProcessor, "ViTImageProcessor": ViTImageProcessor,
               "ConvNextImageProcessor": ConvNextImageProcessor}
# the processor Transformers uses for a config.json model_type when preprocessor_config.json names none
_BY_MODEL_TYPE = {"vit": "ViTImageProcessor", "deit": "ViTImageProcessor", "resnet": "ConvNextImageProcessor",
                  "convnext": "ConvNextImageProcessor", "regnet": "ConvNextImageProcessor",
                  "cvt": "ConvNextImageProcessor"}


def _read_preprocessor_config(id_or_path, revision=None):
    path = os.fspath(id_or_path)
    if os.path.isdir(path):
        file = os.path.join(path, PREPROCESSOR_CONFIG_NAME)
        if not os.path.isfile(file):
            raise FileNotFoundError(f"{path} has no {PREPROCESSOR_CONFIG_NAME}: it does not say how to preprocess "
                                    "images; pass an image processor explicitly")
    elif os.path.isfile(path):
        file = path
    else:
        from ..weights.hub import hub_file, is_repo_id
        if not is_repo_id(path):
            raise FileNotFoundError(f"no model directory or {PREPROCESSOR_CONFIG_NAME} {path!r}, and it is not a "
                                    "Hugging Face hub repo id either")
        file = hub_file(path, PREPROCESSOR_CONFIG_NAME, revision=revision)
    try:
        with open(file, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{file}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object, got {type(data).__name__}")
    return data


def _class_name(name):
    for old, new in (("FeatureExtractor", "ImageProcessor"),):
        name = name.replace(old, new)
    for suffix in ("Fast", "Pil"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    return name


class AutoImageProcessor:
    """Builds the processor a model directory's ``preprocessor_config.json`` names (or, when it names none, the
    one Transformers uses for the ``model_type`` of its ``config.json``)."""

    def __init__(self):
        raise TypeError("use AutoImageProcessor.from_pretrained(path_or_repo_id)")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, revision=None, **kwargs):
        data = _read_preprocessor_config(pretrained_model_name_or_path, revision)
        name = data.get("image_processor_type") or data.get("feature_extractor_type")
        if not name:
            model_type = _model_type(pretrained_model_name_or_path, revision)
            name = _BY_MODEL_TYPE.get(model_type)
            if name is None:
                raise ValueError(f"{pretrained_model_name_or_path}: {PREPROCESSOR_CONFIG_NAME} names no processor and "
                                 f"model type {model_type!r} has no default one in zoo")
        name = _class_name(name)
        if name not in _PROCESSORS:
            raise ValueError(f"image processor {name!r} is not supported by zoo; supported: "
                             f"{', '.join(sorted(_PROCESSORS))}")
        return _PROCESSORS[name].from_dict(data, **kwargs)


def _model_type(id_or_path, revision):
    path = os.fspath(id_or_path)
    config = os.path.join(path, "config.json") if os.path.isdir(path) else None
    if config is None or not os.path.isfile(config):
        return None
    with open(config, encoding="utf-8") as f:
        return json.load(f).get("model_type")
