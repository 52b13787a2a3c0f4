"""zoo's dtypes: thin named wrappers over NumPy dtypes, with PyTorch's names and promotion rules."""
import builtins

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "half", "float", "double", "short", "int", "long", "get_default_dtype", "set_default_dtype",
    "promote_types", "to_numpy_dtype", "from_numpy_dtype",
]

class dtype:
    """A tensor element type (``zoo.float32`` …); ``.numpy`` is the NumPy dtype it stores."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.numpy = np.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating point
        self.is_floating_point = category == 2
        self.is_signed = self.numpy.kind in "if"
        self.itemsize = self.numpy.itemsize

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return f"zoo.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.numpy,))


bool = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)
_UNSUPPORTED = {"bfloat16", "complex64", "complex128", "cfloat", "cdouble", "float8_e4m3fn", "float8_e5m2", "uint16",
                "uint32", "uint64"}

_default = [float32]


def get_default_dtype():
    """The floating point dtype of tensors made from Python floats (``float32`` unless changed)."""
    return _default[0]


def set_default_dtype(d):
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating point dtypes can be the default, got {d}")
    _default[0] = d


def from_numpy_dtype(np_dtype):
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"zoo has no dtype for NumPy dtype {np.dtype(np_dtype)}; supported: "
                        f"{', '.join(d.name for d in ALL)}") from None


def as_dtype(d):
    """A zoo dtype from a zoo dtype, a NumPy dtype or type, a name, or a Python type."""
    if type(d) is dtype:
        return d
    if isinstance(d, str):
        name = d[4:] if d.startswith("zoo.") else d
        if name in _BY_NAME:
            return _BY_NAME[name]
        if name in _UNSUPPORTED:
            raise NotImplementedError(f"dtype {name} is not supported by zoo")
        raise TypeError(f"unknown dtype {d!r}")
    if d is builtins.bool:
        return bool
    if d is builtins.float:
        return get_default_dtype()
    if d is builtins.int:
        return int64
    return from_numpy_dtype(d)


def to_numpy_dtype(d):
    return as_dtype(d).numpy


_PROMOTE = {}


def promote_types(a, b):
    """PyTorch's type promotion lattice for two dtypes."""
    key = (a, b)
    r = _PROMOTE.get(key)
    if r is None:
        if a is b:
            r = a
        elif a.category != b.category:
            r = a if a.category > b.category else b
        elif a.category == 1 and {a, b} == {uint8, int8}:
            r = int16
        else:
            r = from_numpy_dtype(np.promote_types(a.numpy, b.numpy))
        _PROMOTE[key] = r
    return r
