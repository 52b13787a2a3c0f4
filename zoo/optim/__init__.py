"""zoo.optim — PyTorch's ``torch.optim`` names; implemented in zoo.core.optim."""
from zoo.core.optim import *  # noqa: F401,F403
from zoo.core.optim import __all__  # noqa: F401

from . import lr_scheduler  # noqa: E402,F401

_NOT_IMPLEMENTED = {"Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "LBFGS", "Rprop", "SparseAdam", "Adafactor"}


def __getattr__(name):
    if name in _NOT_IMPLEMENTED:
        raise NotImplementedError(f"optimizer {name} is not supported by zoo (SGD, Adam, AdamW, RMSprop and "
                                  f"Adagrad are)")
    raise AttributeError(f"module 'zoo.optim' has no attribute '{name}'")
