"""zoo.nn.functional: the functional form of every layer, PyTorch's names and signatures."""
import importlib

from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from ...ops.indexing import one_hot  # noqa: F401  (an indexing op, public here as in PyTorch)

# The submodules by import (``linear`` here is the function F.linear, which the star import put over the module).
__all__ = [name for sub in ("activation", "attention", "conv", "linear", "loss", "normalization", "pooling",
                            "sampling")
           for name in importlib.import_module(f"{__name__}.{sub}").__all__] + ["one_hot"]
