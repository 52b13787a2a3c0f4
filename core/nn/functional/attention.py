"""Scaled dot-product attention as one fused Function: scores, mask, softmax, dropout and the weighted sum in
forward; the closed-form gradients for query, key, value (and a float mask) in backward. The matrix products go
straight to BLAS / cuBLAS through ``xp.matmul`` in the inputs' dtype."""
import functools
import math

import numpy as np

from ... import parallel
from ...autograd.function import Function
from ...device import array_module
from ...ops._util import unbroadcast
from ...random import generator_for
from ...tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


class ScaledDotProductAttention(Function):
    """softmax(q kᵀ * scale + mask) v over broadcast batch dims. Rows whose keys are all masked out give
    zeros (and zero gradients), as PyTorch's CPU implementation does.

    ``groups`` > 1 is grouped-query attention: the query's heads (dim -3) are split into groups that share
    one key/value head; it is done by reshaping (…, Hq, L, E) to (…, Hkv, groups, L, E), without copies."""
    amp = "low"

    def __init__(self, scale, causal, dropout_p, rng, groups):
        self.scale, self.causal, self.dropout_p, self.rng, self.groups = scale, causal, dropout_p, rng, groups
        self.split = False  # whether forward ran as _attention_forward (backward then runs _attention_backward)

    def forward(self, q, k, v, mask=None):
        # The scores are kept transposed, sᵀ = k qᵀ of shape (…, S, L): the softmax then reduces over the rows
        # axis, which NumPy vectorises across queries (a reduction along short contiguous rows is several times
        # slower), and every product below still goes to BLAS as a plain or transposed operand, without copies.
        xp = array_module(q)
        self.shapes = (q.shape, k.shape, v.shape, None if mask is None else mask.shape)
        G = self.groups
        if G > 1:
            q, k, v = _group(q, G), _kv_for_groups(k), _kv_for_groups(v)
            if mask is not None and mask.ndim >= 3:
                mask = _group(mask, G) if mask.shape[-3] != 1 else mask[..., None, :, :]
        L, S = q.shape[-2], k.shape[-2]
        dt = q.dtype
        if self._splits(xp, q, k, v, mask):
            return self._forward_split(q, k, v)
        q = q * dt.type(self.scale)  # scaling q (L x E) is cheaper than scaling the scores (L x S)
        st = xp.matmul(k, xp.swapaxes(q, -1, -2))
        masked = self.causal or mask is not None
        if masked:
            if self.causal and xp is np:
                mask_t = _causal_mask_t(L, S, dt)
            else:
                if self.causal:
                    mask = xp.tri(L, S, dtype=bool)
                if mask.dtype.kind == "b":  # as an additive mask: 0 where attending, -inf elsewhere
                    mask = xp.where(mask, dt.type(0), dt.type(-math.inf))
                mask_t = xp.swapaxes(mask, -1, -2)
            if np.broadcast_shapes(mask_t.shape, st.shape) == st.shape:
                st += mask_t
            else:
                st = st + mask_t
        # softmax along keys; a query with every key masked (max = -inf) gives all zeros instead of NaN
        m = st.max(axis=-2, keepdims=True) if S else st[..., :1, :]
        if masked:
            m[xp.isneginf(m)] = 0
        st -= m
        pt = xp.exp(st, out=st)
        total = _sum_rows(xp, pt)
        if masked or not S:
            total[total == 0] = 1
        pt *= 1 / total
        self.pt = pt
        if self.dropout_p:
            keep = 1.0 - self.dropout_p
            self.keep_t = xp.swapaxes(
                (self.rng.random(pt.shape[:-2] + (L, S), dtype=np.float64 if dt == np.float64 else np.float32)
                 < keep) * dt.type(1 / keep if keep else 0), -1, -2)
            pt = pt * self.keep_t
        self.q, self.k, self.v = q, k, v
        self.retain_inputs(1, 2)
        self.out = out = xp.matmul(xp.swapaxes(pt, -1, -2), v, out=_out_heads_last(xp, pt, v, G))
        self.retain_output()
        return out.reshape(out.shape[:-4] + (-1,) + out.shape[-2:]) if G > 1 else out

    def _splits(self, xp, q, k, v, mask):
        """Whether the samples of the batch are shared with the helper process: while it is on, for 4-D NumPy
        inputs of one batch shape, without groups, dropout or an explicit mask (the common case in training)."""
        return (xp is np and self.groups == 1 and not self.dropout_p and mask is None and q.ndim == 4
                and q.shape[:2] == k.shape[:2] == v.shape[:2] and k.shape[-2] > 0 and parallel.is_enabled())

    def _forward_split(self, q, k, v):
        self.split = True
        B, H, L = q.shape[:3]
        S, E = k.shape[-2], v.shape[-1]
        dt = np.result_type(q, k, v)
        self.q = parallel.empty(q.shape, q.dtype)  # q scaled
        self.pt = parallel.empty((B, H, S, L), dt)
        self.out = parallel.empty((B, L, H, E), dt).transpose(0, 2, 1, 3)  # heads last in memory: see _out_heads_last
        self.k, self.v = parallel.shared(k), parallel.shared(v)
        parallel.split(_attention_forward, B, parallel.shared(q), self.k, self.v, self.scale, self.causal, self.q,
                       self.pt, self.out)
        self.retain_inputs(1, 2)
        self.retain_output()
        return self.out

    def _backward_split(self, g):
        need = self.needs_input_grad
        q, k, v = self.q, self.k, self.v
        gq, gk, gv = (parallel.empty(a.shape[:1] + a.shape[2:3] + a.shape[1:2] + a.shape[3:], a.dtype)
                      .transpose(0, 2, 1, 3) if n else None for a, n in zip((q, k, v), need))
        parallel.split(_attention_backward, q.shape[0], parallel.shared(g), q, k, v, self.pt, self.out, self.scale,
                       gq, gk, gv)
        return gq, gk, gv

    def backward(self, g):
        xp = array_module(g)
        if self.split:
            return self._backward_split(g)
        need = self.needs_input_grad
        G = self.groups
        if G > 1:
            g = _group(g, G)
        pt, q, k, v = self.pt, self.q, self.k, self.v
        gq = gk = gv = gm = None
        if need[2]:
            gv = xp.matmul(pt * self.keep_t if self.dropout_p else pt, g, out=_grad_like(xp, v, pt.shape[:-2], G))
        if need[0] or need[1] or (len(need) > 3 and need[3]):
            gst = xp.matmul(v, xp.swapaxes(g, -1, -2))  # d loss / d (dropped-out) probabilities, transposed
            if self.dropout_p:
                gst *= self.keep_t
            # softmax backward, ds = p * (dp - sum_j dp_j p_j), where sum_j dp_j p_j = g · out
            gst -= _sum_rows(xp, xp.swapaxes(g * self.out, -1, -2))
            gst *= pt
            gs = xp.swapaxes(gst, -1, -2)
            if len(need) > 3 and need[3]:
                gm = gs
            if need[0]:
                gq = xp.matmul(gs, k, out=_grad_like(xp, q, gs.shape[:-2], G))
                gq *= gq.dtype.type(self.scale)
            if need[1]:
                gk = xp.matmul(gst, q, out=_grad_like(xp, k, gst.shape[:-2], G))  # q was stored scaled
        qs, ks, vs, ms = self.shapes
        if G > 1:
            gq = None if gq is None else gq.reshape(gq.shape[:-4] + (-1,) + gq.shape[-2:])
            gk = None if gk is None else gk.sum(axis=-3)  # each key/value head serves G query heads
            gv = None if gv is None else gv.sum(axis=-3)
            if gm is not None:
                gm = _fit_grouped_mask(gm, ms)
        grads = (None if gq is None else unbroadcast(gq, qs), None if gk is None else unbroadcast(gk, ks),
                 None if gv is None else unbroadcast(gv, vs))
        if len(need) > 3:
            grads += (None if gm is None else unbroadcast(gm, ms),)
        return grads


def _attention_forward(start, stop, q, k, v, scale, causal, qs, pt, out):
    """Samples [start, stop) of the batch, as ScaledDotProductAttention.forward without a mask other than causal,
    dropout or groups: writes the scaled q, the transposed probabilities and the output."""
    b = slice(start, stop)
    L, S = q.shape[-2], k.shape[-2]
    np.multiply(q[b], q.dtype.type(scale), out=qs[b])
    st = np.matmul(k[b], qs[b].swapaxes(-1, -2), out=pt[b])
    if causal:
        st += _causal_mask_t(L, S, st.dtype)  # every query sees key 0: no row is all masked
    st -= st.max(axis=-2, keepdims=True)
    np.exp(st, out=st)
    st *= 1 / _sum_rows(np, st)
    np.matmul(st.swapaxes(-1, -2), v[b], out=out[b])


def _attention_backward(start, stop, g, qs, k, v, pt, out, scale, gq, gk, gv):
    """Samples [start, stop) of the batch, as ScaledDotProductAttention.backward after ``_attention_forward``."""
    b = slice(start, stop)
    if gv is not None:
        np.matmul(pt[b], g[b], out=gv[b])
    if gq is None and gk is None:
        return
    gst = np.matmul(v[b], g[b].swapaxes(-1, -2))
    gst -= _sum_rows(np, (g[b] * out[b]).swapaxes(-1, -2))
    gst *= pt[b]
    if gq is not None:
        np.matmul(gst.swapaxes(-1, -2), k[b], out=gq[b])
        gq[b] *= gq.dtype.type(scale)
    if gk is not None:
        np.matmul(gst, qs[b], out=gk[b])


def _grad_like(xp, a, batch, groups):
    """An output array for the gradient of input ``a`` laid out as ``a`` is in memory (as PyTorch's gradients
    follow their inputs' strides): heads split off a (batch, time, heads x features) projection then get a
    gradient that reshapes back into it without a copy. None (a fresh array) on the GPU, where such copies are
    cheap, and when broadcasting or grouped heads make the gradient's shape differ from ``a``'s."""
    if xp is not np or groups > 1 or batch != a.shape[:-2] or a.flags.c_contiguous:
        return None
    return xp.empty_like(a)


def _out_heads_last(xp, pt, v, groups):
    """For (batch, heads, L, E) attention on NumPy: an output array stored as (batch, L, heads, E), as PyTorch's
    CPU attention returns it, so the usual ``out.transpose(1, 2).contiguous().view(B, L, heads * E)`` that merges
    the heads needs no copy. None (a fresh, contiguous array) otherwise."""
    batch = np.broadcast_shapes(pt.shape[:-2], v.shape[:-2])
    if xp is not np or groups > 1 or len(batch) != 2:
        return None
    out = np.empty((batch[0], pt.shape[-1], batch[1], v.shape[-1]), np.result_type(pt, v))
    return out.transpose(0, 2, 1, 3)


@functools.lru_cache(maxsize=32)
def _causal_mask_t(L, S, dtype):
    """The causal mask, additive and transposed to the scores' (S, L) layout, stored contiguously (adding a
    transposed view is about twice as slow); read-only, as it is shared between calls."""
    mask_t = np.ascontiguousarray(np.where(np.tri(L, S, dtype=bool), dtype.type(0), dtype.type(-math.inf)).T)
    mask_t.flags.writeable = False
    return mask_t


def _sum_rows(xp, a):
    """``a.sum(axis=-2, keepdims=True)``; float32/64 as a product with a row of ones (BLAS, several times
    faster than NumPy's reduction on these small matrices)."""
    if a.dtype == np.float32 or a.dtype == np.float64:
        return xp.matmul(xp.ones((1, a.shape[-2]), a.dtype), a)
    return a.sum(axis=-2, keepdims=True)


def _group(a, G):
    """(…, H, L, X) → (…, H / G, G, L, X)."""
    return a.reshape(a.shape[:-3] + (a.shape[-3] // G, G) + a.shape[-2:])


def _kv_for_groups(a):
    """(…, Hkv, S, X) → (…, Hkv, 1, S, X): each key/value head broadcasts over its group of query heads."""
    return a[..., None, :, :]


def _fit_grouped_mask(g, shape):
    """The gradient of a float mask of ``shape`` from its grouped (…, Hkv, G, L, S) form."""
    if len(shape) < 3:
        return g
    if shape[-3] == 1:
        return g.sum(axis=(-4, -3))[..., None, :, :]
    return g.reshape(g.shape[:-4] + (-1,) + g.shape[-2:])


def _shape_str(t):
    return str(tuple(t._data.shape))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """Attention of ``query`` (…, L, E) over ``key`` (…, S, E) / ``value`` (…, S, Ev) → (…, L, Ev).

    ``attn_mask``: boolean (True = may attend) or additive float, broadcastable to (…, L, S).
    ``is_causal``: query i attends keys j <= i (the upper-left aligned lower triangle when L != S).
    ``enable_gqa``: key/value may have fewer heads (dim -3) than query, each shared by a group of query heads.
    """
    name = "scaled_dot_product_attention"
    for what, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: argument '{what}' must be a Tensor, not {type(t).__name__}")
        if t._data.ndim < 2:
            raise RuntimeError(f"{name}: {what} must have at least 2 dimensions (…, length, features), got shape "
                               f"{_shape_str(t)}")
    q, k, v = query._data, key._data, value._data
    if not (q.dtype == k.dtype == v.dtype) or q.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected query, key and value to have the same floating point dtype, got "
                           f"{query.dtype.name}, {key.dtype.name} and {value.dtype.name}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"{name}: query {_shape_str(query)} and key {_shape_str(key)} must have the same "
                           f"feature size (last dim)")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"{name}: key {_shape_str(key)} and value {_shape_str(value)} must have the same "
                           f"sequence length (dim -2)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {dropout_p}")
    if attn_mask is not None and is_causal:
        raise RuntimeError(f"{name}: Explicit attn_mask should not be set when is_causal=True")
    groups = 1
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk != hv or hq % hk:
            raise RuntimeError(f"{name}: with enable_gqa, the number of key and value heads ({hk}, {hv}) must be "
                               f"equal and divide the number of query heads ({hq})")
        groups = hq // hk
    L, S = q.shape[-2], k.shape[-2]
    batch = [q.shape[:-2], k.shape[:-2], v.shape[:-2]]
    if groups > 1:
        batch[1] = batch[1][:-1] + (hq,)
        batch[2] = batch[2][:-1] + (hq,)
    try:
        out_batch = np.broadcast_shapes(*batch)
        if attn_mask is not None:
            np.broadcast_shapes(attn_mask._data.shape, out_batch + (L, S))
    except ValueError:
        msg = f"query {_shape_str(query)}, key {_shape_str(key)}, value {_shape_str(value)}"
        if attn_mask is not None:
            msg += f" and attn_mask {_shape_str(attn_mask)} (must broadcast to (…, {L}, {S}))"
        raise RuntimeError(f"{name}: the batch dimensions of {msg} cannot be broadcast together") from None
    inputs = (query, key, value)
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{name}: attn_mask must be a Tensor, not {type(attn_mask).__name__}")
        md = attn_mask._data.dtype
        if md.kind != "b" and md != q.dtype:
            raise RuntimeError(f"{name}: expected attn_mask dtype to be bool or to match query dtype "
                               f"{query.dtype.name}, got {attn_mask.dtype.name}")
        inputs += (attn_mask,)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    rng = generator_for(query.device).rng if dropout_p else None
    return ScaledDotProductAttention(float(scale), bool(is_causal), float(dropout_p), rng, groups).apply(*inputs)
