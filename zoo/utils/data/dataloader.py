"""zoo.utils.data.dataloader — PyTorch's ``torch.utils.data.dataloader``; implemented in zoo.core.data.dataloader."""
from zoo.core.data.dataloader import *  # noqa: F401,F403
from zoo.core.data.dataloader import __all__  # noqa: F401
