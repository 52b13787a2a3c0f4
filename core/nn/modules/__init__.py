"""zoo.nn layers, one family per file as in torch/nn/modules."""
import importlib

from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import Module
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403

_FAMILIES = ("activation", "attention", "batchnorm", "container", "conv", "dropout", "flatten", "linear", "loss",
             "normalization", "padding", "pixelshuffle", "pooling", "sparse", "transformer", "upsampling")
__all__ = ["Module"] + [name for family in _FAMILIES
                        for name in importlib.import_module(f"{__name__}.{family}").__all__]
