"""zoo.nn.utils: gradient clipping, parameter/vector conversion and conv-batch-norm fusion."""
from .clip_grad import *  # noqa: F401,F403
from .clip_grad import __all__ as _clip_all
from .convert_parameters import *  # noqa: F401,F403
from .convert_parameters import __all__ as _convert_all
from . import fusion  # noqa: F401  (torch.nn.utils.fusion)
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights  # noqa: F401

__all__ = list(_clip_all) + list(_convert_all) + ["fusion", "fuse_conv_bn_eval", "fuse_conv_bn_weights"]
