"""zoo.nn.functional — PyTorch's ``torch.nn.functional`` names; implemented in zoo.core.nn.functional."""
from zoo.core.nn.functional import *  # noqa: F401,F403
from zoo.core.nn.functional import __all__  # noqa: F401
