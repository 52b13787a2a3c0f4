"""Shape ops. Views (reshape, transpose, expand, narrow, diagonal …) share memory and the version counter with
their input (``is_view``); the rest (cat, stack, repeat, flip, roll, tril …) make new arrays."""
import math

import numpy as np

from .. import parallel
from ..autograd.function import Function
from ..device import array_module
from ..tensor import Tensor
from ._util import promote_np, shape_arg, unbroadcast, wrap_dim, wrap_dims

# ----------------------------------------------------------------------------------------------------------------
# reshape / view
# ----------------------------------------------------------------------------------------------------------------


class View(Function):
    """A reshape that shares memory with the input."""
    is_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Reshape(View):
    """A reshape that must copy (the input's strides do not allow a view)."""
    is_view = False

    def forward(self, x):
        self.in_shape = x.shape
        return array_module(x).ascontiguousarray(x).reshape(self.shape)


def _infer_shape(shape, numel):
    """``shape`` with its -1 (at most one) replaced, checked against ``numel``."""
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer is None:
        if known == numel:
            return shape
    elif known == 0:
        if numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                               f"unspecified dimension size -1 can be any value and is ambiguous")
    elif numel % known == 0:
        return shape[:infer] + (numel // known,) + shape[infer + 1:]
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def _view_ok(shape, strides, new_shape):
    """Whether an array with ``shape``/``strides`` can be seen as ``new_shape`` without a copy: the old dims
    form runs that are contiguous with each other, and the new dims must split exactly along those runs."""
    if 0 in shape:
        return True
    runs = []
    prev = None
    for n, st in zip(shape, strides):
        if n == 1:
            continue
        if runs and prev == st * n:
            runs[-1] *= n
        else:
            runs.append(n)
        prev = st
    new = [n for n in new_shape if n != 1]
    i = 0
    for r in runs:
        p = 1
        while p < r:
            p *= new[i]
            i += 1
        if p != r:
            return False
    return True


def _reshape(input, shape, copy_ok):
    d = input._data
    shape = _infer_shape(shape, d.size)
    if d.flags.c_contiguous or _view_ok(d.shape, d.strides, shape):
        return View(shape).apply(input)
    if not copy_ok:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return Reshape(shape).apply(input)


def _sizes(first, more):
    """Sizes given as ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``."""
    return shape_arg((first,) + more)


def reshape(input, shape, *more):
    """The same elements in a new shape; a view when the strides allow it, else a copy."""
    return _reshape(input, _sizes(shape, more), True)


def view(input, shape, *more):
    """A view with a new shape (never copies), or ``view(dtype)``: the same bytes read as another dtype."""
    if not more and not isinstance(shape, (int, np.integer, tuple, list)):
        return _view_dtype(input, shape)
    return _reshape(input, _sizes(shape, more), False)


def _view_dtype(input, dtype):
    from .. import dtypes
    dt = dtypes.as_dtype(dtype).numpy
    d = input._data
    if dt == d.dtype:
        return View(d.shape).apply(input)
    if dt.itemsize != d.itemsize:
        raise NotImplementedError(f"view(dtype): reinterpreting {input.dtype.name} as {dtypes.as_dtype(dt).name} "
                                  f"(different element sizes) is not supported by zoo")
    if input._requires_grad:
        raise RuntimeError("view(dtype): a tensor that requires grad can only be viewed as its own dtype")
    return Tensor._make(d.view(dt), False, None, input)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return _reshape(input, tuple(other._data.shape), True)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a view when possible); a 0-d tensor becomes shape (1,)."""
    shape = input._data.shape
    nd = len(shape)
    if nd == 0:
        return View((1,)).apply(input)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return _reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:], True)


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one of which may be -1)."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = shape_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shape[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor") from None
    return _reshape(input, shape[:d] + sizes + shape[d + 1:], True)


def ravel(input):
    return _reshape(input, (-1,), True)


# ----------------------------------------------------------------------------------------------------------------
# permutations
# ----------------------------------------------------------------------------------------------------------------


class Permute(Function):
    is_view = True

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, g):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return g.transpose(inverse)


def permute(input, dims, *more):
    nd = input._data.ndim
    dims = _sizes(dims, more)
    if len(dims) != nd:
        raise RuntimeError(f"permute(): number of dims don't match: the tensor has {nd} dimensions but "
                           f"{len(dims)} dims were given ({list(dims)})")
    return Permute(wrap_dims(dims, nd)).apply(input)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    axes = list(range(nd))
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    if nd:
        axes[a], axes[b] = b, a
    return Permute(tuple(axes)).apply(input)


swapaxes = swapdims = transpose


def t(input):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return Permute(tuple(range(nd))[::-1]).apply(input)


def _T(self):
    return Permute(tuple(range(self._data.ndim))[::-1]).apply(self)


def _mT(self):
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {nd}-D tensor.")
    return Permute(tuple(range(nd - 2)) + (nd - 1, nd - 2)).apply(self)


def _H(self):
    if self._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor.")
    return _T(self)


def adjoint(input):
    """The conjugate transpose of the last two dims (a plain transpose: zoo has no complex dtypes)."""
    return _mT(input)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    nd = input._data.ndim
    src, dst = wrap_dims(source, nd), wrap_dims(destination, nd)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter([i for i in range(nd) if i not in src])
    return Permute(tuple(o if o is not None else next(rest) for o in order)).apply(input)


moveaxis = movedim

# ----------------------------------------------------------------------------------------------------------------
# broadcasting, repetition, (un)squeezing
# ----------------------------------------------------------------------------------------------------------------


class Expand(Function):
    """A read-only broadcast view: size-1 dims (and new leading dims) repeat without copying."""
    is_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return array_module(x).broadcast_to(x, self.shape)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)


def expand(input, size, *more):
    sizes = _sizes(size, more)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shape)})")
    out = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            continue
        old = shape[i - lead]
        if s == -1:
            out[i] = old
        elif s != old and (old != 1 or s < 0):
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({old}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shape)}")
    out = tuple(out)
    if out == shape:
        return View(out).apply(input)
    return Expand(out).apply(input)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    return expand(input, size)


class Repeat(Function):
    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        self.in_shape = x.shape
        x = x.reshape((1,) * (len(self.reps) - x.ndim) + x.shape)
        self.padded = x.shape
        if all(r == 1 for r in self.reps):
            return x.copy()
        return array_module(x).tile(x, self.reps)

    def backward(self, g):
        # out dim i is (reps[i] copies) x (padded[i] elements): sum over the copies
        split = []
        for r, s in zip(self.reps, self.padded):
            split += [r, s]
        return g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(self.in_shape)


def repeat(input, repeats, *more):
    """Tile the tensor ``sizes[i]`` times along dim i (extra leading sizes add dims); always a copy."""
    sizes = _sizes(repeats, more)
    if len(sizes) < input._data.ndim:
        raise RuntimeError(f"Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           f"tensor (repeat dims {list(sizes)}, tensor shape {list(input._data.shape)})")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeat sizes {list(sizes)}")
    return Repeat(sizes).apply(input)


def tile(input, dims, *more):
    dims = _sizes(dims, more)
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def squeeze(input, dim=None):
    """Drop size-1 dims (all, or those in ``dim`` that have size 1)."""
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = wrap_dims(dim, len(shape))
        new = tuple(s for i, s in enumerate(shape) if s != 1 or i not in dims)
    return View(new).apply(input)


def unsqueeze(input, dim):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1)
    return View(shape[:d] + (1,) + shape[d:]).apply(input)


def _atleast(n, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tensors[0]
        single = False
    else:
        single = len(tensors) == 1
    out = []
    for x in tensors:
        shape = x._data.shape
        if len(shape) < n:
            if len(shape) == 0:
                shape = (1,) * n
            elif n == 2 or len(shape) == 2:  # (k,) -> (1, k); (m, k) -> (m, k, 1)
                shape = (1,) + shape if n == 2 else shape + (1,)
            else:  # (k,) -> (1, k, 1)
                shape = (1,) + shape + (1,)
            x = View(shape).apply(x)
        out.append(x)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    return _atleast(3, tensors)


# ----------------------------------------------------------------------------------------------------------------
# joining
# ----------------------------------------------------------------------------------------------------------------


class Cat(Function):
    def __init__(self, dim, dtype):
        self.dim, self.dtype = dim, dtype

    def forward(self, *xs):
        dt = self.dtype
        self.sizes = [x.shape[self.dim] for x in xs]
        self.dtypes = [x.dtype for x in xs]
        return array_module(xs[0]).concatenate([x.astype(dt, copy=False) for x in xs], axis=self.dim)

    def backward(self, g):
        grads = []
        key = [slice(None)] * g.ndim
        start = 0
        for n, need, dt in zip(self.sizes, self.needs_input_grad, self.dtypes):
            if need:
                key[self.dim] = slice(start, start + n)
                grads.append(g[tuple(key)].astype(dt, copy=False))
            else:
                grads.append(None)
            start += n
        return tuple(grads)


class Stack(Function):
    def __init__(self, dim, dtype):
        self.dim, self.dtype = dim, dtype

    def forward(self, *xs):
        self.dtypes = [x.dtype for x in xs]
        return array_module(xs[0]).stack([x.astype(self.dtype, copy=False) for x in xs], axis=self.dim)

    def backward(self, g):
        lead = (slice(None),) * self.dim
        return tuple(g[lead + (i,)].astype(dt, copy=False) if need else None
                     for i, (need, dt) in enumerate(zip(self.needs_input_grad, self.dtypes)))


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): expected a Tensor at position {i}, got {type(x).__name__}")
    return tensors


def _common_dtype(tensors):
    dt = tensors[0]._data.dtype
    for x in tensors[1:]:
        dt = promote_np(dt, x._data.dtype)
    return dt


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim (promoting dtypes); 1-D empty tensors are skipped as in PyTorch."""
    if out is not None:
        raise NotImplementedError("cat: the out= argument is not supported by zoo")
    tensors = _tensor_list(tensors, "cat")
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
    numbered = [(i, x) for i, x in enumerate(tensors) if x._data.shape != (0,)] or [(0, tensors[0])]
    kept = [x for _, x in numbered]
    ref = kept[0]._data.shape
    d = wrap_dim(dim, len(ref))
    for i, x in numbered:
        s = x._data.shape
        if len(s) != len(ref):
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got {len(ref)} and {len(s)} "
                               f"(shapes {[list(t._data.shape) for t in tensors]})")
        for j in range(len(ref)):
            if j != d and s[j] != ref[j]:
                raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref[j]} but got size {s[j]} for tensor number {i} in the list "
                                   f"(shapes {[list(t._data.shape) for t in tensors]})")
    return Cat(d, _common_dtype(tensors)).apply(*kept)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dim."""
    if out is not None:
        raise NotImplementedError("stack: the out= argument is not supported by zoo")
    tensors = _tensor_list(tensors, "stack")
    ref = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                               f"{list(x._data.shape)} at entry {i}")
    return Stack(wrap_dim(dim, len(ref) + 1), _common_dtype(tensors)).apply(*tensors)


def hstack(tensors):
    tensors = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(tensors, 0 if all(x._data.ndim == 1 for x in tensors) else 1)


def vstack(tensors):
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


def dstack(tensors):
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


row_stack = vstack

# ----------------------------------------------------------------------------------------------------------------
# slicing pieces out: narrow, select, split, chunk, unbind, diagonal, unfold
# ----------------------------------------------------------------------------------------------------------------


class _Slice(Function):
    """``x[key]`` for a basic-indexing key along one dim: a view; backward places g into zeros."""
    is_view = True

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.key]

    def backward(self, g):
        if type(g) is np.ndarray:
            z = parallel.zeros(self.in_shape, g.dtype)  # in the arena while the helper process is on
        else:
            z = array_module(g).zeros(self.in_shape, g.dtype)
        z[self.key] = g
        return z

    _fresh_grads = True

    def _grad_into_key(self):
        return self.key


class Narrow(_Slice):
    def __init__(self, dim, start, length):
        self.key = (slice(None),) * dim + (slice(start, start + length),)


class Select(_Slice):
    def __init__(self, dim, index):
        self.key = (slice(None),) * dim + (index, Ellipsis)


def narrow(input, dim, start, length):
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    n = shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Narrow(d, start, length).apply(input)


def select(input, dim, index):
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    index = int(index)
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {d}")
    return Select(d, index % shape[d]).apply(input)


def split(tensor, split_size_or_sections, dim=0):
    """Views of consecutive pieces along ``dim``: of size ``split_size`` (the last may be smaller) or of the
    listed sizes. Each piece is its own node."""
    shape = tensor._data.shape
    if not shape:
        raise RuntimeError("split: the tensor must have at least one dimension")
    d = wrap_dim(dim, len(shape))
    n = shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
    else:
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    pieces = []
    start = 0
    for s in sizes:
        pieces.append(Narrow(d, start, s).apply(tensor))
        start += s
    return tuple(pieces)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of size ceil(n / chunks) (possibly fewer pieces)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, len(shape))
    n = shape[d]
    if n == 0:
        return tuple(Narrow(d, 0, 0).apply(input) for _ in range(chunks))
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of views (each its own node)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, len(shape))
    return tuple(Select(d, i).apply(input) for i in range(shape[d]))


def _diagonal_view(a, offset, d1, d2):
    """A strided view of the diagonal of dims d1, d2 of ``a`` (moved last), as PyTorch's ``diagonal``."""
    n1, n2 = a.shape[d1], a.shape[d2]
    start = [slice(None)] * a.ndim
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        start[d2] = slice(min(offset, n2), None)
    else:
        length = max(0, min(n1 + offset, n2))
        start[d1] = slice(min(-offset, n1), None)
    sub = a[tuple(start)]
    keep = [i for i in range(a.ndim) if i != d1 and i != d2]
    shape = tuple(a.shape[i] for i in keep) + (length,)
    strides = tuple(a.strides[i] for i in keep) + (a.strides[d1] + a.strides[d2],)
    return array_module(a).lib.stride_tricks.as_strided(sub, shape, strides)


class Diagonal(Function):
    is_view = True

    def __init__(self, offset, d1, d2):
        self.offset, self.d1, self.d2 = offset, d1, d2

    def forward(self, x):
        self.in_shape = x.shape
        return _diagonal_view(x, self.offset, self.d1, self.d2)

    def backward(self, g):
        z = array_module(g).zeros(self.in_shape, g.dtype)
        _diagonal_view(z, self.offset, self.d1, self.d2)[...] = g
        return z


def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal expects a tensor with at least 2 dimensions, got {nd}")
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal(int(offset), d1, d2).apply(input)


class Unfold(Function):
    """Sliding windows of ``size`` every ``step`` along ``dim``: a (possibly overlapping) strided view."""
    is_view = True

    def __init__(self, dim, size, step):
        self.dim, self.size, self.step = dim, size, step

    def forward(self, x):
        d, size, step = self.dim, self.size, self.step
        self.in_shape = x.shape
        self.windows = (x.shape[d] - size) // step + 1
        shape = x.shape[:d] + (self.windows,) + x.shape[d + 1:] + (size,)
        strides = x.strides[:d] + (x.strides[d] * step,) + x.strides[d + 1:] + (x.strides[d],)
        return array_module(x).lib.stride_tricks.as_strided(x, shape, strides)

    def backward(self, g):
        d, step, w = self.dim, self.step, self.windows
        z = array_module(g).zeros(self.in_shape, g.dtype)
        lead = (slice(None),) * d
        for j in range(self.size):  # one strided add per window offset (windows may overlap)
            z[lead + (slice(j, j + step * (w - 1) + 1, step),)] += g[..., j]
        return z


def unfold(input, dimension, size, step):
    shape = input._data.shape
    if not shape:
        raise NotImplementedError("unfold of a 0-dim tensor is not supported by zoo")
    d = wrap_dim(dimension, len(shape))
    if size < 0 or size > shape[d]:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {shape[d]} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    return Unfold(d, int(size), int(step)).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# reordering copies: flip, roll; triangular masks
# ----------------------------------------------------------------------------------------------------------------


class Flip(Function):
    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return array_module(x).flip(x, self.dims).copy()

    def backward(self, g):
        return array_module(g).flip(g, self.dims)


def flip(input, dims, *more):
    nd = input._data.ndim
    dims = wrap_dims(_sizes(dims, more), nd)
    return Flip(dims if nd else ()).apply(input)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return Flip((1,)).apply(input)


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return Flip((0,)).apply(input)


class Roll(Function):
    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return self._roll(x, self.shifts)

    def backward(self, g):
        return self._roll(g, tuple(-s for s in self.shifts))

    def _roll(self, a, shifts):
        xp = array_module(a)
        if self.dims is None:
            return xp.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
        return xp.roll(a, shifts, axis=self.dims)


def roll(input, shifts, dims=None):
    """Rotate elements along ``dims`` (or the flattened tensor when ``dims`` is None)."""
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {list(shifts)} need matching dims (got dims=None)")
        return Roll(shifts, None).apply(input)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input._data.ndim
    return Roll(shifts, tuple(wrap_dim(int(d), nd) for d in dims)).apply(input)


class Triangle(Function):
    """Keep the lower (tril) or upper (triu) triangle of the last two dims; zero the rest."""

    def __init__(self, k, upper):
        self.k, self.upper = k, upper

    def forward(self, x):
        xp = array_module(x)
        n, m = x.shape[-2:]
        self.mask = ~xp.tri(n, m, self.k - 1, dtype=bool) if self.upper else xp.tri(n, m, self.k, dtype=bool)
        return xp.where(self.mask, x, xp.zeros((), x.dtype))

    def backward(self, g):
        xp = array_module(g)
        return xp.where(self.mask, g, xp.zeros((), g.dtype))


def _triangle(input, diagonal, upper):
    if input._data.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions, got "
                           f"shape {list(input._data.shape)}")
    return Triangle(int(diagonal), upper).apply(input)


def tril(input, diagonal=0):
    return _triangle(input, diagonal, False)


def triu(input, diagonal=0):
    return _triangle(input, diagonal, True)


# ----------------------------------------------------------------------------------------------------------------
# Tensor methods
# ----------------------------------------------------------------------------------------------------------------

def _methods():
    from .inplace import inplace
    return dict(
        view=view, view_as=view_as, reshape=reshape, reshape_as=reshape_as, flatten=flatten, unflatten=unflatten,
        ravel=ravel, permute=permute, transpose=transpose, swapaxes=swapaxes, swapdims=swapdims, t=t,
        T=property(_T), mT=property(_mT), H=property(_H), mH=property(_mT), adjoint=adjoint, movedim=movedim,
        moveaxis=moveaxis, expand=expand, expand_as=expand_as, broadcast_to=broadcast_to, repeat=repeat, tile=tile,
        squeeze=squeeze, unsqueeze=unsqueeze, split=split, chunk=chunk, unbind=unbind, narrow=narrow, select=select,
        diagonal=diagonal, unfold=unfold, flip=flip, fliplr=fliplr, flipud=flipud, roll=roll, tril=tril, triu=triu,
        tril_=inplace(tril), triu_=inplace(triu),
    )


TENSOR_METHODS = _methods()

__all__ = [
    "reshape", "flatten", "unflatten", "ravel", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint",
    "movedim", "moveaxis", "broadcast_to", "tile", "squeeze", "unsqueeze", "atleast_1d", "atleast_2d", "atleast_3d",
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "row_stack", "narrow", "select", "split",
    "chunk", "unbind", "diagonal", "flip", "fliplr", "flipud", "roll", "tril", "triu",
]
