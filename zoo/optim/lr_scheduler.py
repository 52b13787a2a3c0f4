"""zoo.optim.lr_scheduler — PyTorch's ``torch.optim.lr_scheduler`` names; implemented in zoo.core.optim."""
from zoo.core.optim.lr_scheduler import *  # noqa: F401,F403
from zoo.core.optim.lr_scheduler import __all__  # noqa: F401
