"""``default_collate`` (samples → batch) and ``default_convert`` (sample → tensors), as in PyTorch."""
import collections.abc
import copy

import numpy as np

from ..creation import from_numpy, tensor
from ..device import cupy_module
from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
_NOT_NUMERIC = "OSUV"  # object, bytes, str and void arrays have no tensor form


def _is_numpy(x):
    """NumPy arrays and NumPy scalars, but not NumPy's str/bytes scalars (those collate as strings)."""
    return type(x).__module__ == "numpy" and not isinstance(x, (str, bytes))


def _is_cupy_array(x):
    return type(x).__module__.split(".")[0] == "cupy" and hasattr(x, "__cuda_array_interface__")


def _shape_error(batch):
    ref = tuple(batch[0].shape)
    for i, b in enumerate(batch):
        if tuple(b.shape) != ref:
            return RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                                f"{list(b.shape)} at entry {i}")
    return None


def _stack_arrays(batch, xp):
    try:
        out = xp.stack(batch)
    except ValueError:
        err = _shape_error(batch)
        if err is None:
            raise
        raise err from None
    return out


def _rebuild(elem, values):
    """A container like ``elem`` (same type where it can be rebuilt from a list/dict) holding ``values``."""
    if isinstance(elem, collections.abc.Mapping):
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        try:
            return type(elem)(values)
        except TypeError:
            return values
    if isinstance(elem, collections.abc.MutableSequence):
        clone = copy.copy(elem)
        for i, v in enumerate(values):
            clone[i] = v
        return clone
    try:
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Merge a list of samples into a batch: tensors, NumPy arrays and NumPy scalars are stacked along a new
    first dim; Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor; strings stay
    a list; dicts, namedtuples and sequences are collated field by field (tuples come back as lists)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        from ..ops.shape import stack
        return stack(batch, 0)
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray):
            if elem.dtype.kind in _NOT_NUMERIC:
                raise TypeError(_ERR.format(elem.dtype))
            out = _stack_arrays(batch, np)
            return from_numpy(out if type(out) is np.ndarray else out.view(np.ndarray))
        if getattr(elem, "shape", None) == ():
            if elem.dtype.kind in _NOT_NUMERIC:
                raise TypeError(_ERR.format(elem.dtype))
            return from_numpy(np.array(batch))
    if _is_cupy_array(elem):
        return Tensor._make(_stack_arrays(batch, cupy_module()))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):  # bools too: tensor() infers bool for all-bool lists, int64 for ints
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(s) != n for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]  # strings in a column stay a tuple, as in PyTorch
        if isinstance(elem, tuple):
            return columns
        return _rebuild(elem, columns)
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays and scalars inside ``data`` into tensors (sharing memory), recursing into dicts,
    namedtuples and sequences (tuples come back as lists); anything else is returned unchanged. It is the
    collate_fn of a DataLoader with ``batch_size=None``."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray):
            if data.dtype.kind in _NOT_NUMERIC:
                return data
            return from_numpy(data if type(data) is np.ndarray else data.view(np.ndarray))
        if getattr(data, "shape", None) == ():
            return data if data.dtype.kind in _NOT_NUMERIC else from_numpy(np.asarray(data))
        return data
    if _is_cupy_array(data):
        return Tensor._make(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(v) for key, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
