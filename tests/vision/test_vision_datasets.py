"""zoo.vision.datasets on small files written here in the real formats: folders of images, IDX (gzip'ed or not),
CIFAR pickle batches and their tar.gz. Downloads go to file:// URLs and to an HTTP server on 127.0.0.1 that
the test starts and stops; nothing leaves the machine."""
import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

import zoo
import zoo.vision.transforms as T
from zoo.vision.datasets import (CIFAR10, CIFAR100, MNIST, DatasetFolder, DownloadError, FashionMNIST, ImageFolder,
                                 ImageLoadError, pil_loader)
from zoo.vision.datasets.utils import download_url, extract_archive, restricted_pickle_load


def md5_of(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


# --- folders of images -----------------------------------------------------------------------------------------

def _png(path, color, size=(4, 3), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


@pytest.fixture
def image_root(tmp_path):
    root = tmp_path / "images"
    _png(root / "dog" / "b.png", (0, 0, 255))
    _png(root / "dog" / "a.PNG", (0, 255, 0))
    _png(root / "cat" / "sub" / "z.jpg", (255, 0, 0))
    _png(root / "cat" / "x.bmp", (9, 9, 9))
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "ant").mkdir()
    (root / "ant" / "readme.md").write_text("no images here")
    return root


def test_image_folder_semantics(image_root):
    ds = ImageFolder(str(image_root), allow_empty=True)
    assert ds.classes == ["ant", "cat", "dog"] and ds.class_to_idx == {"ant": 0, "cat": 1, "dog": 2}
    names = [os.path.relpath(p, image_root) for p, _ in ds.samples]
    # os.walk order, sorted: a class folder's own files come before its sub-folders' (as torchvision)
    assert names == [os.path.join("cat", "x.bmp"), os.path.join("cat", "sub", "z.jpg"), os.path.join("dog", "a.PNG"),
                     os.path.join("dog", "b.png")]
    assert ds.targets == [1, 1, 2, 2] and ds.imgs is ds.samples and len(ds) == 4
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.getpixel((0, 0)) == (0, 0, 255)
    assert target == 2
    ds = ImageFolder(image_root, transform=T.ToTensor(), target_transform=lambda t: t * 10, allow_empty=True)
    x, y = ds[0]
    assert tuple(x.shape) == (3, 3, 4) and x.dtype == zoo.float32 and y == 10
    text = repr(ds)
    assert text.startswith("Dataset ImageFolder\n    Number of datapoints: 4\n    Root location: ")
    assert "Transform: ToTensor()" in text and "Target transform: " in text


def test_image_folder_errors_and_filters(image_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes ant"):
        ImageFolder(image_root)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path / "images" / "ant")
    only_png = ImageFolder(image_root, is_valid_file=lambda p: p.lower().endswith(".png"), allow_empty=True)
    assert [t for _, t in only_png.samples] == [2, 2]
    texts = DatasetFolder(image_root, loader=lambda p: open(p).read(), extensions=(".txt", ".md"), allow_empty=True)
    assert [s for s, _ in texts] == ["no images here", "not an image"]
    assert texts.classes == ["ant", "cat", "dog"] and texts.extensions == (".txt", ".md")
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        DatasetFolder(image_root, loader=open, extensions=".png", is_valid_file=lambda p: True)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        DatasetFolder(image_root, loader=open)
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        from zoo.vision.datasets import VisionDataset
        VisionDataset(tmp_path, transforms=lambda a, b: (a, b), transform=lambda a: a)


def test_default_loader_converts_what_has_an_rgb_meaning(tmp_path):
    _png(tmp_path / "gray.png", 77, mode="L")
    assert pil_loader(tmp_path / "gray.png").getpixel((0, 0)) == (77, 77, 77)
    _png(tmp_path / "la.png", (77, 10), mode="LA")
    assert pil_loader(tmp_path / "la.png").getpixel((0, 0)) == (77, 77, 77)
    _png(tmp_path / "rgba.png", (10, 20, 30, 0), mode="RGBA")  # alpha dropped, colour kept (as torchvision)
    assert pil_loader(tmp_path / "rgba.png").getpixel((0, 0)) == (10, 20, 30)
    _png(tmp_path / "bits.png", 1, mode="1")
    assert pil_loader(tmp_path / "bits.png").getpixel((0, 0)) == (255, 255, 255)
    pal = Image.new("P", (4, 3), 1)
    pal.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    pal.save(tmp_path / "pal.png", transparency=0)  # palette index 0 is transparent
    img = pil_loader(tmp_path / "pal.png")
    assert img.mode == "RGB" and img.getpixel((0, 0)) == (200, 100, 50)
    Image.new("CMYK", (4, 3), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    r, g, b = pil_loader(tmp_path / "cmyk.jpg").getpixel((0, 0))
    assert r > 200 and g < 60 and b < 60  # cyan-free, full magenta + yellow: red
    Image.fromarray(np.array([[0, 32768, 65535]], dtype=np.uint16)).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    img = pil_loader(tmp_path / "deep.png")  # 16-bit scaled to 8-bit, not clipped
    assert [img.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_default_loader_refuses_broken_files_naming_them(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png: the file is empty"):
        pil_loader(tmp_path / "empty.png")
    (tmp_path / "junk.jpg").write_bytes(b"this is not an image at all" * 10)
    with pytest.raises(ImageLoadError, match=r"junk\.jpg"):
        pil_loader(tmp_path / "junk.jpg")
    _png(tmp_path / "full.png", (1, 2, 3), size=(64, 64))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:len(data) // 2])
    with pytest.raises(ImageLoadError, match=r"cut\.png"):
        pil_loader(tmp_path / "cut.png")
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match=r"cut\.jpg"):
        pil_loader(tmp_path / "cut.jpg")
    Image.fromarray(np.array([[1.5, -2.0]], dtype=np.float32)).save(tmp_path / "float.tif")
    with pytest.raises(ImageLoadError, match=r"float\.tif.*32-bit float"):
        pil_loader(tmp_path / "float.tif")
    Image.fromarray(np.array([[1, 10 ** 6]], dtype=np.int32)).save(tmp_path / "int.tif")
    with pytest.raises(ImageLoadError, match=r"int\.tif.*32-bit integer"):
        pil_loader(tmp_path / "int.tif")
    with pytest.raises(FileNotFoundError):
        pil_loader(tmp_path / "missing.png")
    # through a dataset, the error names the sample's file
    _png(tmp_path / "set" / "a" / "ok.png", (1, 1, 1))
    (tmp_path / "set" / "a" / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    ds = ImageFolder(tmp_path / "set")
    assert ds[0][0].mode == "RGB"
    with pytest.raises(ImageLoadError, match=r"zz\.png"):
        ds[1]


# --- MNIST / FashionMNIST ------------------------------------------------------------------------------------------

def idx_bytes(arr, code=0x08):
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(">u1").tobytes()


def write_mnist(raw, n_train=5, n_test=3, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        arrays[prefix] = (images, labels)
        for kind, arr, nd in (("images", images, 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}-idx{nd}-ubyte"
            data = idx_bytes(arr)
            if gz:
                (raw / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
    return arrays


def test_mnist_reads_idx_gz_and_plain(tmp_path):
    arrays = write_mnist(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path, train=True)
    images, labels = arrays["train"]
    assert ds.data.dtype == zoo.uint8 and tuple(ds.data.shape) == (5, 28, 28)
    assert ds.targets.dtype == zoo.int64 and ds.targets.tolist() == labels.tolist()
    np.testing.assert_array_equal(ds.data.numpy(), images)
    img, target = ds[2]
    assert img.mode == "L" and np.array_equal(np.asarray(img), images[2]) and target == int(labels[2])
    test = MNIST(str(tmp_path), train=False, transform=T.ToTensor())
    assert len(test) == 3 and tuple(test[0][0].shape) == (1, 28, 28)
    assert ds.classes[3] == "3 - three" and ds.class_to_idx["9 - nine"] == 9
    assert "Split: Train" in repr(ds) and "Split: Test" in repr(test)
    plain = write_mnist(tmp_path / "plain" / "FashionMNIST" / "raw", gz=False, seed=1)
    fm = FashionMNIST(tmp_path / "plain", train=False)
    np.testing.assert_array_equal(fm.data.numpy(), plain["t10k"][0])
    assert fm.classes[9] == "Ankle boot"


def test_mnist_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz is missing.*download=True"):
        MNIST(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(raw)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 10))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: truncated IDX header"):
        MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x01\x02\x08\x03" + b"\x00" * 20))
    with pytest.raises(ValueError, match="not an IDX file"):
        MNIST(tmp_path)
    good = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(good[:-7]))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(good)[:-12])
    with pytest.raises(ValueError, match="corrupt gzip file"):
        MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8))))
    with pytest.raises(ValueError, match="holds 4 images but .* holds 5 labels"):
        MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((5, 784), np.uint8))))
    with pytest.raises(ValueError, match=r"expected uint8 images shaped \(N, H, W\)"):
        MNIST(tmp_path)


def _mnist_mirror(tmp_path):
    """A folder with the four MNIST .gz files and the subclass whose md5 list matches them."""
    arrays = write_mnist(tmp_path / "mirror")
    resources = [(f, md5_of(tmp_path / "mirror" / f)) for f, _ in MNIST.resources]
    return arrays, resources


def test_mnist_download_from_file_mirrors_with_fallback(tmp_path):
    arrays, resources = _mnist_mirror(tmp_path)

    class LocalMNIST(MNIST):
        mirrors = [(tmp_path / "nowhere").as_uri() + "/", (tmp_path / "mirror").as_uri() + "/"]

    LocalMNIST.resources = resources
    ds = LocalMNIST(tmp_path / "data", download=True)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train"][0])
    raw = tmp_path / "data" / "LocalMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(f for f, _ in MNIST.resources)  # no temporary files left
    LocalMNIST.mirrors = [(tmp_path / "nowhere").as_uri() + "/"]
    assert len(LocalMNIST(tmp_path / "data", train=False, download=True)) == 3  # present: no download
    with pytest.raises(DownloadError, match="could not download train-images-idx3-ubyte.gz from any mirror"):
        LocalMNIST(tmp_path / "other", download=True)


def test_mnist_download_refuses_a_wrong_md5(tmp_path):
    _, resources = _mnist_mirror(tmp_path)

    class BadMNIST(MNIST):
        mirrors = [(tmp_path / "mirror").as_uri() + "/"]

    BadMNIST.resources = [(resources[0][0], "0" * 32)] + resources[1:]
    with pytest.raises(DownloadError, match=r"train-images-idx3-ubyte\.gz downloaded from .* is corrupted: its md5 "
                                            r"is [0-9a-f]{32}, expected 0{32}"):
        BadMNIST(tmp_path / "data", download=True)
    assert os.listdir(tmp_path / "data" / "BadMNIST" / "raw") == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_mirror(tmp_path):
    """An HTTP server on 127.0.0.1 (random port) serving tmp_path/'mirror'; stopped after the test."""
    (tmp_path / "mirror").mkdir(exist_ok=True)

    def handler(*args, **kwargs):
        return _QuietHandler(*args, directory=str(tmp_path / "mirror"), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_fashion_mnist_download_over_local_http(tmp_path, http_mirror, capsys):
    arrays = write_mnist(tmp_path / "mirror", seed=3)
    resources = [(f, md5_of(tmp_path / "mirror" / f)) for f, _ in FashionMNIST.resources]

    class LocalFashion(FashionMNIST):
        mirrors = [http_mirror + "missing/", http_mirror]  # the first answers 404

    LocalFashion.resources = resources
    ds = LocalFashion(tmp_path / "data", train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["t10k"][0])
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err  # the tqdm progress bar
    path = download_url(http_mirror + "train-labels-idx1-ubyte.gz", tmp_path / "single", md5=resources[1][1])
    assert md5_of(path) == resources[1][1]
    with pytest.raises(DownloadError, match="is corrupted"):
        download_url(http_mirror + "train-labels-idx1-ubyte.gz", tmp_path / "bad", md5="f" * 32)
    assert os.listdir(tmp_path / "bad") == []
    with pytest.raises(ValueError, match="unsupported URL scheme 'ftp'"):
        download_url("ftp://127.0.0.1/x.gz", tmp_path / "ftp")


# --- CIFAR -------------------------------------------------------------------------------------------------------

def py2_pickle(obj):
    """``obj`` pickled the way Python 2 with NumPy 1 wrote the CIFAR batches (protocol 2): text and bytes as
    Python 2 byte strings, arrays through ``numpy.core.multiarray._reconstruct`` with their raw data as a string.
    (Python 3 at protocol 2 would route bytes through ``_codecs.encode``, which the real files never name.)"""
    out = bytearray(b"\x80\x02")

    def emit(o):
        if isinstance(o, bool):
            out.extend(b"\x88" if o else b"\x89")
        elif o is None:
            out.extend(b"N")
        elif isinstance(o, int):
            out.extend(b"K" + bytes([o]) if 0 <= o < 256 else b"J" + struct.pack("<i", o))
        elif isinstance(o, (str, bytes)):
            raw = o.encode("latin1") if isinstance(o, str) else o
            out.extend((b"U" + bytes([len(raw)]) if len(raw) < 256 else b"T" + struct.pack("<I", len(raw))) + raw)
        elif isinstance(o, tuple):
            out.extend(b"(")
            for v in o:
                emit(v)
            out.extend(b"t")
        elif isinstance(o, list):
            out.extend(b"](")
            for v in o:
                emit(v)
            out.extend(b"e")
        elif isinstance(o, dict):
            out.extend(b"}(")
            for k, v in o.items():
                emit(k)
                emit(v)
            out.extend(b"u")
        elif isinstance(o, np.ndarray):
            out.extend(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n")
            emit((0,))
            emit("b")
            out.extend(b"\x87R(")  # _reconstruct(ndarray, (0,), 'b'), then its state tuple
            emit(1)
            emit(tuple(o.shape))
            out.extend(b"cnumpy\ndtype\n")
            for v in (o.dtype.str[1:], 0, 1):
                emit(v)
            out.extend(b"\x87R")
            emit((3, "|", None, None, None, -1, -1, 0))
            out.extend(b"b")
            emit(False)
            emit(o.tobytes())
            out.extend(b"tb")
        else:
            raise TypeError(type(o))
    emit(obj)
    out.extend(b".")
    return bytes(out)


def write_cifar(folder, batches, meta_name, meta, label_key="labels", seed=0):
    """CIFAR batches as the originals are: Python 2 pickled dicts with 'data' (N, 3072) uint8 and the labels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, n in batches:
        data = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        entry = {"batch_label": f"batch {name}", label_key: labels, "data": data,
                 "filenames": [f"img_{i}.png" for i in range(n)]}
        if label_key == "fine_labels":
            entry["coarse_labels"] = [v // 5 for v in labels]
        (folder / name).write_bytes(py2_pickle(entry))
        out[name] = (data, labels)
    (folder / meta_name).write_bytes(py2_pickle(meta))
    return out


def cifar10_class(folder, **extra):
    """A CIFAR10 subclass whose md5 lists match the files just written in ``folder``."""
    md5 = {name: md5_of(folder / name) for name in os.listdir(folder)}
    attrs = dict(train_list=[[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in (1, 2)],
                 test_list=[["test_batch", md5["test_batch"]]],
                 meta={"filename": "batches.meta", "key": "label_names", "md5": md5["batches.meta"]})
    attrs.update(extra)
    return type("SmallCIFAR10", (CIFAR10,), attrs)


def test_cifar10_parses_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    names = [f"c{i}" for i in range(10)]
    written = write_cifar(folder, [("data_batch_1", 4), ("data_batch_2", 3), ("test_batch", 2)], "batches.meta",
                          {"label_names": names, "num_cases_per_batch": 4})
    ds = cifar10_class(folder)(tmp_path)
    assert ds.data.shape == (7, 32, 32, 3) and ds.data.dtype == np.uint8 and len(ds) == 7
    row = written["data_batch_2"][0][1]  # the 2nd image of batch 2: planes of R, G, B
    np.testing.assert_array_equal(ds.data[5], row.reshape(3, 32, 32).transpose(1, 2, 0))
    assert ds.targets == written["data_batch_1"][1] + written["data_batch_2"][1]
    assert ds.classes == names and ds.class_to_idx["c3"] == 3
    img, target = ds[5]
    assert img.mode == "RGB" and img.getpixel((1, 0)) == tuple(int(row[k * 1024 + 1]) for k in range(3))
    test = cifar10_class(folder)(str(tmp_path), train=False, transform=T.ToTensor())
    assert len(test) == 2 and tuple(test[1][0].shape) == (3, 32, 32) and "Split: Test" in repr(test)


def test_cifar100_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    written = write_cifar(folder, [("train", 3), ("test", 2)], "meta",
                          {"fine_label_names": [f"f{i}" for i in range(100)], "coarse_label_names": ["x"] * 20},
                          label_key="fine_labels")
    md5 = {name: md5_of(folder / name) for name in os.listdir(folder)}
    Small = type("SmallCIFAR100", (CIFAR100,), dict(
        train_list=[["train", md5["train"]]], test_list=[["test", md5["test"]]],
        meta={"filename": "meta", "key": "fine_label_names", "md5": md5["meta"]}))
    ds = Small(tmp_path)
    assert ds.targets == written["train"][1] and ds.classes[42] == "f42" and len(Small(tmp_path, train=False)) == 2


def test_cifar_missing_and_corrupted_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cifar-10-batches-py.data_batch_1 is missing; pass download=True"):
        CIFAR10(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder, [("data_batch_1", 2), ("data_batch_2", 2), ("test_batch", 2)], "batches.meta",
                {"label_names": ["a"] * 10})
    cls = cifar10_class(folder)
    (folder / "data_batch_2").write_bytes((folder / "data_batch_2").read_bytes()[:-5])
    with pytest.raises(RuntimeError, match=r"data_batch_2 is corrupted \(its md5 is not [0-9a-f]{32}\)"):
        cls(tmp_path)
    with pytest.raises(RuntimeError, match="data_batch_1 is corrupted"):
        CIFAR10(tmp_path)  # the official checksums do not match these small files


def test_restricted_unpickler_never_runs_foreign_globals(tmp_path):
    marker = tmp_path / "was-executed"

    class Payload:
        def __reduce__(self):
            return os.mkdir, (str(marker),)

    (tmp_path / "evil").write_bytes(pickle.dumps({"data": Payload()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"evil: refusing to load the pickle global '(posix|nt|os)"
                                                     r"\.mkdir'"):
        restricted_pickle_load(tmp_path / "evil")
    assert not marker.exists()
    (tmp_path / "objects").write_bytes(pickle.dumps(np.array([{"a": 1}], dtype=object), protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="objects: refusing to load an array of Python objects"):
        restricted_pickle_load(tmp_path / "objects")
    (tmp_path / "cut").write_bytes(py2_pickle({"data": np.zeros(10, np.uint8)})[:-9])
    with pytest.raises(pickle.UnpicklingError, match="cut: .*truncated"):
        restricted_pickle_load(tmp_path / "cut")
    # Python 3 pickles at protocols 3-4 (NumPy 2 names numpy._core.multiarray._reconstruct) load too
    ok = {"data": np.arange(6, dtype=np.uint8).reshape(2, 3), "labels": [1, 2], "name": b"raw", "t": (1.5, "x")}
    (tmp_path / "ok").write_bytes(pickle.dumps(ok, protocol=4))
    back = restricted_pickle_load(tmp_path / "ok")
    assert back["labels"] == [1, 2] and back["name"] == b"raw" and back["t"] == (1.5, "x")
    np.testing.assert_array_equal(back["data"], ok["data"])
    # a CIFAR batch with a foreign global is refused by the dataset too
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder, [("data_batch_1", 2), ("data_batch_2", 2), ("test_batch", 2)], "batches.meta",
                {"label_names": ["a"] * 10})
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": Payload(), "labels": []}, protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load the pickle global"):
        cifar10_class(folder)(tmp_path)
    assert not marker.exists()


def _tar_gz(path, folder, arcroot):
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=arcroot)


def test_cifar10_download_and_extract(tmp_path, http_mirror):
    src = tmp_path / "src" / "cifar-10-batches-py"
    written = write_cifar(src, [("data_batch_1", 2), ("data_batch_2", 2), ("test_batch", 3)], "batches.meta",
                          {"label_names": [str(i) for i in range(10)]})
    _tar_gz(tmp_path / "mirror" / "cifar-10-python.tar.gz", src, "cifar-10-batches-py")
    archive_md5 = md5_of(tmp_path / "mirror" / "cifar-10-python.tar.gz")
    Local = cifar10_class(src, url=http_mirror + "cifar-10-python.tar.gz", tgz_md5=archive_md5)
    ds = Local(tmp_path / "data", train=False, download=True)
    assert ds.targets == written["test_batch"][1]
    assert sorted(os.listdir(tmp_path / "data")) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    FileLocal = cifar10_class(src, url=(tmp_path / "mirror" / "cifar-10-python.tar.gz").as_uri(), tgz_md5="1" * 32)
    assert len(FileLocal(tmp_path / "data", download=True)) == 4  # files intact: nothing downloaded
    with pytest.raises(DownloadError, match=r"cifar-10-python\.tar\.gz downloaded from file:.* is corrupted"):
        FileLocal(tmp_path / "fresh", download=True)
    assert os.listdir(tmp_path / "fresh") == []


def _tar_with(path, name, kind=tarfile.REGTYPE, linkname=""):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("ok/fine.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"ok"))
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        data = b"evil" if kind == tarfile.REGTYPE else b""
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name,kind,linkname,why", [
    ("../escape.txt", tarfile.REGTYPE, "", "points outside"),
    ("ok/../../escape.txt", tarfile.REGTYPE, "", "points outside"),
    ("/tmp/abs-escape.txt", tarfile.REGTYPE, "", "points outside"),
    ("ok/link", tarfile.SYMTYPE, "/etc/passwd", "link or special file"),
    ("ok/hard", tarfile.LNKTYPE, "ok/fine.txt", "link or special file"),
    ("ok/fifo", tarfile.FIFOTYPE, "", "link or special file"),
])
def test_extract_archive_refuses_unsafe_entries(tmp_path, name, kind, linkname, why):
    archive = tmp_path / "bad.tar.gz"
    _tar_with(archive, name, kind, linkname)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=f"refusing to extract .*bad.tar.gz: entry '{name}'.*{why}"):
        extract_archive(archive, out)
    assert os.listdir(out) == [] and not (tmp_path / "escape.txt").exists()


def test_extract_archive_formats(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("hello")
    _tar_gz(tmp_path / "x.tgz", tmp_path / "src", "top")
    extract_archive(tmp_path / "x.tgz", tmp_path / "out")
    assert (tmp_path / "out" / "top" / "a.txt").read_text() == "hello"
    (tmp_path / "single.txt.gz").write_bytes(gzip.compress(b"payload"))
    extract_archive(tmp_path / "single.txt.gz", remove_finished=True)
    assert (tmp_path / "single.txt").read_bytes() == b"payload" and not (tmp_path / "single.txt.gz").exists()
    (tmp_path / "broken.tar.gz").write_bytes(zlib.compress(b"nope"))
    with pytest.raises(RuntimeError, match="cannot extract .*broken.tar.gz"):
        extract_archive(tmp_path / "broken.tar.gz", tmp_path / "o2")
    with pytest.raises(ValueError, match="unsupported archive type"):
        extract_archive(tmp_path / "thing.rar")
