"""``zoo.save`` / ``zoo.load``: checkpoints as safetensors files, and PyTorch checkpoints read without torch.

What ``zoo.save`` writes
    A safetensors file (see ``safetensors_format``), readable by ``safetensors.numpy.load_file`` and by
    ``safetensors.torch``. ``obj`` is a state dict: tensors and plain values (None, bool, int, float, str) in
    dicts / OrderedDicts (str or int keys), lists and tuples, nested freely. Each tensor is stored under its
    dotted path (``{"encoder": {"weight": t}}`` -> ``"encoder.weight"``; list items by index; a bare tensor as
    ``"tensor"``; a name already taken gets a ``~1``, ``~2`` … suffix), with its dtype and shape unchanged.
    ``__metadata__["format"]`` is ``"pt"``, and ``__metadata__["zoo"]`` is the JSON ``{"version": 1, "tree": T}``
    where ``T`` mirrors the object: null / true / false / int / str / finite float as themselves, a list as a JSON
    list, ``{"tuple": [...]}``, ``{"dict": [[key, T], ...]}``, ``{"odict": [[key, T], ...]}``, a non-finite float
    as ``{"float": "<16 hex digits of its IEEE bits>"}`` and a tensor as ``{"tensor": "<name>"}`` (plus
    ``"requires_grad": true`` where set). So ``load(save(x))`` gives back the same structure, types and bits.
    Tensors are saved by value: views and tensors sharing memory are written (and come back) as separate,
    independent tensors; a Tensor subclass such as a Parameter comes back as a plain leaf tensor that keeps
    its ``requires_grad``. A path is written atomically: a temporary file in the same directory, flushed and
    fsynced, then renamed over the target, so a failure mid-write leaves any previous file untouched.

What ``zoo.load`` reads (the format is told by the file's first bytes, not its name)
    * safetensors — zoo's own files come back as saved; other safetensors files (``safetensors.torch``,
      Hugging Face hub weights) as a flat dict ``{name: tensor}``. BF16 tensors become float32 (exact).
    * PyTorch zip checkpoints (``torch.save``, ``.pt`` / ``.pth`` / ``.bin``) and the legacy pre-1.6 layout, through
      a restricted unpickler that only rebuilds tensors and plain containers (see ``torch_format``).
      Anything else named by the pickle is refused with a :class:`CheckpointError` before it runs.

    Paths are memory-mapped copy-on-write by default (``mmap=None``): tensors are views of the mapping, read
    from disk on first touch, writable, and writes never reach the file. While such tensors are alive, do not
    overwrite the file in place (``open(path, "wb")``); ``zoo.save`` replaces files atomically, which is safe.
    A corrupted or truncated file raises :class:`CheckpointError` (a RuntimeError) naming the file.
"""
import os
import tempfile

from ..tensor import Tensor
from . import safetensors_format, torch_format
from .common import CheckpointError, describe, is_path, read_bytes, resolve_location

__all__ = ["save", "load"]


def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Save a state dict (tensors and plain values in dicts, lists, tuples) to ``f`` as safetensors.

    ``f`` is a path (written atomically) or a binary file object. zoo never pickles, so ``pickle_module`` and
    ``pickle_protocol`` exist only to refuse them clearly.
    """
    if pickle_module is not None or pickle_protocol is not None:
        raise NotImplementedError("zoo.save writes safetensors, never pickle: pickle_module / pickle_protocol "
                                  "are not supported")
    if not is_path(f):
        if not hasattr(f, "write"):
            raise TypeError(f"zoo.save: expected a path or a binary file object, got {type(f).__name__}")
        safetensors_format.write(obj, f)
        return
    path = os.fspath(f)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    atomic_write(path, lambda fh: safetensors_format.write(obj, fh))


def atomic_write(path, write, mode="wb"):
    """Run ``write(file)`` on a temporary file next to ``path`` (opened with ``mode``, ``"wb"`` or ``"w"``), fsync
    it, then rename it over ``path``: a failure at any point leaves the previous file untouched. Every file zoo
    writes (checkpoints, configs, metrics, images) goes through here."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def _new_file_mode(path):
    """The permissions an ordinary ``open(path, "wb")`` would give (mkstemp makes files private)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync_dir(folder):
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """Load a checkpoint written by ``zoo.save``, ``safetensors`` or ``torch.save`` (zip or legacy layout).

    ``map_location`` is a device, a device string or a dict renaming saved locations (``{"cuda:0": "cpu"}``);
    None keeps each tensor's saved device (safetensors files hold cpu tensors). ``weights_only=False`` is refused:
    zoo never executes pickled code. ``mmap`` (default: yes for paths) memory-maps the file.
    """
    if weights_only is False:
        raise NotImplementedError("zoo.load(weights_only=False) is not supported: zoo never executes code from a "
                                  "checkpoint, so it only loads tensors and plain containers (weights_only=True)")
    if pickle_module is not None:
        raise NotImplementedError("zoo.load does not take a pickle_module: it reads pickles with its own "
                                  "restricted unpickler")
    if mmap not in (None, True, False):
        raise TypeError(f"zoo.load: mmap must be None, True or False, got {mmap!r}")
    name = describe(f)
    buf = read_bytes(f, use_mmap=is_path(f) if mmap is None else mmap)
    head = buf[:16].tobytes()
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return torch_format.load_zip(buf, name, map_location)
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= buf.size - 8:
        return _load_safetensors(buf, name, map_location)
    if head[:1] == b"\x80":
        return torch_format.load_legacy(buf, name, map_location)
    if buf.size > 262 and buf[257:262].tobytes() == b"ustar":
        raise NotImplementedError(f"{name}: the tar checkpoint layout of PyTorch < 0.4 is not supported by zoo")
    if buf.size == 0:
        raise CheckpointError(f"{name}: the file is empty")
    raise CheckpointError(f"{name}: not a checkpoint zoo can read (expected safetensors, a PyTorch zip or a "
                          f"legacy PyTorch file; the file starts with {head[:8]!r})")


def _load_safetensors(buf, name, map_location):
    arrays, meta = safetensors_format.read(buf, name)
    dev = resolve_location("cpu", map_location, name)
    if dev.type != "cpu":
        from ..device import move
        arrays = {k: move(a, dev) for k, a in arrays.items()}
    if meta is not None and "zoo" in meta:
        return safetensors_format.decode_tree(meta["zoo"], arrays, Tensor._make, name)
    return {k: Tensor._make(a) for k, a in arrays.items()}
