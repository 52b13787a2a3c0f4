"""MultiheadAttention with PyTorch's parameters (packed or separate in-projections, out_proj), masks and outputs."""
import math

from ... import creation
from ...device import array_module
from ...ops.shape import cat
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["MultiheadAttention"]


def _canonical_mask(mask, name, query):
    """``mask`` as an additive float mask in the query's dtype: a bool mask (True = may NOT attend) becomes 0 / -inf;
    a float mask is used as is and must have the query's dtype."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor or None, got {type(mask).__name__}")
    m, dt = mask._data, query._data.dtype
    if m.dtype.kind == "b":
        xp = array_module(m)
        return Tensor._make(xp.where(m, dt.type(-math.inf), dt.type(0)))
    if m.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if m.dtype != dt:
        raise RuntimeError(f"expected {name} to be bool or of the query's dtype {dt.name}, got {m.dtype.name}")
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's rank checks; True for batched (3-D) inputs, False for unbatched (2-D) ones."""
    qd, kd, vd = query.dim(), key.dim(), value.dim()
    if qd not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {qd}-D query tensor")
    batched = qd == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if kd != qd or vd != qd:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {qd}-D but found {kd}-D and "
                             f"{vd}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != qd - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or {qd - 1}-D but found "
                             f"{key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        if not batched and attn_mask.dim() == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
    return batched


class MultiheadAttention(Module):
    """Attention of ``num_heads`` heads over projected query/key/value, followed by the output projection.

    Inputs are (L, N, E) — or (N, L, E) with ``batch_first`` — or unbatched (L, E). ``key_padding_mask`` (N, S)
    and ``attn_mask`` (L, S) or (N * num_heads, L, S) are bool (True = may not attend) or additive float masks.
    Returns ``(output, weights)``; the weights (averaged over heads unless told otherwise) only when
    ``need_weights``, else ``None`` and the fused ``F.scaled_dot_product_attention`` path."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        from .linear import NonDynamicallyQuantizableLinear
        kw = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform in-projections, zero in-projection and out-projection biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _in_projection(self, query, key, value, self_attention, shared_kv):
        """q, k, v projections of batch-first inputs; one GEMM for self-attention, two when key is value."""
        E, b = self.embed_dim, self.in_proj_bias
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if self_attention:
                return F.linear(query, w, b).chunk(3, dim=-1)
            bq, bkv = (None, None) if b is None else (b[:E], b[E:])
            q = F.linear(query, w[:E], bq)
            if shared_kv:
                k, v = F.linear(key, w[E:], bkv).chunk(2, dim=-1)
                return q, k, v
            bk, bv = (None, None) if b is None else (bkv[:E], bkv[E:])
            return q, F.linear(key, w[E:2 * E], bk), F.linear(value, w[2 * E:], bv)
        bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
        return (F.linear(query, self.q_proj_weight, bq), F.linear(key, self.k_proj_weight, bk),
                F.linear(value, self.v_proj_weight, bv))

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        self_attention, shared_kv = query is key and key is value, key is value
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query)
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # compute in (N, L, E): the transposes are views
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        N, L, E = query.shape
        S = key.shape[1]
        H, hd = self.num_heads, self.head_dim
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {E}")
        if self._qkv_same_embed_dim:
            if tuple(key.shape) != tuple(value.shape):
                raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                                     f"{tuple(value.shape)}")
        elif tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                               "method `generate_square_subsequent_mask` to create this mask.")
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # the hint alone drives the fused kernel's causal masking
        elif key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal

        q, k, v = self._in_projection(query, key, value, self_attention, shared_kv)

        if attn_mask is not None:  # to (1 | N, 1 | H, L, S)
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (L, S):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                       f"{(L, S)}.")
                attn_mask = attn_mask.reshape(1, 1, L, S)
            else:
                if tuple(attn_mask.shape) != (N * H, L, S):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                       f"{(N * H, L, S)}.")
                attn_mask = attn_mask.reshape(N, H, L, S)
        if self.bias_k is not None and self.bias_v is not None:
            k = cat([k, self.bias_k.expand(N, 1, E)], dim=1)
            v = cat([v, self.bias_v.expand(N, 1, E)], dim=1)
            attn_mask = None if attn_mask is None else F.pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask, (0, 1))
        q = q.reshape(N, L, H, hd).transpose(1, 2)
        k = k.reshape(N, k.shape[1], H, hd).transpose(1, 2)
        v = v.reshape(N, v.shape[1], H, hd).transpose(1, 2)
        if self.add_zero_attn:
            k = cat([k, creation.zeros(N, H, 1, hd, dtype=k.dtype, device=k.device)], dim=2)
            v = cat([v, creation.zeros(N, H, 1, hd, dtype=v.dtype, device=v.device)], dim=2)
            attn_mask = None if attn_mask is None else F.pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask, (0, 1))
        S = k.shape[2]
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (N, S):
                raise AssertionError(f"expecting key_padding_mask shape of {(N, S)}, but got "
                                     f"{tuple(key_padding_mask.shape)}")
            key_padding_mask = key_padding_mask.reshape(N, 1, 1, S)
            attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
        dropout_p = self.dropout if self.training else 0.0

        if need_weights:
            scores = (q * (1.0 / math.sqrt(hd))).matmul(k.transpose(-2, -1))
            if attn_mask is not None:
                scores = scores + attn_mask
            weights = F.softmax(scores, dim=-1)
            if dropout_p > 0.0:
                weights = F.dropout(weights, p=dropout_p)
            out = weights.matmul(v)
            if average_attn_weights:
                weights = weights.mean(dim=1)
        else:
            weights = None
            out = F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
        if batched and not self.batch_first:  # (N, H, L, hd) -> (L, N, E) in the one copy the merge needs
            out = out.permute(2, 0, 1, 3).reshape(L, N, E)
        else:
            out = out.transpose(1, 2).reshape(N, L, E)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
        if not batched:
            return out.squeeze(0), None if weights is None else weights.squeeze(0)
        return out, weights
