"""The op library. Each file defines functions (exported as ``zoo.<name>``) and a ``TENSOR_METHODS`` table
that becomes ``Tensor.<name>``."""
from ..creation import new_methods
from ..random import bernoulli_, exponential_, normal_, uniform_
from ..tensor import Tensor
from . import indexing, inplace, linalg, pointwise, reduction, shape, sorting
from .conversion import clone, contiguous
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403

__all__ = (["clone", "contiguous"] + pointwise.__all__ + reduction.__all__ + linalg.__all__ + shape.__all__
           + indexing.__all__ + sorting.__all__)


def _install_methods():
    tables = [pointwise.TENSOR_METHODS, reduction.TENSOR_METHODS, linalg.TENSOR_METHODS, shape.TENSOR_METHODS,
              indexing.TENSOR_METHODS, sorting.TENSOR_METHODS, inplace.TENSOR_METHODS, new_methods(),
              dict(clone=clone, contiguous=contiguous, uniform_=uniform_, normal_=normal_, bernoulli_=bernoulli_,
                   exponential_=exponential_)]
    for table in tables:
        for name, fn in table.items():
            setattr(Tensor, name, fn)


_install_methods()
