"""zoo.core.data: datasets and batching (``zoo.utils.data``)."""
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, IterableDataset, TensorDataset

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "DataLoader", "default_collate"]
