"""zoo.utils.data.sampler — PyTorch's ``torch.utils.data.sampler``; implemented in zoo.core.data.sampler."""
from zoo.core.data.sampler import *  # noqa: F401,F403
from zoo.core.data.sampler import __all__  # noqa: F401
