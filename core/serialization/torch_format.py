"""PyTorch checkpoints (``torch.save`` output: ``.pt`` / ``.pth`` / ``.bin``) read without torch and without
running any code from the file.

Two layouts exist. The zip layout (PyTorch >= 1.6): ``<prefix>/data.pkl`` is a pickle of the saved object whose
tensors point, through persistent ids ``("storage", StorageType, key, location, numel)``, at raw storages
``<prefix>/data/<key>`` in the byte order named by ``<prefix>/byteorder`` (little when absent). The legacy layout
(``_use_new_zipfile_serialization=False``): consecutive pickles of the magic number, the protocol version (1001),
a sys-info dict and the object (persistent ids carry a sixth item, an optional view), then a pickled list of
storage keys followed, per key, by a little-endian int64 element count and the storage's little-endian bytes.

Pickles are read by :class:`RestrictedUnpickler`: a global is resolved only from a fixed table of tensor rebuild
functions, storage and dtype names, ``torch.Size`` / ``torch.device`` and plain containers; anything else (``os``,
``builtins.eval``, a model class …) is refused when the pickle *names* it, before any call happens. Other
hardening: ``BUILD`` may only set attributes of an OrderedDict (state dicts carry ``_metadata``), ``NEWOBJ`` may
only create plain containers, ``INST`` / ``OBJ`` always run the constructor, copyreg extension opcodes are
refused, tensors are views bound-checked against their storage, and every size read from the file is checked
against the file's size before anything is allocated. The pickle itself is parsed by the pure-Python
``pickle._Unpickler`` so that these opcodes can be overridden.

What comes back: zoo tensors on the saved device (or per ``map_location``). Tensors that shared a storage in
PyTorch share memory on the CPU (views of one array); ``nn.Parameter`` becomes a plain leaf tensor with its
``requires_grad``; bfloat16 storages become float32 (exact: a bfloat16 is the upper half of a float32), and
big-endian storages are byte-swapped to native order — both copy the storage once. Dtypes zoo lacks (complex,
uint16/32/64, float8, quantized), sparse / nested / meta tensors and TorchScript archives raise
NotImplementedError naming the feature.
"""
import io
import math
import pickle
import struct
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from .. import dtypes
from ..device import device
from ..tensor import Size, Tensor
from .common import BufferReader, CheckpointError
from .safetensors_format import bfloat16_to_float32

__all__ = ["RestrictedUnpickler", "load_zip", "load_legacy", "LEGACY_MAGIC"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch dtype name -> (little-endian NumPy dtype of the stored bytes); bfloat16 is read as its uint16 bits
_RAW = {"float64": "<f8", "float32": "<f4", "float16": "<f2", "bfloat16": "<u2", "int64": "<i8", "int32": "<i4",
        "int16": "<i2", "int8": "i1", "uint8": "u1", "bool": "?"}
_STORAGE_DTYPE = {"DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
                  "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
                  "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
                  "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
                  "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
                  "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4", "UntypedStorage": "uint8"}
_UNSUPPORTED_DTYPES = ({"complex32", "complex64", "complex128", "uint16", "uint32", "uint64", "float8_e4m3fn",
                        "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
                        "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits1x8", "bits2x4", "bits4x2",
                        "bits8", "bits16"}
                       | {f"int{i}" for i in range(1, 8)} | {f"uint{i}" for i in range(1, 8)})
_UNSUPPORTED_GLOBALS = {
    "torch._utils._rebuild_sparse_tensor": "sparse tensors",
    "torch._utils._rebuild_sparse_csr_tensor": "sparse tensors",
    "torch.serialization._get_layout": "sparse tensors",
    "torch._utils._rebuild_qtensor": "quantized tensors",
    "torch._utils._rebuild_nested_tensor": "nested tensors",
    "torch._utils._rebuild_meta_tensor_no_storage": "meta tensors",
    "torch._utils._rebuild_wrapper_subclass": "tensor subclasses",
    "torch._utils._rebuild_device_tensor_from_numpy": "tensors of non-CPU/CUDA devices (XLA, MTIA …)",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor": "tensors of non-CPU/CUDA devices (XLA, MTIA …)",
    "torch._utils._rebuild_xla_tensor": "XLA tensors",
    "torch._utils._rebuild_mlc_tensor": "MLC tensors",
    "torch.storage.TypedStorage": "storage objects",
}
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


class _StorageType:
    """What ``torch.FloatStorage`` / ``torch.UntypedStorage`` stand for in a pickle: the element dtype."""
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _TorchDtype:
    """A torch dtype zoo has no dtype for (``torch.uint16`` …), as named by the pickle."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _TensorClass:
    """``torch.Tensor`` / ``torch.nn.Parameter`` as the ``new_type`` of ``_rebuild_from_type_v2``."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Storage:
    """A storage a persistent id names: ``numel`` elements of ``dtype`` from element ``start`` of record ``key``."""
    __slots__ = ("key", "dtype", "location", "start", "numel")

    def __init__(self, key, dtype, location, start, numel):
        self.key, self.dtype, self.location, self.start, self.numel = key, dtype, location, start, numel


_TENSOR_CLASS, _PARAMETER_CLASS = _TensorClass("torch.Tensor"), _TensorClass("torch.nn.Parameter")


def _codecs_encode(obj, encoding="utf-8"):
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: str -> bytes, nothing else."""
    if type(obj) is not str or type(encoding) is not str:
        raise CheckpointError("_codecs.encode called with non-string arguments")
    return obj.encode(encoding)


def _bytearray(*args):
    """``bytearray`` from bytes or (str, encoding) only: ``bytearray(10**12)`` must not allocate."""
    if args and isinstance(args[0], int):
        raise CheckpointError("bytearray(<int>) is not allowed in a checkpoint")
    return bytearray(*args)


_PLAIN = {"collections.OrderedDict": OrderedDict, "collections.Counter": Counter, "builtins.set": set,
          "builtins.frozenset": frozenset, "builtins.tuple": tuple, "builtins.list": list, "builtins.dict": dict,
          "builtins.slice": slice, "builtins.complex": complex, "builtins.bytearray": _bytearray,
          "_codecs.encode": _codecs_encode, "torch.Size": Size, "torch.device": device,
          "torch.Tensor": _TENSOR_CLASS, "torch.nn.parameter.Parameter": _PARAMETER_CLASS,
          "torch.nn.Parameter": _PARAMETER_CLASS}
_NEWOBJ_CLASSES = (set, frozenset, list, dict, tuple, OrderedDict, Counter, Size)
_REBUILDERS = {"torch._utils._rebuild_tensor": "_rebuild_tensor", "torch._utils._rebuild_tensor_v2":
               "_rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3": "_rebuild_tensor_v3",
               "torch._utils._rebuild_parameter": "_rebuild_parameter",
               "torch._utils._rebuild_parameter_with_state": "_rebuild_parameter_with_state",
               "torch._tensor._rebuild_from_type_v2": "_rebuild_from_type_v2"}


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that only rebuilds tensors and plain containers (see the module docstring).

    Tensors come out as placeholders listed in ``pending``; the reader fills in their data once the storages
    are known (legacy files store them after the pickle).
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, name, storage_for=None):
        super().__init__(file)
        self.name = name
        self.storage_for = storage_for  # persistent id -> _Storage, or None where none may appear
        self.pending = []  # (tensor, storage, offset, size, stride, dtype name)
        self.tensor_dtypes = {}  # id of each placeholder tensor -> its dtype name

    # --- what a pickle may name -------------------------------------------------------------------------------
    def find_class(self, module, name):
        if not (type(module) is str and type(name) is str):
            raise CheckpointError(f"{self.name}: malformed global reference")
        if self.proto < 3:
            module = _PY2_MODULES.get(module, module)
        qual = f"{module}.{name}"
        if qual in _PLAIN:
            return _PLAIN[qual]
        if qual in _REBUILDERS:
            return getattr(self, _REBUILDERS[qual])
        if module in ("torch", "torch.cuda", "torch.storage") and name in _STORAGE_DTYPE:
            return _StorageType(name, _STORAGE_DTYPE[name])
        if module == "torch" and (name in _RAW or name in _UNSUPPORTED_DTYPES):
            return dtypes.as_dtype(name) if name in _RAW and name != "bfloat16" else _TorchDtype(name)
        if qual in _UNSUPPORTED_GLOBALS:
            raise NotImplementedError(f"{self.name}: the checkpoint holds {_UNSUPPORTED_GLOBALS[qual]} "
                                      f"({qual}), which zoo does not support")
        if module == "torch" and name.startswith("per_"):
            raise NotImplementedError(f"{self.name}: the checkpoint holds quantized tensors (torch.{name}), "
                                      f"which zoo does not support")
        raise CheckpointError(f"refusing to load global '{qual[:200]}' from {self.name}: only tensors and plain "
                              f"containers are allowed (zoo never runs code from a checkpoint; save a "
                              f"state_dict() rather than a whole model or object)")

    def persistent_load(self, pid):
        if self.storage_for is None:
            raise CheckpointError(f"{self.name}: unexpected persistent id in a pickle that holds no tensors")
        return self.storage_for(pid)

    def _refuse_ext(self):
        raise CheckpointError(f"refusing to load a copyreg extension code from {self.name}: only tensors and "
                              f"plain containers are allowed")

    def _build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if not state:
            return
        if type(inst) in (OrderedDict, Counter) and type(state) is dict and all(type(k) is str for k in state):
            inst.__dict__.update(state)  # e.g. a state dict's _metadata
            return
        raise CheckpointError(f"{self.name}: refusing to set the state of a {type(inst).__name__} object "
                              f"(only OrderedDict attributes may be restored)")

    def _instantiate(self, klass, args):
        """INST / OBJ: always through the constructor, never a bare ``__new__`` that skips ``__init__``."""
        self.append(klass(*args))

    def _newobj(self, kwargs=None):
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls not in _NEWOBJ_CLASSES:
            raise CheckpointError(f"{self.name}: refusing to create a {getattr(cls, '__name__', type(cls).__name__)} "
                                  f"object with __new__ (only plain containers may be)")
        self.append(cls.__new__(cls, *args, **(kwargs or {})))

    def _newobj_ex(self):
        kwargs = self.stack.pop()
        if type(kwargs) is not dict:
            raise CheckpointError(f"{self.name}: malformed NEWOBJ_EX arguments")
        self._newobj(kwargs)

    dispatch[pickle.BUILD[0]] = _build
    dispatch[pickle.NEWOBJ[0]] = _newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _newobj_ex
    for _op in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_op[0]] = _refuse_ext
    del _op

    # --- tensor rebuilders (what torch._utils._rebuild_* stand for) ---------------------------------------------
    def _pending_tensor(self, storage, offset, size, stride, dtype_name, requires_grad):
        if type(storage) is not _Storage:
            raise CheckpointError(f"{self.name}: tensor rebuilt from a non-storage {type(storage).__name__}")
        if dtype_name in _UNSUPPORTED_DTYPES or dtype_name not in _RAW:
            raise NotImplementedError(f"{self.name}: tensor of dtype {dtype_name}, which zoo does not support")
        if type(requires_grad) is not bool:
            raise CheckpointError(f"{self.name}: requires_grad must be a bool, got {type(requires_grad).__name__}")
        if requires_grad and dtype_name not in ("float16", "float32", "float64", "bfloat16"):
            raise CheckpointError(f"{self.name}: a {dtype_name} tensor cannot require grad")
        t = Tensor._make(None, requires_grad)
        self.pending.append((t, storage, offset, size, stride, dtype_name))
        self.tensor_dtypes[id(t)] = dtype_name
        return t

    def _rebuild_tensor(self, storage, storage_offset, size, stride):
        dt = storage.dtype if type(storage) is _Storage else None
        return self._pending_tensor(storage, storage_offset, size, stride, dt, False)

    def _rebuild_tensor_v2(self, storage, storage_offset, size, stride, requires_grad, backward_hooks,
                           metadata=None):
        if metadata and any(metadata.values()):
            raise NotImplementedError(f"{self.name}: tensors with {sorted(metadata)} bits set (lazy "
                                      f"conjugate / negative views) are not supported by zoo")
        dt = storage.dtype if type(storage) is _Storage else None
        return self._pending_tensor(storage, storage_offset, size, stride, dt, requires_grad)

    def _rebuild_tensor_v3(self, storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                           metadata=None):
        if metadata and any(metadata.values()):
            raise NotImplementedError(f"{self.name}: tensors with {sorted(metadata)} bits set are not supported")
        if type(dtype) is _TorchDtype or type(dtype) is dtypes.dtype:
            name = dtype.name
        else:
            raise CheckpointError(f"{self.name}: tensor rebuilt with a non-dtype {type(dtype).__name__}")
        if type(storage) is _Storage and storage.dtype != "uint8":
            raise CheckpointError(f"{self.name}: _rebuild_tensor_v3 needs an untyped storage")
        return self._pending_tensor(storage, storage_offset, size, stride, name, requires_grad)

    def _check_tensor(self, data):
        if not (type(data) is Tensor and id(data) in self.tensor_dtypes):
            raise CheckpointError(f"{self.name}: a Parameter must wrap a tensor, got {type(data).__name__}")

    def _rebuild_parameter(self, data, requires_grad, backward_hooks):
        self._check_tensor(data)
        if type(requires_grad) is not bool:
            raise CheckpointError(f"{self.name}: requires_grad must be a bool")
        if requires_grad:
            dtype_name = self.tensor_dtypes[id(data)]
            if dtype_name not in ("float16", "float32", "float64", "bfloat16"):
                raise CheckpointError(f"{self.name}: a {dtype_name} Parameter cannot require grad")
        data._requires_grad = requires_grad
        return data

    def _rebuild_parameter_with_state(self, data, requires_grad, backward_hooks, state):
        _refuse_state(state, self.name)
        return self._rebuild_parameter(data, requires_grad, backward_hooks)

    def _rebuild_from_type_v2(self, func, new_type, args, state):
        if getattr(func, "__self__", None) is not self or func.__name__ not in _REBUILDERS.values() \
                or func.__name__ == "_rebuild_from_type_v2":
            raise CheckpointError(f"{self.name}: _rebuild_from_type_v2 with a non-tensor rebuild function")
        if new_type is not _TENSOR_CLASS and new_type is not _PARAMETER_CLASS:
            raise CheckpointError(f"{self.name}: tensor subclass {type(new_type).__name__} is not supported")
        if type(args) is not tuple:
            raise CheckpointError(f"{self.name}: malformed tensor arguments")
        _refuse_state(state, self.name)
        return func(*args)


def _refuse_state(state, name):
    if state is None or (type(state) is dict and not state):
        return
    if type(state) is tuple and all(s is None or (type(s) is dict and not s) for s in state):
        return
    keys = sorted(state) if type(state) is dict else state
    raise NotImplementedError(f"{name}: tensors carrying Python attributes ({keys!r:.100}) are not supported "
                              f"by zoo (its tensors have no attribute dict)")


def _as_str(x, what, name):
    if type(x) is bytes:
        try:
            x = x.decode("ascii")
        except UnicodeDecodeError:
            raise CheckpointError(f"{name}: non-ASCII {what}") from None
    if type(x) is not str:
        raise CheckpointError(f"{name}: {what} must be a string, got {type(x).__name__}")
    return x


def _check_int(x, what, name):
    if type(x) is not int or x < 0:
        raise CheckpointError(f"{name}: {what} must be a non-negative int, got {x!r:.50}")
    return x


class _Reader:
    """Shared machinery: decode storage ids, turn storage bytes into arrays, fill in the pending tensors."""

    def __init__(self, name):
        self.name = name
        self.raw = {}  # storage key -> uint8 array of its bytes
        self.arrays = {}  # (key, dtype name) -> 1-d native array of the whole storage
        self.byteorder = "little"

    def storage_type(self, stype):
        if type(stype) is not _StorageType:
            raise CheckpointError(f"{self.name}: storage of unknown type {type(stype).__name__}")
        if stype.dtype not in _RAW:
            raise NotImplementedError(f"{self.name}: tensor of dtype {stype.dtype} ({stype.name}), which zoo "
                                      f"does not support")
        return stype.dtype

    def storage_array(self, key, dtype_name):
        """The storage ``key`` as a 1-d array of ``dtype_name`` (a view of the file where no conversion is needed)."""
        cached = self.arrays.get((key, dtype_name))
        if cached is not None:
            return cached
        if key not in self.raw:
            raise CheckpointError(f"{self.name}: storage '{key:.100}' is missing from the checkpoint")
        raw = self.raw[key]
        dt = np.dtype(_RAW[dtype_name])
        if self.byteorder == "big":
            dt = dt.newbyteorder(">")
        n = raw.size // dt.itemsize
        a = raw[:n * dt.itemsize].view(dt)
        if not dt.isnative:
            a = a.astype(dt.newbyteorder("="))
        if dtype_name == "bfloat16":
            a = bfloat16_to_float32(a)
        self.arrays[key, dtype_name] = a
        return a

    def materialize(self, pending):
        """Give each placeholder tensor its data: a bound-checked view of its storage."""
        for t, st, offset, size, stride, dtype_name in pending:
            a = self.storage_array(st.key, dtype_name)
            isz = np.dtype(_RAW[dtype_name]).itemsize
            if st.dtype == "uint8" and isz != 1:  # untyped storage: start / numel count bytes
                if st.start % isz or st.numel % isz:
                    raise CheckpointError(f"{self.name}: storage '{st.key}' is not a whole number of "
                                          f"{dtype_name} elements")
                start, numel = st.start // isz, st.numel // isz
            else:
                start, numel = st.start, st.numel
            if start + numel > a.size:
                raise CheckpointError(f"{self.name}: storage '{st.key}' needs {numel} {dtype_name} elements "
                                      f"from {start} but the file holds {a.size}")
            a = a[start:start + numel]
            t._data = _view(a, offset, size, stride, f"{self.name}: tensor on storage '{st.key}'")

    def move(self, pending, map_location):
        from ..device import move
        from .common import resolve_location
        where = {}
        for t, st, *_ in pending:
            loc = st.location
            if loc not in where:
                where[loc] = resolve_location(loc, map_location, self.name)
            if where[loc].type != "cpu":
                t._data = move(t._data, where[loc])

    def storage_id(self, pid, legacy):
        """The _Storage a persistent id names (zip ids have 5 items, legacy ones 6)."""
        if type(pid) is not tuple or not pid:
            raise CheckpointError(f"{self.name}: malformed persistent id")
        kind = _as_str(pid[0], "persistent id kind", self.name)
        if kind == "module":
            raise CheckpointError(f"refusing to load a pickled nn.Module from {self.name}: only tensors and "
                                  f"plain containers are allowed (save the model's state_dict() instead)")
        if kind != "storage" or len(pid) != (6 if legacy else 5):
            raise CheckpointError(f"{self.name}: unknown persistent id {pid!r:.100}")
        stype, key, location, numel = pid[1:5]
        dtype_name = self.storage_type(stype)
        key = _as_str(key, "storage key", self.name)
        location = _as_str(location, "storage location", self.name)
        _check_int(numel, "storage size", self.name)
        start = 0
        if legacy:
            self.declare_legacy(key, dtype_name, numel)
            view = pid[5]
            if view is not None:
                if type(view) is not tuple or len(view) != 3:
                    raise CheckpointError(f"{self.name}: malformed storage view {view!r:.100}")
                start = _check_int(view[1], "storage view offset", self.name)
                numel = _check_int(view[2], "storage view size", self.name)
        return _Storage(key, dtype_name, location, start, numel)


def _view(a, offset, size, stride, what):
    """``a[offset:]`` seen with ``size`` / ``stride`` (in elements), checked to stay inside ``a``."""
    if type(size) not in (tuple, Size) or type(stride) not in (tuple, Size, list) or len(size) != len(stride):
        raise CheckpointError(f"{what}: malformed size {size!r:.80} / stride {stride!r:.80}")
    for v in (offset, *size, *stride):
        if type(v) is not int or v < 0:
            raise CheckpointError(f"{what}: malformed offset / size / stride ({v!r:.50})")
    numel = math.prod(size)
    if numel == 0:
        if offset > a.size:
            raise CheckpointError(f"{what}: offset {offset} beyond the storage's {a.size} elements")
        return np.empty(size, a.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= a.size:
        raise CheckpointError(f"{what}: size {tuple(size)} / stride {tuple(stride)} / offset {offset} reach "
                              f"element {last} of a storage of {a.size}")
    c_strides, expect = [], 1
    for n in reversed(size):
        c_strides.append(expect)
        expect *= n
    if tuple(stride) == tuple(reversed(c_strides)):
        return a[offset:offset + numel].reshape(size)
    isz = a.dtype.itemsize
    return np.lib.stride_tricks.as_strided(a[offset:], shape=tuple(size), strides=tuple(s * isz for s in stride))


_LEAVES = (type(None), bool, int, float, complex, str, bytes, bytearray, Tensor, dtypes.dtype, device)


def check_result(obj, name):
    """Refuse anything but tensors and plain values in the unpickled object (no internal marker may leak out)."""
    seen, todo = set(), [obj]
    while todo:
        x = todo.pop()
        t = type(x)
        if t in _LEAVES:
            continue
        if id(x) in seen:
            continue
        seen.add(id(x))
        if t in (list, tuple, set, frozenset, Size):
            todo.extend(x)
        elif t in (dict, OrderedDict, Counter):
            todo.extend(x.keys())
            todo.extend(x.values())
            if t is not dict:
                todo.extend(vars(x).values())  # an OrderedDict's _metadata
        elif t is slice:
            todo.extend((x.start, x.stop, x.step))
        elif t is _TorchDtype:
            raise NotImplementedError(f"{name}: the checkpoint holds dtype torch.{x.name}, which zoo lacks")
        elif t in (_StorageType, _Storage):
            raise NotImplementedError(f"{name}: storage objects saved on their own are not supported by zoo "
                                      f"(save tensors)")
        else:
            raise CheckpointError(f"{name}: the checkpoint holds an object of type {t.__name__} where only "
                                  f"tensors and plain values may appear")


def _unpickle(data, name, storage_for):
    up = RestrictedUnpickler(io.BytesIO(data.tobytes()) if isinstance(data, np.ndarray) else data, name, storage_for)
    try:
        return up.load(), up
    except (CheckpointError, NotImplementedError):
        raise
    except Exception as e:  # truncated or corrupted pickle data
        raise CheckpointError(f"{name}: invalid pickle data ({type(e).__name__}: {e})") from None


# --- the zip layout ------------------------------------------------------------------------------------------
class _ZipReader(_Reader):
    def __init__(self, buf, name):
        super().__init__(name)
        self.buf = buf
        try:
            self.zf = zipfile.ZipFile(BufferReader(buf))
        except NotImplementedError as e:  # zipfile's word for a zip feature it lacks
            raise CheckpointError(f"{name}: unreadable zip archive ({e})") from None
        names = self.zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if not pkl:
            if any(n.endswith("data.pkl") for n in names):
                pkl = [min((n for n in names if n.endswith("data.pkl")), key=len)]
            else:
                raise CheckpointError(f"{name}: a zip file without data.pkl, so not a PyTorch checkpoint")
        self.prefix = pkl[0][:-len("data.pkl")]
        if self.prefix + "constants.pkl" in names or any(n.startswith(self.prefix + "code/") for n in names):
            raise NotImplementedError(f"{name}: TorchScript archives (torch.jit.save) are not supported by zoo; "
                                      f"load a state dict saved with torch.save(model.state_dict(), ...)")
        if self.prefix + "byteorder" in names:
            order = self.entry(self.prefix + "byteorder").tobytes()
            if order not in (b"little", b"big"):
                raise CheckpointError(f"{name}: unknown byteorder record {order[:20]!r}")
            self.byteorder = order.decode()

    def entry(self, member):
        """The bytes of a zip member: a view of the file when stored uncompressed, else decompressed."""
        info = self.zf.getinfo(member)
        if info.flag_bits & 0x1:
            raise CheckpointError(f"{self.name}: encrypted zip entry {member}")
        if info.compress_type == zipfile.ZIP_STORED:
            head = info.header_offset
            if head + 30 > self.buf.size or self.buf[head:head + 4].tobytes() != b"PK\x03\x04":
                raise CheckpointError(f"{self.name}: bad local header for zip entry {member}")
            n_name, n_extra = struct.unpack("<HH", self.buf[head + 26:head + 30].tobytes())
            start = head + 30 + n_name + n_extra
            if info.file_size != info.compress_size or start + info.file_size > self.buf.size:
                raise CheckpointError(f"{self.name}: zip entry {member} ({info.file_size} bytes) runs past the "
                                      f"end of the file")
            return self.buf[start:start + info.file_size]
        try:
            return np.frombuffer(bytearray(self.zf.read(member)), np.uint8)
        except NotImplementedError as e:
            raise CheckpointError(f"{self.name}: unreadable zip entry {member} ({e})") from None

    def storage_for(self, pid):
        st = self.storage_id(pid, legacy=False)
        if st.key not in self.raw:
            try:
                self.raw[st.key] = self.entry(f"{self.prefix}data/{st.key}")
            except KeyError:
                raise CheckpointError(f"{self.name}: storage '{st.key:.100}' is missing from the archive") from None
        isz = np.dtype(_RAW[st.dtype]).itemsize
        if st.numel * isz > self.raw[st.key].size:
            raise CheckpointError(f"{self.name}: storage '{st.key}' should hold {st.numel} {st.dtype} elements "
                                  f"but has {self.raw[st.key].size} bytes")
        return st


def load_zip(buf, name, map_location):
    """The object saved in the zip layout, tensors filled in and placed on their devices."""
    try:
        reader = _ZipReader(buf, name)
        obj, up = _unpickle(reader.entry(reader.prefix + "data.pkl"), name, reader.storage_for)
        reader.materialize(up.pending)
        check_result(obj, name)
    except (CheckpointError, NotImplementedError):
        raise
    except Exception as e:
        raise CheckpointError(f"{name}: corrupted PyTorch zip checkpoint ({type(e).__name__}: {e})") from None
    reader.move(up.pending, map_location)
    return obj


# --- the legacy layout ---------------------------------------------------------------------------------------
class _LegacyReader(_Reader):
    def __init__(self, name):
        super().__init__(name)
        self.declared = {}  # key -> (dtype name, numel) of the root storage

    def declare_legacy(self, key, dtype_name, numel):
        prev = self.declared.setdefault(key, (dtype_name, numel))
        if prev != (dtype_name, numel):
            raise CheckpointError(f"{self.name}: storage '{key}' declared as both {prev} and "
                                  f"{(dtype_name, numel)}")

    def storage_for(self, pid):
        return self.storage_id(pid, legacy=True)


def load_legacy(buf, name, map_location):
    """The object saved in the legacy (pre-zip) layout."""
    try:
        reader = _LegacyReader(name)
        f = BufferReader(buf)
        magic, _ = _unpickle(f, name, None)
        if magic != LEGACY_MAGIC:
            raise CheckpointError(f"{name}: a pickle file, but not a PyTorch checkpoint (no magic number); zoo "
                                  f"only loads tensors and plain containers saved with torch.save")
        protocol, _ = _unpickle(f, name, None)
        if protocol != LEGACY_PROTOCOL:
            raise CheckpointError(f"{name}: unsupported legacy checkpoint protocol {protocol!r:.50}")
        sys_info, _ = _unpickle(f, name, None)
        if type(sys_info) is not dict:
            raise CheckpointError(f"{name}: malformed legacy checkpoint header")
        obj, up = _unpickle(f, name, reader.storage_for)
        keys, _ = _unpickle(f, name, None)
        if type(keys) is not list or not all(type(k) in (str, bytes) for k in keys):
            raise CheckpointError(f"{name}: malformed storage key list")
        pos = f.tell()
        for key in keys:
            key = _as_str(key, "storage key", name)
            if key not in reader.declared:
                raise CheckpointError(f"{name}: storage '{key:.100}' is listed but never used")
            dtype_name, numel = reader.declared[key]
            if pos + 8 > buf.size:
                raise CheckpointError(f"{name}: truncated before the data of storage '{key}'")
            count = int(buf[pos:pos + 8].view("<i8")[0])
            nbytes = numel * np.dtype(_RAW[dtype_name]).itemsize
            if count != numel or pos + 8 + nbytes > buf.size:
                raise CheckpointError(f"{name}: storage '{key}' should hold {numel} elements; the file says "
                                      f"{count} and has {buf.size - pos - 8} bytes left")
            reader.raw[key] = buf[pos + 8:pos + 8 + nbytes]
            pos += 8 + nbytes
        reader.materialize(up.pending)
        check_result(obj, name)
    except (CheckpointError, NotImplementedError):
        raise
    except Exception as e:
        raise CheckpointError(f"{name}: corrupted legacy PyTorch checkpoint ({type(e).__name__}: {e})") from None
    reader.move(up.pending, map_location)
    return obj
