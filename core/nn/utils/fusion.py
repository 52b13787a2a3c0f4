"""Folding an evaluation-mode batch norm into the convolution before it.

``fuse_conv_bn_weights`` / ``fuse_conv_bn_eval`` are PyTorch's (``torch.nn.utils.fusion``). ``conv_bn`` is what
models call for a conv followed by batch norm: in evaluation without autograd it runs ONE convolution with the
folded weight and bias (kept until a tensor they were made from changes), saving the normalisation's two passes
over every activation; otherwise it is plainly ``bn(conv(x))``.
"""
import copy
import weakref

from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..modules.batchnorm import _BatchNorm
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_weights", "fuse_conv_bn_eval", "conv_bn"]


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The (weight, bias) Parameters of one convolution equal to ``conv`` then batch norm with running statistics
    ``bn_rm`` / ``bn_rv``: per output channel s = γ / sqrt(var + eps), weight w·s, bias (b − μ)·s + β."""
    with no_grad():
        dtype = conv_w.dtype
        scale = (bn_rv + bn_eps).rsqrt()
        if bn_w is not None:
            scale = scale * bn_w
        shape = [1, -1] if transpose else [-1, 1]
        weight = (conv_w * scale.reshape(shape + [1] * (conv_w.ndim - 2))).to(dtype)
        bias = -bn_rm * scale if conv_b is None else (conv_b - bn_rm) * scale
        if bn_b is not None:
            bias = bias + bn_b
        bias = bias.to(dtype)
    return Parameter(weight, conv_w.requires_grad), Parameter(bias, conv_w.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` with ``bn`` (both in eval mode) folded into its weight and bias."""
    if conv.training or bn.training:
        raise AssertionError("fuse_conv_bn_eval: fusion is only for evaluation (call .eval() on both modules)")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: the batch norm keeps no running statistics")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


_folded = weakref.WeakKeyDictionary()  # conv module -> (key, weight, bias, the source arrays)


def _key(conv, bn):
    """What the folded weight is made from: each tensor's array identity and version, and eps. The cache entry
    holds the arrays themselves, so an identity in it cannot be reused by another array meanwhile."""
    key = [bn.eps]
    for t in (conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.weight, bn.bias):
        key += (None, None) if t is None else (id(t._data), t._vc[0])
    return tuple(key)


def conv_bn(conv, bn, input):
    """``bn(conv(input))``; one convolution with ``bn`` folded in when ``bn`` is a batch norm with running
    statistics, both are in eval mode, autograd is off and neither module has hooks (which folding would skip)."""
    if (not isinstance(bn, _BatchNorm) or conv.training or bn.training or is_grad_enabled()
            or bn.running_mean is None or bn.running_var is None
            or conv._forward_hooks or conv._forward_pre_hooks or bn._forward_hooks or bn._forward_pre_hooks):
        return bn(conv(input))
    key = _key(conv, bn)
    cached = _folded.get(conv)
    if cached is None or cached[0] != key:
        sources = (conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.weight, bn.bias)
        weight, bias = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps,
                                            bn.weight, bn.bias)
        cached = _folded[conv] = (key, weight, bias, [None if t is None else t._data for t in sources])
    return conv._conv_forward(input, cached[1], cached[2])
