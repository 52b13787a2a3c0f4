"""zoo.utils.data.dataset — PyTorch's ``torch.utils.data.dataset``; implemented in zoo.core.data.dataset."""
from zoo.core.data.dataset import *  # noqa: F401,F403
from zoo.core.data.dataset import __all__  # noqa: F401
