"""MNIST and Fashion-MNIST from their IDX files (the format of LeCun et al.: a magic number giving the element
type and number of dimensions, big-endian dimension sizes, then the raw big-endian data), read by zoo itself.

Files live in ``root/<ClassName>/raw/`` as torchvision lays them out; each may be the original ``.gz`` download
or its decompressed copy. ``download=True`` fetches the ``.gz`` files from the mirrors in order, checking md5.
"""
import gzip
import os
import struct
import zlib

import numpy as np

import zoo

from .utils import NETWORK_ERRORS, DownloadError, check_integrity, download_url
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "read_idx_file", "read_image_file", "read_label_file"]

# IDX element type codes → big-endian NumPy dtypes
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx_file(path):
    """An IDX file (optionally gzip'ed, by its ``.gz`` name) as a native-endian NumPy array; ValueError naming the
    file when the header is wrong or the data length does not match it."""
    path = os.fspath(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt gzip file ({e})") from e
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {data[:4].hex() or 'missing'})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes for {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[data[2]]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: IDX data is {len(data) - header} bytes but the header (shape {shape}, {dtype.name})"
                         f" needs {expected}; the file is truncated or corrupt")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_image_file(path):
    """Images of an MNIST-style IDX file: a uint8 (N, H, W) zoo tensor."""
    arr = read_idx_file(path)
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise ValueError(f"{path}: expected uint8 images shaped (N, H, W), got {arr.dtype} with shape {arr.shape}")
    return zoo.from_numpy(arr)


def read_label_file(path):
    """Labels of an MNIST-style IDX file: an int64 (N,) zoo tensor."""
    arr = read_idx_file(path)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise ValueError(f"{path}: expected uint8 labels shaped (N,), got {arr.dtype} with shape {arr.shape}")
    return zoo.from_numpy(arr.astype(np.int64))


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images.

    ``dataset[i]`` is ``(PIL image in mode 'L', int label)`` after the transforms; ``data`` (uint8 N x 28 x 28)
    and ``targets`` (int64 N) are zoo tensors. Without ``download`` the files must be in ``raw_folder``.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = self._find(f"{prefix}-images-idx3-ubyte")
        labels = self._find(f"{prefix}-labels-idx1-ubyte")
        self.data = read_image_file(images)
        self.targets = read_label_file(labels)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{type(self).__name__}: {images} holds {len(self.data)} images but {labels} holds "
                             f"{len(self.targets)} labels")

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _find(self, stem):
        """The path of ``stem`` (decompressed) or ``stem.gz`` in raw_folder; FileNotFoundError saying what to do."""
        for name in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        raise FileNotFoundError(f"{type(self).__name__}: {os.path.join(self.raw_folder, stem + '.gz')} is missing "
                                f"(nor is its decompressed copy {stem} there); pass download=True to download it")

    def _have(self, filename, md5):
        stem = filename[:-3]
        return os.path.isfile(os.path.join(self.raw_folder, stem)) or \
            check_integrity(os.path.join(self.raw_folder, filename), md5)

    def download(self):
        """Download the missing files, trying each mirror in turn; a file whose md5 is wrong is refused."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._have(filename, md5):
                continue
            failures = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    download_url(url, self.raw_folder, filename, md5)
                    break
                except NETWORK_ERRORS as e:
                    failures.append(f"{url}: {e}")
            else:
                raise DownloadError(f"could not download {filename} from any mirror:\n  " + "\n  ".join(failures))

    def __getitem__(self, index):
        from PIL import Image
        img = Image.fromarray(self.data._data[index])
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grayscale images of 10 kinds of clothing, in MNIST's file format."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
