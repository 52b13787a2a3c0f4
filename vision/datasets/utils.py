"""Download and archive helpers for the datasets, with torchvision's names: md5 checks, ``download_url`` (progress
bar, atomic write, checksum refusal), safe archive extraction, and a restricted unpickler for data pickles."""
import gzip
import hashlib
import http.client
import os
import pickle
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from ..utils import _atomic_write

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "extract_archive",
           "download_and_extract_archive", "DownloadError", "restricted_pickle_load"]

_CHUNK = 1 << 20
# Errors that mean "this location did not answer"; the caller may try another mirror.
NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


class DownloadError(RuntimeError):
    """A download that cannot be used: a bad checksum or a failure at every location."""


def calculate_md5(fpath, chunk_size=_CHUNK):
    """The md5 hex digest of a file, read in chunks."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """True when ``fpath`` is a file and (when ``md5`` is given) its md5 matches."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or check_md5(fpath, md5)


def _open_url(url, timeout):
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"download_url: unsupported URL scheme {scheme!r} in {url!r} (http, https and file are)")
    request = urllib.request.Request(url, headers={"User-Agent": "zoo-vision"})
    return urllib.request.urlopen(request, timeout=timeout)


def download_url(url, root, filename=None, md5=None, timeout=60.0, progress=True):
    """Download ``url`` to ``root/filename`` (default: the URL's last path part) and return the path.

    A file already there is kept when its md5 matches (or no md5 is given). The data streams into a temporary
    file next to the target, with a tqdm progress bar; the file is renamed into place only when complete and,
    when ``md5`` is given, only when its checksum matches — otherwise it is deleted and :class:`DownloadError`
    names the file.
    """
    from tqdm.auto import tqdm
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(urllib.parse.urlsplit(url).path)
    if not filename:
        raise ValueError(f"download_url: cannot tell a file name from {url!r}; pass filename=")
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return fpath
    with _open_url(url, timeout) as response, _atomic_write(fpath) as out:
        total = response.headers.get("Content-Length")
        digest = hashlib.md5(usedforsecurity=False)
        with tqdm(total=int(total) if total and total.isdigit() else None, unit="B", unit_scale=True,
                  unit_divisor=1024, desc=filename, disable=not progress) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
        if md5 is not None and digest.hexdigest() != md5:
            raise DownloadError(f"{filename} downloaded from {url} is corrupted: its md5 is {digest.hexdigest()}, "
                                f"expected {md5}; the file was not kept")
    return fpath


def _check_member(member, dest, archive):
    """Refuse an archive entry that is not a plain file or folder, or whose path leaves ``dest``."""
    name = member.name
    if not (member.isfile() or member.isdir()):
        raise RuntimeError(f"refusing to extract {archive}: entry {name!r} is a link or special file")
    if os.path.isabs(name) or name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
        raise RuntimeError(f"refusing to extract {archive}: entry {name!r} points outside the extraction folder")
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([target, dest]) != dest:
        raise RuntimeError(f"refusing to extract {archive}: entry {name!r} points outside the extraction folder")


def _extract_tar(from_path, to_path):
    dest = os.path.realpath(to_path)
    with tarfile.open(from_path, "r:*") as tar:
        members = tar.getmembers()
        for member in members:  # every entry is checked before anything is written
            _check_member(member, dest, from_path)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python without extraction filters; the checks above still apply
            tar.extractall(dest, members=members)


def _extract_gzip(from_path, to_path):
    target = os.path.join(to_path, os.path.basename(from_path)[:-3])
    try:
        with gzip.open(from_path, "rb") as src, _atomic_write(target) as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    except (OSError, EOFError) as e:
        raise RuntimeError(f"cannot decompress {from_path}: {e}") from e


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extract a .tar / .tar.gz / .tgz / .tar.bz2 / .tar.xz archive (or decompress a single .gz file) into
    ``to_path`` (default: the archive's folder) and return ``to_path``. Archive entries that are links, special
    files, absolute paths or that climb out with '..' are refused before anything is written."""
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    os.makedirs(to_path, exist_ok=True)
    lower = from_path.lower()
    if lower.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz")):
        try:
            _extract_tar(from_path, to_path)
        except (tarfile.TarError, EOFError, OSError) as e:
            if isinstance(e, (FileNotFoundError, PermissionError)):
                raise
            raise RuntimeError(f"cannot extract {from_path}: the archive is corrupt ({e})") from e
    elif lower.endswith(".gz"):
        _extract_gzip(from_path, to_path)
    else:
        raise ValueError(f"extract_archive: unsupported archive type for {from_path} (supported: .tar, .tar.gz, "
                         f".tgz, .tar.bz2, .tar.xz, .gz)")
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    """``download_url`` then ``extract_archive`` into ``extract_root`` (default: ``download_root``)."""
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else extract_root
    archive = download_url(url, download_root, filename, md5)
    return extract_archive(archive, extract_root, remove_finished)


# --- restricted unpickling ---------------------------------------------------------------------------------------

def _numpy_reconstruct():
    core = getattr(np, "_core", None)
    if core is None:  # NumPy 1.x
        core = np.core
    return core.multiarray._reconstruct


def _plain_dtype(*args, **kwargs):
    """``numpy.dtype`` for unpickling, refusing object dtypes (arrays of arbitrary Python objects)."""
    dtype = np.dtype(*args, **kwargs)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing to load an array of Python objects (dtype {dtype})")
    return dtype


def _reconstruct_ndarray(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to rebuild an array of type {subtype!r}")
    return _numpy_reconstruct()(subtype, shape, dtype)


# Every global a data pickle may name: NumPy's array rebuild (under its NumPy 1 and 2 module names), the array
# type and dtype. Dicts, lists, tuples, strings, bytes and numbers need no global at all.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct_ndarray,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct_ndarray,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source, **kwargs):
        super().__init__(file, **kwargs)
        self._source = source

    def find_class(self, module, name):
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED_GLOBALS)
            raise pickle.UnpicklingError(f"{self._source}: refusing to load the pickle global '{module}.{name}' "
                                         f"(only plain containers, bytes, numbers and NumPy arrays are allowed: "
                                         f"{allowed})")
        return found

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"{self._source}: refusing a pickle persistent id")


def restricted_pickle_load(path, encoding="latin1"):
    """Unpickle a data file holding only dicts/lists/tuples/strings/bytes/numbers and NumPy arrays (such as the
    CIFAR batches). Any other global is refused with :class:`pickle.UnpicklingError` naming it — it is never
    imported or called."""
    with open(path, "rb") as f:
        try:
            return _RestrictedUnpickler(f, path, encoding=encoding).load()
        except pickle.UnpicklingError as e:
            if str(e).startswith(str(path)):
                raise
            raise pickle.UnpicklingError(f"{path}: {e}") from e
        except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as e:
            raise pickle.UnpicklingError(f"{path}: corrupt or truncated pickle ({type(e).__name__}: {e})") from e
