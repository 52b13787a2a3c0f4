"""zoo.nn.init — PyTorch's ``torch.nn.init``; implemented in zoo.core.nn.init."""
from zoo.core.nn.init import *  # noqa: F401,F403
from zoo.core.nn.init import __all__  # noqa: F401
