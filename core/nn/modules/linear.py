"""Linear layers: Identity, Linear, Bilinear (and LazyLinear, which zoo does not support)."""
import math

from .. import functional as F
from .. import init
from .module import Module
from .utils import _new_parameter

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear"]


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are accepted and ignored (as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _uniform_bias(bias, fan_in):
    """PyTorch's bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), or zeros' bound 0 for an empty fan-in."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _new_parameter((out_features, in_features), device, dtype)
        self.register_parameter("bias", _new_parameter(out_features, device, dtype, bias))
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            _uniform_bias(self.bias, self.in_features)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention's ``out_proj`` (the name shows in its repr). Like
    PyTorch, it is not exported in ``nn``: import it from this module."""


class Bilinear(Module):
    """y_k = x1ᵀ A_k x2 + b_k with A of shape (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _new_parameter((out_features, in1_features, in2_features), device, dtype)
        self.register_parameter("bias", _new_parameter(out_features, device, dtype, bias))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(Module):
    """Not supported: zoo has no uninitialized (lazy) parameters; give ``Linear`` its in_features."""

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        raise NotImplementedError("nn.LazyLinear (lazy modules with uninitialized parameters) is not supported by "
                                  "zoo; use nn.Linear(in_features, out_features)")
