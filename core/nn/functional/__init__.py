"""zoo.nn.functional: the functional form of every layer, PyTorch's names and signatures."""
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from . import activation, attention, conv, linear, loss, normalization, pooling, sampling

__all__ = (activation.__all__ + attention.__all__ + conv.__all__ + linear.__all__ + loss.__all__
           + normalization.__all__ + pooling.__all__ + sampling.__all__)
