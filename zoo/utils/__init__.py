"""zoo.utils — PyTorch's ``torch.utils`` names (``zoo.utils.data``)."""
from . import data  # noqa: F401
