"""zoo.optim — PyTorch's ``torch.optim`` names; implemented in zoo.core.optim."""
from zoo.core.optim import *  # noqa: F401,F403
from zoo.core.optim import __all__  # noqa: F401
