"""zoo.nn.utils — PyTorch's ``torch.nn.utils``; implemented in zoo.core.nn.utils."""
from zoo.core.nn.utils import *  # noqa: F401,F403
from zoo.core.nn.utils import __all__  # noqa: F401
