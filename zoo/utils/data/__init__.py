"""zoo.utils.data — PyTorch's ``torch.utils.data`` names; implemented in zoo.core.data."""
from zoo.core.data import *  # noqa: F401,F403
from zoo.core.data import __all__  # noqa: F401

from . import dataloader, dataset, sampler  # noqa: E402,F401  (torch.utils.data's submodules)
