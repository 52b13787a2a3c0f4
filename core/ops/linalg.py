"""Matrix products: matmul (``@``), mm, bmm, mv, dot, outer, einsum, tensordot, addmm, baddbmm.

Products go straight to BLAS through ``xp.matmul`` / ``xp.tensordot`` in the inputs' own dtype. As in
PyTorch, both operands of a product must have the same dtype (``outer`` alone promotes). Shape errors name
the op and both shapes.
"""
import math
import string

import numpy as np

from .. import parallel
from ..autograd.function import Function
from ..device import array_module
from ..tensor import Tensor
from ._util import result_dtype, unbroadcast, wrap_dims

# ----------------------------------------------------------------------------------------------------------------
# Checks shared by the products
# ----------------------------------------------------------------------------------------------------------------


def _check_tensors(op, *tensors):
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor arguments, got {type(t).__name__}")


def _check_dtypes(op, *tensors):
    first = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != first:
            names = " and ".join(x.dtype.name for x in tensors)
            raise RuntimeError(f"{op}: expected all operands to have the same dtype, but got {names}")
    if first.kind == "b":
        raise RuntimeError(f"{op}: not implemented for bool tensors")


def _check_ndim(op, t, ndim, what):
    if t._data.ndim != ndim:
        raise RuntimeError(f"{op}: expected {what} to be a {ndim}-D tensor, but got shape {tuple(t._data.shape)}")


def _check_inner(op, a, b):
    """a's last dim must equal b's first matrix dim (b's only dim when 1-D)."""
    sa, sb = a.shape, b.shape
    k1, k2 = sa[-1], (sb[-2] if len(sb) >= 2 else sb[0])
    if k1 != k2:
        raise RuntimeError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be multiplied ({k1} != {k2})")


def _mm(a, b):
    """``a @ b``; a stack of matrices times one matrix becomes one big GEMM when ``a`` is contiguous. Matrix
    products and stacks of them share their work with the helper process when it is on."""
    if b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous:
        return parallel.matmul(_rows(a), b).reshape(a.shape[:-1] + (b.shape[1],))
    if a.ndim == 2 and b.ndim == 2:
        return parallel.matmul(a, b)
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] == b.shape[0]:
        return parallel.matmul(a, b, batched=True)
    return array_module(a).matmul(a, b)


def _rows(x):
    """x as one (rows, last dim) matrix (explicit sizes: -1 is ambiguous for empty arrays)."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _t(x):
    return x.swapaxes(-1, -2)


# ----------------------------------------------------------------------------------------------------------------
# matmul and its strict relatives
# ----------------------------------------------------------------------------------------------------------------


class MatMul(Function):
    """``a @ b`` with PyTorch's rules: 1-D operands are promoted to matrices (and the added dim removed
    afterwards), batch dims broadcast. Gradients are summed back to each input's own batch shape."""
    amp = "low"

    def forward(self, a, b):
        need = self.needs_input_grad  # each gradient reads the other operand only
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a, self.b = (a if need[1] else None), (b if need[0] else None)
        self.retain_inputs(*((0,) if need[1] else ()) + ((1,) if need[0] else ()))
        return _mm(a, b)

    def backward(self, g):
        a_shape, b_shape = self.a_shape, self.b_shape
        need = self.needs_input_grad
        a2_shape = (1,) + a_shape if len(a_shape) == 1 else a_shape
        b2_shape = b_shape + (1,) if len(b_shape) == 1 else b_shape
        m, n = a2_shape[-2], b2_shape[-1]
        batch = np.broadcast_shapes(a2_shape[:-2], b2_shape[:-2])
        g2 = g.reshape(batch + (m, n))
        ga = gb = None
        if need[0]:
            b2 = self.b.reshape(b2_shape)
            if len(a2_shape) == 2 and b2.ndim > 2:  # one matrix times a stack: contract over the batch too
                axes = list(range(len(batch))) + [g2.ndim - 1]
                ga = array_module(g).tensordot(g2, b2, axes=(axes, axes))
            else:
                ga = unbroadcast(_mm(g2, _t(b2)), a2_shape)
            ga = ga.reshape(a_shape)
        if need[1]:
            a2 = self.a.reshape(a2_shape)
            if len(b2_shape) == 2 and a2.ndim > 2:  # a stack times one matrix: a single (k, B*m) @ (B*m, n) GEMM
                gb = _rows(a2).T @ _rows(g2)
            else:
                gb = unbroadcast(array_module(g).matmul(_t(a2), g2), b2_shape)
            gb = gb.reshape(b_shape)
        return ga, gb


def matmul(input, other):
    """Matrix product with PyTorch's semantics: dot (1-D·1-D), matrix-vector, vector-matrix, matrix-matrix
    and batched products whose batch dims broadcast."""
    _check_tensors("matmul", input, other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need to be at least 1-D, but they are {a.ndim}-D and "
                           f"{b.ndim}-D")
    _check_inner("matmul", a, b)
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: the batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                               f"broadcast together") from None
    if a.dtype != b.dtype or a.dtype.kind == "b":
        _check_dtypes("matmul", input, other)
    return MatMul().apply(input, other)


def mm(input, mat2):
    """Product of two matrices (no broadcasting)."""
    _check_tensors("mm", input, mat2)
    _check_ndim("mm", input, 2, "input")
    _check_ndim("mm", mat2, 2, "mat2")
    _check_inner("mm", input._data, mat2._data)
    _check_dtypes("mm", input, mat2)
    return MatMul().apply(input, mat2)


def bmm(input, mat2):
    """Batched product of two stacks of matrices with the same batch size (no broadcasting)."""
    _check_tensors("bmm", input, mat2)
    _check_ndim("bmm", input, 3, "input")
    _check_ndim("bmm", mat2, 3, "mat2")
    a, b = input._data, mat2._data
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes of shapes {tuple(a.shape)} and {tuple(b.shape)} do not match "
                           f"({a.shape[0]} != {b.shape[0]})")
    _check_inner("bmm", a, b)
    _check_dtypes("bmm", input, mat2)
    return MatMul().apply(input, mat2)


def mv(input, vec):
    """Matrix-vector product."""
    _check_tensors("mv", input, vec)
    _check_ndim("mv", input, 2, "input")
    _check_ndim("mv", vec, 1, "vec")
    _check_inner("mv", input._data, vec._data)
    _check_dtypes("mv", input, vec)
    return MatMul().apply(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors of the same size."""
    _check_tensors("dot", input, other)
    _check_ndim("dot", input, 1, "input")
    _check_ndim("dot", other, 1, "other")
    _check_inner("dot", input._data, other._data)
    _check_dtypes("dot", input, other)
    return MatMul().apply(input, other)



class Outer(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a, b):
        self.a_dtype, self.b_dtype = a.dtype, b.dtype
        a, b = a.astype(self.dtype, copy=False), b.astype(self.dtype, copy=False)
        self.a, self.b = a, b
        self.retain_inputs(0, 1)
        return a[:, None] * b[None, :]

    def backward(self, g):
        need = self.needs_input_grad
        ga = (g @ self.b).astype(self.a_dtype, copy=False) if need[0] else None
        gb = (self.a @ g).astype(self.b_dtype, copy=False) if need[1] else None
        return ga, gb


def outer(input, vec2):
    """Outer product of two 1-D tensors (dtypes promote, as in PyTorch)."""
    _check_tensors("outer", input, vec2)
    _check_ndim("outer", input, 1, "input")
    _check_ndim("outer", vec2, 1, "vec2")
    return Outer(result_dtype(input, vec2)).apply(input, vec2)


ger = outer


# ----------------------------------------------------------------------------------------------------------------
# addmm, baddbmm: beta * input + alpha * (a @ b) in one node
# ----------------------------------------------------------------------------------------------------------------


class AddMatMul(Function):
    amp = "low"

    def __init__(self, beta, alpha):
        self.beta, self.alpha = beta, alpha

    def forward(self, c, a, b):
        self.a, self.b, self.c_shape = a, b, c.shape
        self.retain_inputs(1, 2)
        out = array_module(a).matmul(a, b)
        if self.alpha != 1:
            out *= self.alpha
        if self.beta != 0:  # beta == 0 ignores input entirely (nan and inf included), as PyTorch
            out += c if self.beta == 1 else self.beta * c
        return out

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        alpha, beta = self.alpha, self.beta
        gc = ga = gb = None
        if need[0]:
            gc = xp.zeros(self.c_shape, g.dtype) if beta == 0 else unbroadcast(g if beta == 1 else g * beta,
                                                                              self.c_shape)
        if need[1]:
            ga = xp.matmul(g, _t(self.b))
            if alpha != 1:
                ga *= alpha
        if need[2]:
            gb = xp.matmul(_t(self.a), g)
            if alpha != 1:
                gb *= alpha
        return gc, ga, gb


def _add_matmul(op, input, a, b, beta, alpha, ndim):
    _check_tensors(op, input, a, b)
    names = ("mat1", "mat2") if ndim == 2 else ("batch1", "batch2")
    _check_ndim(op, a, ndim, names[0])
    _check_ndim(op, b, ndim, names[1])
    da, db = a._data, b._data
    if ndim == 3 and da.shape[0] != db.shape[0]:
        raise RuntimeError(f"{op}: batch sizes of shapes {tuple(da.shape)} and {tuple(db.shape)} do not match "
                           f"({da.shape[0]} != {db.shape[0]})")
    _check_inner(op, da, db)
    _check_dtypes(op, input, a, b)
    out_shape = da.shape[:-1] + db.shape[-1:]
    try:
        ok = np.broadcast_shapes(input._data.shape, out_shape) == out_shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"{op}: input of shape {tuple(input._data.shape)} cannot be broadcast to the result "
                           f"shape {tuple(out_shape)}")
    return AddMatMul(beta, alpha).apply(input, a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the result."""
    return _add_matmul("addmm", input, mat1, mat2, beta, alpha, 2)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``; ``input`` broadcasts to the result."""
    return _add_matmul("baddbmm", input, batch1, batch2, beta, alpha, 3)


# ----------------------------------------------------------------------------------------------------------------
# tensordot
# ----------------------------------------------------------------------------------------------------------------


class TensorDot(Function):
    """Contract ``a``'s axes ``ax_a`` with ``b``'s axes ``ax_b`` (pairwise); the result has a's free axes then
    b's free axes. The gradients are tensordots of g with the other operand, transposed back."""
    amp = "low"

    def __init__(self, ax_a, ax_b):
        self.ax_a, self.ax_b = ax_a, ax_b

    def forward(self, a, b):
        self.a, self.b = a, b
        self.retain_inputs(0, 1)
        return array_module(a).tensordot(a, b, axes=(self.ax_a, self.ax_b))

    def backward(self, g):
        xp = array_module(g)
        a, b, ax_a, ax_b = self.a, self.b, self.ax_a, self.ax_b
        free_a = [i for i in range(a.ndim) if i not in ax_a]
        free_b = [i for i in range(b.ndim) if i not in ax_b]
        nfa = len(free_a)
        need = self.needs_input_grad
        ga = gb = None
        if need[0]:  # result axes: free_a, then b's contracted axes in increasing order (mapped to a's)
            ga = xp.tensordot(g, b, axes=(list(range(nfa, g.ndim)), free_b))
            order = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
            ga = ga.transpose(_inverse(order))
        if need[1]:  # result axes: a's contracted axes in increasing order (mapped to b's), then free_b
            gb = xp.tensordot(a, g, axes=(free_a, list(range(nfa))))
            order = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
            gb = gb.transpose(_inverse(order))
        return ga, gb


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def tensordot(a, b, dims=2, out=None):
    """Sum of products over ``dims``: an int (a's last dims with b's first dims) or two lists of dims."""
    _check_tensors("tensordot", a, b)
    if out is not None:
        raise NotImplementedError("tensordot: the out= argument is not supported by zoo")
    sa, sb = a._data.shape, b._data.shape
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        dims = int(dims)
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > len(sa) or dims > len(sb):
            raise RuntimeError(f"tensordot: dims={dims} is more than the dims of shapes {tuple(sa)} and {tuple(sb)}")
        ax_a, ax_b = list(range(len(sa) - dims, len(sa))), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError(f"tensordot: dims must be an int or two lists of dims, got {dims!r}")
        ax_a, ax_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        if len(ax_a) != len(ax_b):
            raise RuntimeError(f"tensordot: both dimension lists should have same length, got {ax_a} and {ax_b}")
        ax_a, ax_b = list(wrap_dims(ax_a, len(sa))), list(wrap_dims(ax_b, len(sb)))
    for i, j in zip(ax_a, ax_b):
        if sa[i] != sb[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but shape {tuple(sa)} has size "
                               f"{sa[i]} in dim {i} and shape {tuple(sb)} has size {sb[j]} in dim {j}")
    _check_dtypes("tensordot", a, b)
    return TensorDot(ax_a, ax_b).apply(a, b)


# ----------------------------------------------------------------------------------------------------------------
# einsum
# ----------------------------------------------------------------------------------------------------------------

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _contract(xp, subs, arrays, out):
    """einsum on arrays whose label sizes already agree. Two operands without repeated labels go through one
    batched matmul (BLAS) like PyTorch; anything else goes to ``xp.einsum``."""
    if len(arrays) == 2 and len(set(subs[0])) == len(subs[0]) and len(set(subs[1])) == len(subs[1]):
        return _contract_pair(xp, subs[0], arrays[0], subs[1], arrays[1], out)
    result = xp.einsum(",".join(subs) + "->" + out, *arrays, optimize=len(arrays) > 2)
    if len(arrays) == 1 and xp.may_share_memory(result, arrays[0]):
        result = result.copy()  # single-operand einsum can return a view; ours must own its memory
    return xp.asarray(result)


def _contract_pair(xp, sa, a, sb, b, out):
    # labels only in one operand and not in the output are summed away first
    drop_a = tuple(i for i, c in enumerate(sa) if c not in sb and c not in out)
    if drop_a:
        a, sa = a.sum(axis=drop_a), "".join(c for i, c in enumerate(sa) if i not in drop_a)
    drop_b = tuple(i for i, c in enumerate(sb) if c not in sa and c not in out)
    if drop_b:
        b, sb = b.sum(axis=drop_b), "".join(c for i, c in enumerate(sb) if i not in drop_b)
    batch = [c for c in out if c in sa and c in sb]
    left = [c for c in sa if c in out and c not in sb]
    right = [c for c in sb if c in out and c not in sa]
    inner = [c for c in sa if c in sb and c not in out]
    size = dict(zip(sa, a.shape))
    size.update(zip(sb, b.shape))

    def n(labels):
        p = 1
        for c in labels:
            p *= size[c]
        return p

    def stack(x, s, rows, cols):
        """x as a (batch, rows, cols) stack of matrices; a transposed view when x is laid out as (cols, rows),
        so BLAS reads it in place instead of after a copy."""
        perm = [s.index(c) for c in batch + rows + cols]
        alt = [s.index(c) for c in batch + cols + rows]
        if alt == sorted(alt) and perm != alt:
            return x.reshape(n(batch), n(cols), n(rows)).swapaxes(-1, -2)
        return x.transpose(perm).reshape(n(batch), n(rows), n(cols))

    r = xp.matmul(stack(a, sa, left, inner), stack(b, sb, inner, right))
    r = r.reshape([size[c] for c in batch + left + right])
    have = batch + left + right
    return r.transpose([have.index(c) for c in out])


class Einsum(Function):
    """einsum on explicit single-letter subscripts (ellipses already expanded). The gradient of operand i is
    the einsum of g with the other operands onto i's labels, then put on the diagonal for repeated labels,
    broadcast over labels summed only inside operand i, and summed over dims that were broadcast from 1."""
    amp = "low"

    def __init__(self, subs, out, sizes):
        self.subs, self.out, self.sizes = subs, out, sizes

    def forward(self, *arrays):
        xp = array_module(arrays[0])
        self.shapes = [x.shape for x in arrays]
        full = [_broadcast_operand(xp, x, s, self.sizes) for x, s in zip(arrays, self.subs)]
        self.arrays = full
        self.retain_inputs(*range(len(arrays)))
        return _contract(xp, self.subs, full, self.out)

    def backward(self, g):
        xp = array_module(g)
        grads = []
        for i, need in enumerate(self.needs_input_grad):
            grads.append(self._grad(xp, g, i) if need else None)
        return tuple(grads)

    def _grad(self, xp, g, i):
        subs, sizes = self.subs[i], self.sizes
        others = [s for j, s in enumerate(self.subs) if j != i]
        seen = set(self.out).union(*others)
        uniq = "".join(dict.fromkeys(subs))
        keep = "".join(c for c in uniq if c in seen)
        arrays = [g] + [x for j, x in enumerate(self.arrays) if j != i]
        G = _contract(xp, [self.out] + others, arrays, keep)
        if len(keep) != len(uniq):  # labels summed only inside operand i: the gradient is constant along them
            G = G.reshape([sizes[c] if c in keep else 1 for c in uniq])
            G = xp.broadcast_to(G, [sizes[c] for c in uniq])
        if len(uniq) != len(subs):  # repeated labels: the gradient lives on the diagonal
            z = xp.zeros([sizes[c] for c in subs], g.dtype)
            index = []
            for c in subs:
                k = uniq.index(c)
                index.append(xp.arange(sizes[c]).reshape([-1 if j == k else 1 for j in range(len(uniq))]))
            z[tuple(index)] = G
            G = z
        shape = self.shapes[i]
        axes = tuple(d for d, s in enumerate(shape) if s == 1 and G.shape[d] != 1)
        if axes:
            G = G.sum(axis=axes, keepdims=True)
        return G


def _broadcast_operand(xp, x, subs, sizes):
    target = tuple(sizes[c] for c in subs)
    return x if x.shape == target else xp.broadcast_to(x, target)


def _parse_term(term, what):
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise RuntimeError(f"einsum(): invalid subscript {term!r} for {what}: '.' may only appear in one ellipsis "
                           f"'...'")
    for c in term.replace("...", ""):
        if c not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript {c!r} given in the equation string; subscripts must be "
                               f"in [a-zA-Z]")
    return term


def einsum(equation, *operands):
    """Einstein summation with PyTorch's semantics: implicit output (labels seen once, sorted, after the
    ellipsis dims), '...' ellipses that broadcast, size-1 dims that broadcast, any number of operands."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a str, got {type(equation).__name__}")
    _check_tensors("einsum", *operands)
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise RuntimeError("einsum(): the equation may contain '->' only once")
    terms = [_parse_term(t, f"operand {i}") for i, t in enumerate(lhs.split(","))]
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): {'fewer' if len(operands) < len(terms) else 'more'} operands were provided "
                           f"({len(operands)}) than specified in the equation ({len(terms)})")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")

    # expand ellipses into fresh letters, right-aligned so that they broadcast like NumPy dims
    used = set(eq)
    fresh = [c for c in _LETTERS if c not in used]
    ell_ndims = []
    for i, (t, x) in enumerate(zip(terms, operands)):
        n_labels = len(t.replace("...", ""))
        ndim = x._data.ndim
        if "..." in t:
            if n_labels > ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n_labels}) is more than the "
                                   f"number of dimensions ({ndim}) for operand {i}")
            ell_ndims.append(ndim - n_labels)
        else:
            if n_labels != ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n_labels}) does not match "
                                   f"the number of dimensions ({ndim}) for operand {i} and no ellipsis was given")
            ell_ndims.append(0)
    n_ell = max(ell_ndims) if ell_ndims else 0
    if n_ell > len(fresh):
        raise RuntimeError("einsum(): too many dimensions: not enough subscript letters for the ellipsis")
    ell = "".join(fresh[:n_ell])
    subs = [t.replace("...", ell[n_ell - e:]) for t, e in zip(terms, ell_ndims)]

    if arrow:
        out = _parse_term(rhs, "the output")
        out = out.replace("...", ell)
        all_in = set("".join(subs))
        for c in out:
            if c not in all_in:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        joined = "".join(subs)
        out = ell + "".join(sorted(c for c in set(joined) if c not in ell and joined.count(c) == 1))

    # every label has one size; size-1 dims broadcast (as in PyTorch)
    sizes = {}
    for i, (s, x) in enumerate(zip(subs, operands)):
        own = {}
        for c, n in zip(s, x._data.shape):
            if c in own and own[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't match, "
                                   f"{own[c]} != {n}")
            own[c] = n
            prev = sizes.get(c, 1)
            if prev != 1 and n != 1 and prev != n:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {prev}")
            if prev == 1:
                sizes[c] = n
    _check_dtypes("einsum", *operands)
    return Einsum(subs, out, sizes).apply(*operands)


# ----------------------------------------------------------------------------------------------------------------
# Tensor methods
# ----------------------------------------------------------------------------------------------------------------


def _matmul_operator(self, other):
    if isinstance(other, np.ndarray):
        other = Tensor._make(other)
    elif not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


def _rmatmul_operator(self, other):
    if isinstance(other, np.ndarray):
        other = Tensor._make(other)
    elif not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


def _inplace_methods():
    from .inplace import inplace
    return dict(addmm_=inplace(addmm), baddbmm_=inplace(baddbmm))


TENSOR_METHODS = dict(
    __matmul__=_matmul_operator, __rmatmul__=_rmatmul_operator, matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot,
    outer=outer, ger=ger, addmm=addmm, baddbmm=baddbmm,
)
TENSOR_METHODS.update(_inplace_methods())

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "einsum", "tensordot", "addmm", "baddbmm"]
