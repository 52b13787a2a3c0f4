"""Image pipelines: ``zoo.pipeline("image-classification")`` and ``zoo.pipeline("image-feature-extraction")``.

Inputs, for both tasks: a file path, a PIL image, a NumPy array (uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4);
uint16 or float arrays in [0, 1] are scaled), a zoo tensor (C, H, W) in [0, 1] or uint8 -- or a list of them.
Every image becomes 8-bit RGB first (:func:`load_image`): EXIF orientation applied, grayscale repeated, alpha
composited onto white, CMYK / palette / YCbCr converted, 16-bit and 32-bit samples scaled to 8 bits. A file that is
missing, empty, truncated or not an image raises an error naming the file.

Models: a registered weights name (``"efficientnet_lite0"``, the default; ``"resnet50.tv_in1k"`` ...), whose entry
gives the eval transform and the labels; a Hugging Face model directory or hub repo id ``org/name``
(``config.json`` picks ``ViTForImageClassification`` / ``ResNetForImageClassification``,
``preprocessor_config.json`` the image processor, ``id2label`` the labels); or a model object (pass
``image_processor=`` unless it was built with registered weights).

Outputs follow Hugging Face: classification gives ``[{"label": str, "score": float}, ...]`` (``top_k``, default
5, best first; ``function_to_apply`` "softmax" / "sigmoid" / "none"); feature extraction gives the pooled
embedding as a nested list of shape (1, dim) per image, or a zoo tensor with ``return_tensors=True``. zoo pools
by default (``pool=True``): the input of the model's classifier -- the global-average-pooled last feature map of
a CNN, the final [CLS] token of a ViT (its pooler output for a bare ``ViTModel`` that has one). ``pool=False``
returns the unpooled last hidden state / feature map, as Transformers does by default.
"""
import os

import numpy as np

from ..pipelines.base import Pipeline

__all__ = ["ImageClassificationPipeline", "ImageFeatureExtractionPipeline", "load_image", "ImageLoadError"]


class ImageLoadError(ValueError):
    """An image input that cannot be read or converted (the message names the file or the input)."""


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise ImportError("zoo's image pipelines need Pillow: pip install pillow") from None
    return Image, ImageOps


def _composite_on_white(image):
    Image, _ = _pil()
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _scale_to_uint8(array, what):
    """Integer samples beyond 8 bits (16-bit PNG/TIFF, 32-bit 'I' images) or floats scaled to 0..255."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind in "iu":
        top = int(array.max()) if array.size else 0
        if array.min() < 0:
            raise ImageLoadError(f"{what}: negative pixel values; cannot make an 8-bit image")
        if top <= 255 and array.dtype.itemsize > 2:  # 32-bit container holding 8-bit data
            return array.astype(np.uint8)
        return np.round(array.astype(np.float64) / 257.0).clip(0, 255).astype(np.uint8) if top <= 65535 else \
            np.round(array.astype(np.float64) * (255.0 / top)).astype(np.uint8)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ImageLoadError(f"{what}: the image holds NaN or infinite values")
        lo, hi = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        if lo < 0 or hi > 255:
            raise ImageLoadError(f"{what}: float pixel values must lie in [0, 1] (or [0, 255]), got [{lo}, {hi}]")
        scale = 255.0 if hi <= 1.0 else 1.0
        return np.round(array.astype(np.float64) * scale).clip(0, 255).astype(np.uint8)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    raise ImageLoadError(f"{what}: unsupported pixel type {array.dtype}")


def to_rgb(image, what="image"):
    """An 8-bit RGB PIL image from a PIL image of any mode (see the module docstring)."""
    Image, _ = _pil()
    mode = image.mode
    try:
        if mode == "RGB":
            return image
        if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
            return _composite_on_white(image)
        if mode.startswith("I") or mode == "F":
            gray = _scale_to_uint8(np.asarray(image), what)
            return Image.fromarray(gray, "L").convert("RGB")
        return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, HSV, LAB ...
    except ImageLoadError:
        raise
    except (ValueError, OSError) as e:
        raise ImageLoadError(f"{what}: cannot convert a {mode!r} image to RGB ({e})") from None


def _from_array(array, what):
    Image, _ = _pil()
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        return Image.fromarray(_scale_to_uint8(array, what), "L").convert("RGB")
    if array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise ImageLoadError(f"{what}: expected an image array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                             f"got {array.shape}")
    if 0 in array.shape:
        raise ImageLoadError(f"{what}: the image array is empty ({array.shape})")
    data = np.ascontiguousarray(_scale_to_uint8(array, what))
    image = Image.fromarray(data, "RGB" if data.shape[-1] == 3 else "RGBA")
    return to_rgb(image, what)


def load_image(image):
    """An 8-bit RGB PIL image from a path, a PIL image, a NumPy array or a zoo tensor (module docstring)."""
    Image, ImageOps = _pil()
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if path.startswith(("http://", "https://")):
            raise ImageLoadError(f"{path}: zoo does not fetch images over the network; download the file and pass "
                                 "its path")
        if not os.path.exists(path):
            raise FileNotFoundError(f"image file not found: {path}")
        if os.path.isdir(path):
            raise ImageLoadError(f"{path} is a directory, not an image file")
        if os.path.getsize(path) == 0:
            raise ImageLoadError(f"{path}: the file is empty")
        try:
            with Image.open(path) as opened:
                opened.load()
                oriented = ImageOps.exif_transpose(opened)
                return to_rgb(oriented if oriented is not opened else opened.copy(), path)
        except Image.UnidentifiedImageError:
            raise ImageLoadError(f"{path}: not an image file Pillow can read (corrupt or unsupported format)") \
                from None
        except ImageLoadError:
            raise
        except (OSError, SyntaxError, ValueError) as e:
            raise ImageLoadError(f"{path}: the image data is truncated or corrupt ({e})") from None
    if isinstance(image, Image.Image):
        if 0 in image.size:
            raise ImageLoadError(f"the PIL image is empty (size {image.size})")
        try:
            image.load()
        except (OSError, SyntaxError, ValueError) as e:
            raise ImageLoadError(f"the PIL image's data is truncated or corrupt ({e})") from None
        return to_rgb(image, "the PIL image")
    if isinstance(image, np.ndarray):
        return _from_array(image, "the image array")
    if hasattr(image, "detach") and hasattr(image, "numpy"):
        array = image.detach().cpu().numpy()
        if array.ndim == 3 and array.shape[0] in (1, 3, 4):
            array = np.moveaxis(array, 0, -1)
        return _from_array(array, "the image tensor")
    raise TypeError(f"expected an image path, a PIL image, a NumPy array or a zoo tensor, got {type(image).__name__}")


class _ImagePipeline(Pipeline):
    """Loading and preprocessing shared by the image tasks."""

    def __init__(self, model, *, image_processor=None, labels=None, **kwargs):
        self._processor = None
        self._labels = None
        super().__init__(model, **kwargs)
        if image_processor is not None:
            self._processor = image_processor
        if labels is not None:
            self._labels = list(labels)
        if self._processor is None:
            entry = getattr(self.model, "weights_entry", None)
            if entry is None:
                raise ValueError(f"{type(self).__name__}: cannot tell how to preprocess images for "
                                 f"{type(self.model).__name__}; pass image_processor= (a zoo.vision.image_processing "
                                 "processor or a transform from PIL images to tensors), or build the model with "
                                 "registered weights")
            self._processor = entry.get_transforms()
            if self._labels is None and entry.labels is not None:
                self._labels = entry.get_labels()
        if self._labels is None:
            config = getattr(self.model, "config", None)
            id2label = getattr(config, "id2label", None) if config is not None else None
            if id2label:
                self._labels = [id2label[i] for i in range(len(id2label))]

    def load_model(self, name, revision=None):
        """A registered weights name (no ``/``) builds its architecture with those weights; a directory or a hub
        repo id (``org/name``) goes through ``from_pretrained`` and ``AutoImageProcessor``."""
        if "/" not in name and os.sep not in name and not os.path.exists(name):
            from ..weights.registry import get_entry
            entry = get_entry(name)  # UnknownWeightsError, with close matches, for a name nobody registered
            if revision is not None:
                raise ValueError(f"revision applies to hub models, not to the registered weights {name!r}")
            from .models._api import builder_for_architecture
            return builder_for_architecture(entry.architecture)(weights=entry)
        from ..weights.pretrained import from_pretrained
        from .image_processing import AutoImageProcessor
        model = from_pretrained(name, revision=revision)
        self._processor = AutoImageProcessor.from_pretrained(name, revision=revision)
        return model

    def preprocess(self, image, **params):
        from ..core import as_tensor, from_numpy
        from ..core.tensor import Tensor
        pil = load_image(image)
        processor = self._processor
        from .image_processing import BaseImageProcessor
        if isinstance(processor, BaseImageProcessor):
            pixel_values = processor(pil, return_tensors="zoo")["pixel_values"]
        else:
            x = processor(pil)
            if isinstance(x, np.ndarray):
                x = from_numpy(np.ascontiguousarray(x))
            elif not isinstance(x, Tensor):
                x = as_tensor(x)
            if x.ndim != 3:
                raise ValueError(f"the image transform returned shape {tuple(x.shape)}; expected (C, H, W)")
            pixel_values = x.unsqueeze(0)
        return {"pixel_values": pixel_values}


def _logits(outputs):
    from ..core.tensor import Tensor
    if isinstance(outputs, Tensor):
        return outputs
    if isinstance(outputs, dict):
        return outputs["logits"]
    if isinstance(outputs, (tuple, list)):
        return outputs[0]
    raise TypeError(f"the model returned a {type(outputs).__name__}; expected logits or an output with .logits")


class ImageClassificationPipeline(_ImagePipeline):
    """``[{"label", "score"}]`` for each image: the ``top_k`` classes by score (softmax by default)."""

    def _sanitize_parameters(self, top_k=None, function_to_apply=None):
        post = {}
        if top_k is not None:
            if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
                raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
            post["top_k"] = top_k
        if function_to_apply is not None:
            if str(function_to_apply).lower() not in ("softmax", "sigmoid", "none"):
                raise ValueError(f"function_to_apply must be 'softmax', 'sigmoid' or 'none', got {function_to_apply!r}")
            post["function_to_apply"] = str(function_to_apply).lower()
        return {}, {}, post

    def _forward(self, model_inputs):
        return {"logits": _logits(self.model(model_inputs["pixel_values"]))}

    def _default_function(self, num_labels):
        config = getattr(self.model, "config", None)
        if num_labels == 1 or getattr(config, "problem_type", None) == "multi_label_classification":
            return "sigmoid"
        return "softmax"

    def postprocess(self, model_outputs, top_k=5, function_to_apply=None):
        logits = model_outputs["logits"].float().numpy()[0].astype(np.float64)
        n = logits.shape[-1]
        fn = function_to_apply or self._default_function(n)
        if fn == "softmax":
            e = np.exp(logits - logits.max())
            scores = e / e.sum()
        elif fn == "sigmoid":
            scores = 1.0 / (1.0 + np.exp(-logits))
        else:
            scores = logits
        labels = self._labels
        if labels is not None and len(labels) != n:
            raise ValueError(f"the model gives {n} scores but there are {len(labels)} labels")
        order = np.argsort(-scores, kind="stable")[:min(top_k, n)]
        return [{"label": labels[i] if labels is not None else f"LABEL_{i}", "score": float(scores[i])}
                for i in order]


def _embed(model, pixel_values):
    """(pooled (N, D), unpooled) features of a vision model (see the module docstring for what is pooled)."""
    from .models.hf_resnet import ResNetForImageClassification, ResNetModel
    from .models.vit import ViTForImageClassification, ViTModel
    if isinstance(model, ViTForImageClassification):
        hidden = model.vit(pixel_values).last_hidden_state
        return hidden[:, 0], hidden
    if isinstance(model, ViTModel):
        out = model(pixel_values)
        pooled = out.pooler_output if out.pooler_output is not None else out.last_hidden_state[:, 0]
        return pooled, out.last_hidden_state
    if isinstance(model, (ResNetForImageClassification, ResNetModel)):
        out = (model.resnet if isinstance(model, ResNetForImageClassification) else model)(pixel_values)
        return out.pooler_output.flatten(1), out.last_hidden_state
    if hasattr(model, "forward_features"):
        features = model.forward_features(pixel_values)
        if features.ndim == 4:
            return features.mean((2, 3)), features
        if features.ndim == 3:
            return features[:, 0], features
        return features, features
    raise TypeError(f"{type(model).__name__} has no forward_features(); image-feature-extraction cannot tell where "
                    "its features are")


class ImageFeatureExtractionPipeline(_ImagePipeline):
    """The pooled embedding of each image (a nested list (1, dim), or a tensor with ``return_tensors=True``)."""

    def _sanitize_parameters(self, pool=None, return_tensors=None):
        post = {}
        if pool is not None:
            post["pool"] = bool(pool)
        if return_tensors is not None:
            post["return_tensors"] = bool(return_tensors)
        return {}, {}, post

    def _forward(self, model_inputs):
        pooled, hidden = _embed(self.model, model_inputs["pixel_values"])
        return {"pooled": pooled, "hidden": hidden}

    def postprocess(self, model_outputs, pool=True, return_tensors=False):
        out = model_outputs["pooled"] if pool else model_outputs["hidden"]
        return out if return_tensors else out.tolist()


# ---- unconditional-image-generation (DCGAN) ----------------------------------------------------------------------
class UnconditionalImageGenerationPipeline(Pipeline):
    """``zoo.pipeline("unconditional-image-generation")``: images from a generator (default ``dcgan_digits``, a
    DCGAN trained on scikit-learn's digits and shipped with zoo, so it runs offline), as Hugging Face diffusers'
    unconditional pipelines (DDPMPipeline ...) name the task.

    Call it with nothing, or with one input saying what to generate: an int (how many images), a string -- ``"16"``,
    ``"seed=3"``, ``"16 seed=3"`` or ``"num_images=16,seed=3"``, as ``zoo run unconditional-image-generation 16``
    passes it -- or a dict ``{"num_images": 16, "seed": 3}``; a list of such inputs gives a list of results. The
    options ``num_images`` (default 1) and ``seed`` (default None: zoo's global random generator, so
    ``zoo.manual_seed`` makes runs repeatable) are defaults that an input's own values override. With a seed the
    latent vectors come from ``zoo.Generator().manual_seed(seed)``: the same seed gives the same images on any run,
    and the first k of n images are the images of ``num_images=k``.

    Each result is a list of ``num_images`` PIL images at the generator's native size (32 x 32 grayscale for
    ``dcgan_digits``; "L" for 1-channel, "RGB" for 3-channel generators), not upscaled; ``output_type="np"`` gives
    a float32 array (num_images, H, W, C) in [0, 1] instead. ``model`` is a registered weights name, a folder with
    ``config.json`` + ``model.safetensors`` (as examples/train_dcgan.py writes), or a generator object (a module
    with ``nz`` mapping (N, nz, 1, 1) latents to images in [-1, 1]).
    """

    _INPUT_KEYS = ("num_images", "seed")

    def __call__(self, inputs=None, *args, **kwargs):
        return super().__call__(inputs, *args, **kwargs)

    def load_model(self, name, revision=None):
        if revision is not None:
            raise ValueError(f"revision applies to hub models; {name!r} is a registered name or a local folder")
        if os.path.isdir(name):
            import json

            from ..core.serialization import load
            from .models.dcgan import DCGANGenerator
            config_path, weights_path = os.path.join(name, "config.json"), os.path.join(name, "model.safetensors")
            for path in (config_path, weights_path):
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"{name}: a generator folder needs config.json and model.safetensors; "
                                            f"{os.path.basename(path)} is missing")
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
            arch = config.pop("architecture", None)
            if arch != "dcgan_generator":
                raise ValueError(f"{config_path}: architecture {arch!r} is not a generator zoo knows "
                                 "(expected 'dcgan_generator')")
            model = DCGANGenerator(**config, init=False)
            model.load_state_dict(load(weights_path), strict=True)
            return model
        from ..weights.registry import get_entry
        from .models._api import builder_for_architecture
        entry = get_entry(name)
        if entry.task != "unconditional-image-generation":
            raise ValueError(f"weights {name!r} are for {entry.task}, not unconditional-image-generation")
        return builder_for_architecture(entry.architecture)(weights=entry)

    @staticmethod
    def _check_count(value, what):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{what} must be a positive integer, got {value!r}")
        return int(value)

    @staticmethod
    def _check_seed(value, what):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{what} must be a non-negative integer (or None), got {value!r}")
        return int(value)

    def _sanitize_parameters(self, num_images=None, seed=None, output_type=None):
        pre, post = {}, {}
        if num_images is not None:
            pre["num_images"] = self._check_count(num_images, "num_images")
        if seed is not None:
            pre["seed"] = self._check_seed(seed, "seed")
        if output_type is not None:
            if output_type not in ("pil", "np"):
                raise ValueError(f"output_type must be 'pil' or 'np', got {output_type!r}")
            post["output_type"] = output_type
        return pre, {}, post

    def _parse_input(self, input_):
        """``{"num_images": ..., "seed": ...}`` (only the keys the input gives) from one input."""
        if input_ is None:
            return {}
        if isinstance(input_, (int, np.integer)) and not isinstance(input_, bool):
            return {"num_images": self._check_count(input_, "the number of images")}
        if isinstance(input_, dict):
            unknown = sorted(set(input_) - set(self._INPUT_KEYS))
            if unknown:
                raise ValueError(f"unconditional-image-generation: unknown input key(s) {', '.join(map(str, unknown))}"
                                 f"; an input dict may hold {', '.join(self._INPUT_KEYS)}")
            return dict(input_)
        if isinstance(input_, str):
            text = input_.strip()
            if not text:
                return {}
            parsed = {}
            for token in text.replace(",", " ").split():
                key, sep, value = token.partition("=")
                if not sep:
                    key, value = "num_images", token
                if key not in self._INPUT_KEYS or key in parsed:
                    raise ValueError(f"unconditional-image-generation: cannot read the input {input_!r}: expected a "
                                     "number of images and/or seed=N, e.g. '16', 'seed=3' or '16 seed=3'")
                try:
                    parsed[key] = int(value)
                except ValueError:
                    raise ValueError(f"unconditional-image-generation: {key} in the input {input_!r} must be an "
                                     f"integer, got {value!r}") from None
            return parsed
        raise TypeError(f"unconditional-image-generation takes no input, or an int (number of images), a string "
                        f"('16', 'seed=3', '16 seed=3') or a dict {{'num_images', 'seed'}}; got "
                        f"{type(input_).__name__}")

    def preprocess(self, input_, num_images=1, seed=None):
        from ..core import Generator, randn
        spec = {"num_images": num_images, "seed": seed, **self._parse_input(input_)}
        n = self._check_count(spec["num_images"], "num_images")
        seed = self._check_seed(spec["seed"], "seed")
        nz = getattr(self.model, "nz", None)
        if not isinstance(nz, int):
            raise TypeError(f"{type(self.model).__name__} has no integer attribute nz (its latent size); "
                            "unconditional-image-generation needs a generator such as DCGANGenerator")
        generator = Generator().manual_seed(seed) if seed is not None else None
        return {"latents": randn(n, nz, 1, 1, generator=generator)}

    def _collate(self, items):
        from ..core import cat
        latents = [it["latents"] for it in items]
        return {"latents": cat(latents, 0) if len(latents) > 1 else latents[0],
                "counts": [int(z.shape[0]) for z in latents]}

    def _forward(self, model_inputs):
        return {"images": self.model(model_inputs["latents"]), "counts": model_inputs["counts"]}

    def _uncollate(self, outputs, n):
        images, counts = outputs["images"], outputs["counts"]
        starts = np.cumsum([0] + counts)
        return [{"images": images[int(starts[i]):int(starts[i + 1])]} for i in range(n)]

    def postprocess(self, model_outputs, output_type="pil"):
        images = model_outputs["images"].float().numpy()  # (n, C, H, W) in [-1, 1]
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"the generator returned shape {images.shape}; expected (N, 1 or 3, H, W)")
        images = np.clip((images.transpose(0, 2, 3, 1) + 1.0) / 2.0, 0.0, 1.0)
        if output_type == "np":
            return images.astype(np.float32)
        Image, _ = _pil()
        pixels = np.round(images * 255.0).astype(np.uint8)
        if pixels.shape[-1] == 1:
            return [Image.fromarray(np.ascontiguousarray(p[..., 0]), "L") for p in pixels]
        return [Image.fromarray(np.ascontiguousarray(p), "RGB") for p in pixels]


__all__ += ["UnconditionalImageGenerationPipeline"]
