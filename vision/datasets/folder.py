"""Datasets from folders of files, one sub-folder per class (``root/<class>/**/<file>``), as torchvision's
``DatasetFolder`` / ``ImageFolder``, and the default image loader.

The loader returns an RGB PIL image for every image that has a meaningful RGB version — grayscale, palette
(with or without transparency), RGBA/LA (alpha dropped, as torchvision does), CMYK/YCbCr, 1-bit, and 16-bit
grayscale (scaled from 0..65535 to 0..255) — and raises :class:`ImageLoadError` naming the file for files that
are empty, truncated, corrupt or not images, and for 32-bit integer or float images whose intensity range is
unknown.
"""
import os

import numpy as np

from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "ImageLoadError", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class ImageLoadError(OSError):
    """An image file that cannot be read as an RGB image; the message names the file and the reason."""


def has_file_allowed_extension(filename, extensions):
    """True when ``filename`` ends (case-insensitively) with one of ``extensions``."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename):
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """The sorted names of the sub-folders of ``directory`` and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None, allow_empty=False):
    """The ``(path, class_index)`` samples under ``directory``: every valid file below each class folder
    (recursively, following links), classes and files in sorted order. Exactly one of ``extensions`` and
    ``is_valid_file`` selects the files; a class without any file is an error unless ``allow_empty``."""
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    instances = []
    found = set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def _to_rgb(img, path):
    """``img`` as an RGB image, or ImageLoadError when there is no meaningful conversion."""
    from PIL import Image
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _SIXTEEN_BIT:
        wide = np.asarray(img).astype(np.uint32)
        gray = ((wide * 255 + 32767) // 65535).astype(np.uint8)  # 0..65535 → 0..255, rounded
        return Image.fromarray(gray).convert("RGB")
    if mode in ("I", "F"):
        kind = "32-bit integer" if mode == "I" else "32-bit float"
        raise ImageLoadError(f"cannot convert {path} to RGB: it is a {kind} image (mode {mode!r}) with no standard "
                             f"intensity range; load it with a loader of your own")
    if mode == "PA" or (mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")  # palette transparency goes through RGBA (alpha is then dropped)
    try:
        return img.convert("RGB")
    except (ValueError, OSError) as e:
        raise ImageLoadError(f"cannot convert {path} (mode {mode!r}) to RGB: {e}") from e


def pil_loader(path):
    """Open ``path`` as an RGB PIL image (fully decoded, file closed); see the module docs for what converts."""
    from PIL import Image
    try:
        with open(path, "rb") as f:
            img = Image.open(f)
            img.load()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:  # Pillow reports broken files through many exception types
        reason = "the file is empty" if os.path.getsize(path) == 0 else f"{type(e).__name__}: {e}"
        raise ImageLoadError(f"cannot read image file {path}: {reason}") from e
    return _to_rgb(img, path)


def default_loader(path):
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """Samples from ``root/<class>/**/<file>``: ``dataset[i]`` is ``(loader(path), class_index)`` after the
    transforms. Attributes as torchvision: ``classes`` (sorted folder names), ``class_to_idx``, ``samples``
    (list of (path, index)), ``targets``, ``extensions``, ``loader``."""

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory):
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """A ``DatasetFolder`` of images (``IMG_EXTENSIONS`` unless ``is_valid_file`` is given) read as RGB PIL
    images by ``default_loader``; ``imgs`` is an alias of ``samples``."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
