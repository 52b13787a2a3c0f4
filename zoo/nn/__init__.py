"""zoo.nn — PyTorch's ``torch.nn`` names; the implementation lives in zoo.core.nn."""
from zoo.core.nn import *  # noqa: F401,F403
from zoo.core.nn import __all__  # noqa: F401

from . import functional, init, utils  # noqa: E402,F401
