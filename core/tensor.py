"""The Tensor: an n-d array on a device (NumPy on cpu, CuPy on cuda) that can record autograd history.

Math methods and operators (``+``, ``exp``, ``sum``, ``reshape`` …) are attached by ``zoo.core.ops``; this
file holds what a tensor *is*: data, dtype, device, grad bookkeeping, conversions and in-place plumbing.
"""
import weakref

import numpy as np

from . import dtypes
from .device import CPU, as_device, device_of, move

__all__ = ["Tensor"]

_ndarray = np.ndarray


class Tensor:
    # _base: the tensor whose memory this one views (None if it owns its memory); _view: for a differentiable view,
    # (parent tensor, view node, version of the shared counter when grad_fn was last derived) — see
    # autograd.function.refresh_view
    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_vc", "_base", "_view", "_backward_hooks",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, *args, requires_grad=False):
        """``Tensor(2, 3)`` is an uninitialised float tensor of that shape and ``Tensor([1, 2])`` a float tensor
        from data, as in PyTorch; prefer ``zoo.tensor`` / ``zoo.empty``."""
        from .creation import _to_array
        if args and all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            data = np.empty(args, dtypes.get_default_dtype().numpy)
        elif len(args) <= 1:
            data = _to_array(args[0] if args else [], dtypes.get_default_dtype(), None, copy=False)
        else:
            raise TypeError("Tensor() takes sizes (ints) or a single data argument")
        self._data = data
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._vc = [0]
        self._base = None
        self._view = None
        self._backward_hooks = None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, base=None):
        """Wrap an array without copying or checks (the hot path of every op)."""
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        if base is None:
            t._vc = [0]
            t._base = None
        else:  # a view: shares the version counter of the tensor it views
            t._vc = base._vc
            t._base = base if base._base is None else base._base
        t._view = None
        t._backward_hooks = None
        return t

    # --- basic properties -----------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def dtype(self):
        return dtypes._BY_NUMPY[self._data.dtype]

    @property
    def device(self):
        return CPU if type(self._data) is _ndarray else device_of(self._data)

    @property
    def is_cuda(self):
        return type(self._data) is not _ndarray

    @property
    def is_cpu(self):
        return type(self._data) is _ndarray

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        s = tuple(st // self._data.itemsize for st in self._data.strides)
        return s if dim is None else s[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self):
        return self._data.ctypes.data if type(self._data) is _ndarray else self._data.data.ptr

    @property
    def _version(self):
        return self._vc[0]

    # --- autograd bookkeeping -------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        self.grad_fn._output_ref = weakref.ref(self)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn._output_ref is not None

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            if self.grad_fn._hooks is None:
                self.grad_fn._hooks = []
            hooks = self.grad_fn._hooks
        else:
            if self._backward_hooks is None:
                self._backward_hooks = []
            hooks = self._backward_hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        from .autograd import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self):
        """The same data, cut from the graph (a view: in-place changes are seen by both)."""
        return Tensor._make(self._data, False, None, self)

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The same memory without history, and with a version counter of its own (in-place changes through
        ``.data`` are invisible to autograd, as in PyTorch)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data

    # --- conversions ----------------------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self):
        return self._cpu_array().tolist()

    def numpy(self, force=False):
        """The NumPy array behind a cpu tensor (shared memory, no copy)."""
        if not force:
            if self._requires_grad:
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                                   "instead.")
            if type(self._data) is not _ndarray:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                                f"the tensor to host memory first.")
            return self._data
        return self._cpu_array()

    def _cpu_array(self):
        return self._data if type(self._data) is _ndarray else self._data.get()

    def __array__(self, dtype=None, copy=None):
        a = self._cpu_array()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __dlpack__(self, stream=None):
        return self._data.__dlpack__() if stream is None else self._data.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other)``; differentiable."""
        device, dtype, copy = parse_to_args(args, kwargs)
        from .ops.conversion import to_copy
        return to_copy(self, device, dtype, copy)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device))

    def type(self, dtype=None):
        if dtype is None:
            return f"zoo.{self.dtype.name}"
        return self.to(dtype)

    def type_as(self, other):
        """This tensor in ``other``'s dtype (and on its device, as PyTorch's ``type_as`` of a cuda tensor)."""
        return self.to(other.device, other.dtype)

    def pin_memory(self, device=None):
        """A copy in page-locked host memory (CuPy's pinned allocator), for faster copies to the GPU; like
        PyTorch, an error without an accelerator."""
        from . import cuda
        if self.is_cuda:
            raise RuntimeError(f"cannot pin '{self.device}' memory: only dense CPU tensors can be pinned")
        if not cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        import cupyx
        pinned = cupyx.empty_pinned(self._data.shape, self._data.dtype)
        pinned[...] = self._data
        return Tensor._make(pinned)

    def is_pinned(self, device=None):
        return type(getattr(self._data, "base", None)).__name__ == "PinnedMemoryPointer"

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def short(self):
        return self.to(dtypes.int16)

    def char(self):
        return self.to(dtypes.int8)

    def byte(self):
        return self.to(dtypes.uint8)

    def bool(self):
        return self.to(dtypes.bool)

    def bfloat16(self):
        raise NotImplementedError("bfloat16 tensors are not supported by zoo (NumPy has no bfloat16)")

    # --- Python protocol --------------------------------------------------------------------------------------
    __hash__ = object.__hash__

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._cpu_array(), str(self.device), self._requires_grad))

    def __repr__(self):
        a = self._cpu_array()
        kind = a.dtype.kind
        floatmode = "maxprec"
        if kind == "f" and a.size:
            finite = a[np.isfinite(a)]
            floatmode = "unique" if finite.size == 0 or bool((finite == np.round(finite)).all()) else "fixed"
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
                               floatmode=floatmode, precision=4) if a.size else "[]"
        extras = []
        if a.size == 0 and a.ndim != 1:
            extras.append(f"size={tuple(a.shape)}")
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool) or (a.size == 0 and kind != "f"):
            extras.append(f"dtype={self.dtype!r}")
        if self.is_cuda:
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    # --- in-place plumbing ----------------------------------------------------------------------------------
    def _check_inplace(self, through=None):
        """Refuse in-place changes of a leaf that autograd tracks (``through``: the view op changing it)."""
        from .autograd.grad_mode import _mode
        if _mode.grad_enabled and self._requires_grad and self.grad_fn is None:
            what = "a leaf Variable" if through is None else f"a leaf Variable, changed through {through},"
            raise RuntimeError(f"{what} that requires grad is being used in an in-place operation. "
                               f"Wrap it in zoo.no_grad() or use an out-of-place op.")


class Size(tuple):
    """A tensor shape: a tuple that prints like ``zoo.Size([2, 3])``."""
    __slots__ = ()

    def __repr__(self):
        return f"zoo.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def parse_to_args(args, kwargs):
    """(device or None, dtype or None, copy) from the arguments of ``Tensor.to`` / ``Module.to``."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (dtypes.dtype, type, np.dtype)) or (isinstance(a, str) and _is_dtype_name(a)):
            dtype = a
        elif isinstance(a, bool):
            pass  # PyTorch's positional non_blocking flag
        else:
            device = a
    return (None if device is None else as_device(device), None if dtype is None else dtypes.as_dtype(dtype),
            copy)


def _is_dtype_name(s):
    name = s[4:] if s.startswith("zoo.") else s
    return name in dtypes._BY_NAME


def _rebuild(array, device, requires_grad):
    t = Tensor._make(move(array, as_device(device)))
    t._requires_grad = requires_grad
    return t

