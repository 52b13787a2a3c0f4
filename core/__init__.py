"""zoo.core: the tensor + autograd engine on NumPy (cpu) and CuPy (cuda).

Everything here is re-exported as ``zoo.*`` with PyTorch's names: ``zoo.tensor``, ``zoo.randn``,
``zoo.no_grad``, ``zoo.float32`` …
"""
from . import _malloc  # noqa: F401  (heap thresholds: no page faults per temporary; see _malloc.py)
from . import amp, autograd, cuda, dtypes, serialization
from .amp import autocast
from .autograd import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                       set_grad_enabled)
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation_all
from .device import device
from .dtypes import (bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int, int8,
                     int16, int32, int64, long, promote_types, set_default_dtype, short, uint8)
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .random import *  # noqa: F401,F403
from .random import __all__ as _random_all
from .tensor import Size, Tensor
from .serialization import load, save
from .threads import get_num_threads, set_num_threads
from .nn.functional.activation import (celu, celu_, erf, erfc, hardshrink, log_softmax, prelu, relu_, rrelu, rrelu_,
                                       selu, selu_, softmax, threshold, threshold_)
from .nn.functional.linear import bilinear, dropout
from .nn.functional.normalization import group_norm, layer_norm, rms_norm
from .ops.inplace import inplace as _inplace


def _install_functional_methods():
    """Tensor methods whose implementation lives with the nn.functional ops."""
    methods = dict(softmax=lambda self, dim, dtype=None: softmax(self, dim, dtype=dtype),
                   log_softmax=lambda self, dim, dtype=None: log_softmax(self, dim, dtype=dtype),
                   erf=erf, erfc=erfc, erf_=_inplace(erf), erfc_=_inplace(erfc), relu_=relu_)
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_install_functional_methods()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    from .ops._util import result_dtype
    return dtypes.from_numpy_dtype(result_dtype(tensor1, tensor2))


def can_cast(from_, to):
    return promote_types(from_, to) is to or (from_.category <= to.category)


__all__ = (["amp", "autocast", "autograd", "cuda", "dtypes", "serialization", "save", "load", "Tensor", "Size",
            "device", "dtype", "no_grad", "enable_grad",
            "inference_mode", "set_grad_enabled", "is_grad_enabled", "is_inference_mode_enabled", "is_tensor",
            "numel", "result_type",
            "can_cast", "get_num_threads", "set_num_threads", "get_default_dtype", "set_default_dtype",
            "promote_types", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
            "half", "float", "double", "short", "int", "long", "celu", "celu_", "erf", "erfc", "hardshrink",
            "log_softmax", "prelu", "relu_", "rrelu", "rrelu_", "selu", "selu_", "softmax", "threshold",
            "threshold_", "bilinear", "dropout", "group_norm", "layer_norm", "rms_norm"]
           + list(_creation_all) + list(_ops_all) + list(_random_all))
