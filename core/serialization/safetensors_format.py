"""The safetensors format, read and written with NumPy (no safetensors or torch import needed).

A file is: 8 bytes, little-endian u64 ``N``; ``N`` bytes of UTF-8 JSON (space padded) mapping each tensor name
to ``{"dtype", "shape", "data_offsets": [begin, end]}`` plus an optional ``"__metadata__"`` dict of str to str;
then the data buffer, each tensor C-contiguous little-endian at its offsets (relative to the buffer start).

zoo keeps the structure of what was saved in ``__metadata__["zoo"]`` (see ``zoo.core.serialization``) and writes
``__metadata__["format"] = "pt"`` so that Hugging Face tooling accepts the file as a PyTorch state dict.
"""
import json
import math
import struct
from collections import OrderedDict

import numpy as np

from ..tensor import Tensor
from .common import CheckpointError

__all__ = ["write", "read", "read_header"]

MAX_HEADER = 100_000_000  # the limit the reference implementation enforces
TREE_VERSION = 1

# safetensors dtype name -> little-endian NumPy dtype of the stored bytes
_STORED = {"BOOL": np.dtype("?"), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "I16": np.dtype("<i2"),
           "I32": np.dtype("<i4"), "I64": np.dtype("<i8"), "F16": np.dtype("<f2"), "F32": np.dtype("<f4"),
           "F64": np.dtype("<f8"), "BF16": np.dtype("<u2")}
_NAME_OF = {d.name: k for k, d in _STORED.items() if k != "BF16"}  # NumPy dtype name -> safetensors name
_UNSUPPORTED = {"U16": "uint16", "U32": "uint32", "U64": "uint64", "C64": "complex64", "C128": "complex128",
                "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu",
                "F4": "float4_e2m1fn_x2", "F6_E2M3": "float6_e2m3fn", "F6_E3M2": "float6_e3m2fn"}


def bfloat16_to_float32(bits):
    """bfloat16 bit patterns (uint16) to float32, exactly: bfloat16 is the top half of a float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


# --- writing ---------------------------------------------------------------------------------------------------
def _float_node(x):
    if math.isfinite(x):
        return x
    return {"float": struct.pack(">d", x).hex()}  # nan payloads and signs survive


class _Encoder:
    """Turns a saved object into a JSON tree, collecting its tensors under unique dotted names."""

    def __init__(self):
        self.tensors = []  # (name, Tensor)
        self.names = {"__metadata__"}
        self.open = set()  # ids of the containers on the current path (cycle check)

    def name_for(self, path):
        base = ".".join(path) if path else "tensor"
        name, n = base, 0
        while name in self.names:
            n += 1
            name = f"{base}~{n}"
        self.names.add(name)
        return name

    def encode(self, v, path):
        t = type(v)
        if v is None or t is bool or t is int or t is str:
            return v
        if t is float:
            return _float_node(v)
        if isinstance(v, Tensor):
            name = self.name_for(path)
            self.tensors.append((name, v))
            return {"tensor": name, "requires_grad": True} if v.requires_grad else {"tensor": name}
        if t in (list, tuple, dict, OrderedDict):
            if id(v) in self.open:
                raise ValueError(f"zoo.save: circular reference at '{'.'.join(path)}'")
            self.open.add(id(v))
            try:
                if t is list:
                    return [self.encode(x, path + [str(i)]) for i, x in enumerate(v)]
                if t is tuple:
                    return {"tuple": [self.encode(x, path + [str(i)]) for i, x in enumerate(v)]}
                items = []
                for k, x in v.items():
                    if type(k) is not str and type(k) is not int:
                        raise TypeError(f"zoo.save: dict keys must be str or int, got {type(k).__name__} "
                                        f"key {k!r} at '{'.'.join(path)}'")
                    items.append([k, self.encode(x, path + [str(k)])])
                return {"dict" if t is dict else "odict": items}
            finally:
                self.open.discard(id(v))
        where = ".".join(path) or "<root>"
        hint = " (save model.state_dict() instead of the model)" if hasattr(v, "state_dict") else ""
        if isinstance(v, (np.generic, np.ndarray)):
            hint = " (convert NumPy values with float()/int()/zoo.tensor())"
        raise TypeError(f"zoo.save: cannot save a {t.__module__}.{t.__qualname__} at '{where}'{hint}; zoo saves "
                        f"tensors and plain values (None, bool, int, float, str) in dicts, lists and tuples")


def _host_array(t):
    """The tensor's data as a C-contiguous little-endian NumPy array (copied from the GPU if needed)."""
    a = t._data if type(t._data) is np.ndarray else t._data.get()
    a = np.ascontiguousarray(a)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return a


def _write_array(f, a):
    f.write(a.reshape(-1).view(np.uint8))


def write(obj, f):
    """Write ``obj`` (a state dict: tensors and plain values in dicts / lists / tuples) to binary file ``f``."""
    enc = _Encoder()
    tree = enc.encode(obj, [])
    meta = json.dumps({"version": TREE_VERSION, "tree": tree}, separators=(",", ":"), allow_nan=False)
    order = sorted(enc.tensors, key=lambda nt: (-nt[1]._data.dtype.itemsize, nt[0]))  # keeps data aligned
    header = {"__metadata__": {"format": "pt", "zoo": meta}}
    offset = 0
    for name, t in order:
        nbytes = int(t._data.nbytes)
        header[name] = {"dtype": _NAME_OF[t._data.dtype.name], "shape": list(t._data.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the data buffer starts 8-byte aligned
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for _, t in order:
        _write_array(f, _host_array(t))


# --- reading ---------------------------------------------------------------------------------------------------
def read_header(buf, name):
    """Parse and validate the header of safetensors bytes ``buf``: (entries, metadata, data start)."""
    if buf.size < 8:
        raise CheckpointError(f"{name}: truncated safetensors file ({buf.size} bytes)")
    n = int(buf[:8].view("<u8")[0])
    if n > MAX_HEADER or n > buf.size - 8:
        raise CheckpointError(f"{name}: safetensors header claims {n} bytes but the file has {buf.size - 8} "
                              f"after the length field")
    try:
        header = json.loads(buf[8:8 + n].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(f"{name}: safetensors header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name}: safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise CheckpointError(f"{name}: safetensors __metadata__ must map strings to strings")
    start = 8 + n
    size = buf.size - start
    entries = {}
    for key, e in header.items():
        if not (isinstance(e, dict) and isinstance(e.get("dtype"), str) and isinstance(e.get("shape"), list)
                and isinstance(e.get("data_offsets"), list) and len(e["data_offsets"]) == 2):
            raise CheckpointError(f"{name}: malformed safetensors entry for tensor '{key}'")
        dt, shape, (lo, hi) = e["dtype"], e["shape"], e["data_offsets"]
        if dt in _UNSUPPORTED:
            raise NotImplementedError(f"{name}: tensor '{key}' has dtype {_UNSUPPORTED[dt]}, which zoo does "
                                      f"not support")
        if dt not in _STORED:
            raise CheckpointError(f"{name}: tensor '{key}' has unknown safetensors dtype {dt!r}")
        if not all(type(s) is int and s >= 0 for s in shape + [lo, hi]):
            raise CheckpointError(f"{name}: tensor '{key}' has an invalid shape {shape} or offsets {[lo, hi]}")
        numel = math.prod(shape)
        if not lo <= hi <= size or hi - lo != numel * _STORED[dt].itemsize:
            raise CheckpointError(f"{name}: tensor '{key}' ({dt}, shape {shape}) has data offsets {[lo, hi]} "
                                  f"that do not fit its size or the {size}-byte data buffer")
        entries[key] = (dt, tuple(shape), lo, hi)
    return entries, meta, start


def read(buf, name):
    """The arrays of safetensors bytes ``buf`` (views into it where possible) and its metadata."""
    entries, meta, start = read_header(buf, name)
    arrays = {}
    for key, (dt, shape, lo, hi) in entries.items():
        a = buf[start + lo:start + hi].view(_STORED[dt])
        if dt == "BF16":
            a = bfloat16_to_float32(a)
        elif not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        arrays[key] = a.reshape(shape)
    return arrays, meta


class _Decoder:
    """Rebuilds the saved object from the JSON tree; ``make`` turns (array, requires_grad) into a Tensor."""

    def __init__(self, arrays, make, name):
        self.arrays, self.make, self.name, self.used = arrays, make, name, set()

    def bad(self, what):
        return CheckpointError(f"{self.name}: corrupted zoo metadata ({what})")

    def decode(self, node):
        t = type(node)
        if node is None or t in (bool, int, str, float):
            return node
        if t is list:
            return [self.decode(x) for x in node]
        if t is not dict:
            raise self.bad(f"unexpected {t.__name__}")
        if "tensor" in node:
            key, rg = node["tensor"], node.get("requires_grad", False)
            if set(node) - {"tensor", "requires_grad"} or type(key) is not str or type(rg) is not bool:
                raise self.bad(f"bad tensor entry {node!r:.100}")
            if key not in self.arrays:
                raise self.bad(f"tensor '{key}' is missing from the file")
            a = self.arrays[key]
            if rg and a.dtype.kind != "f":
                raise self.bad(f"tensor '{key}' of dtype {a.dtype} cannot require grad")
            self.used.add(key)
            return self.make(a, rg)
        if len(node) != 1:
            raise self.bad(f"unexpected entry {node!r:.100}")
        (tag, v), = node.items()
        if tag == "float" and type(v) is str and len(v) == 16:
            try:
                return struct.unpack(">d", bytes.fromhex(v))[0]
            except ValueError:
                raise self.bad(f"bad float {v!r}") from None
        if tag == "tuple" and type(v) is list:
            return tuple(self.decode(x) for x in v)
        if tag in ("dict", "odict") and type(v) is list:
            out = {} if tag == "dict" else OrderedDict()
            for item in v:
                if type(item) is not list or len(item) != 2 or type(item[0]) not in (str, int):
                    raise self.bad(f"bad dict item {item!r:.100}")
                out[item[0]] = self.decode(item[1])
            return out
        raise self.bad(f"unknown entry {tag!r:.50}")


def decode_tree(meta_json, arrays, make, name):
    """The saved object from the ``__metadata__["zoo"]`` JSON, with every tensor of the file accounted for."""
    try:
        doc = json.loads(meta_json)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{name}: corrupted zoo metadata ({e})") from None
    if not isinstance(doc, dict) or "tree" not in doc or type(doc.get("version")) is not int:
        raise CheckpointError(f"{name}: corrupted zoo metadata (no version / tree)")
    if doc["version"] > TREE_VERSION:
        raise CheckpointError(f"{name}: written by a newer zoo (metadata version {doc['version']}, this zoo "
                              f"reads up to {TREE_VERSION}); upgrade zoo")
    dec = _Decoder(arrays, make, name)
    try:
        obj = dec.decode(doc["tree"])
    except RecursionError:
        raise CheckpointError(f"{name}: corrupted zoo metadata (nested too deeply)") from None
    extra = set(arrays) - dec.used
    if extra:
        raise CheckpointError(f"{name}: tensors {sorted(extra)[:5]} are not described by the file's zoo metadata")
    return obj
