"""zoo.nn.utils.fusion — PyTorch's ``torch.nn.utils.fusion``; implemented in zoo.core.nn.utils.fusion."""
from zoo.core.nn.utils.fusion import *  # noqa: F401,F403
from zoo.core.nn.utils.fusion import __all__  # noqa: F401
