"""zoo.amp — PyTorch's ``torch.amp`` (autocast, GradScaler); implemented in zoo.core.amp."""
from zoo.core.amp import *  # noqa: F401,F403
from zoo.core.amp import __all__  # noqa: F401
