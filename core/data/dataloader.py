"""DataLoader: batches samples from a dataset in the main process (shuffling with zoo's generators)."""
import numbers

import numpy as np

from ..random import randperm
from ..tensor import Tensor
from .dataset import IterableDataset


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts like PyTorch."""
    first = batch[0]
    if isinstance(first, Tensor):
        from ..ops.shape import stack
        return stack(batch, 0)
    if isinstance(first, np.ndarray):
        if first.dtype.kind in "OSU":
            return batch
        return Tensor._make(np.stack(batch))
    if isinstance(first, (bool, np.bool_)):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
                    f"found {type(first).__name__}")


class DataLoader:
    """Iterate a dataset in batches: ``batch_size``, ``shuffle`` (with an optional ``generator``),
    ``drop_last``, ``collate_fn``. Batches are built in the main process."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 generator=None, prefetch_factor=None, persistent_workers=False):
        if num_workers:
            raise NotImplementedError("DataLoader num_workers > 0 (worker processes) is not supported by zoo yet")
        if sampler is not None or batch_sampler is not None:
            raise NotImplementedError("DataLoader sampler/batch_sampler are not supported by zoo yet")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.collate_fn = collate_fn or (default_collate if batch_size is not None else (lambda x: x))

    def _indices(self):
        n = len(self.dataset)
        if self.shuffle:
            return randperm(n, generator=self.generator).tolist()
        return range(n)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        if self.batch_size is None:
            for i in self._indices():
                yield self.collate_fn(self.dataset[i])
            return
        batch = []
        for i in self._indices():
            batch.append(self.dataset[i])
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def _iter_stream(self):
        batch = []
        for sample in self.dataset:
            if self.batch_size is None:
                yield self.collate_fn(sample)
                continue
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

