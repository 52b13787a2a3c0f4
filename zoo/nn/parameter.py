"""zoo.nn.parameter — PyTorch's ``torch.nn.parameter``; implemented in zoo.core.nn.parameter."""
from zoo.core.nn.parameter import *  # noqa: F401,F403
from zoo.core.nn.parameter import __all__  # noqa: F401
