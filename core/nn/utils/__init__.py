"""zoo.nn.utils: gradient clipping and parameter/vector conversion."""
from .clip_grad import *  # noqa: F401,F403
from .clip_grad import __all__ as _clip_all
from .convert_parameters import *  # noqa: F401,F403
from .convert_parameters import __all__ as _convert_all

__all__ = list(_clip_all) + list(_convert_all)
