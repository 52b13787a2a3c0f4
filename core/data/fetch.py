"""Fetchers turn one index (or one list of indices) from the sampler into a collated batch; the same code
runs in the main process (``num_workers=0``) and in each worker process."""
from .collate import default_collate
from .dataset import TensorDataset


class _MapFetcher:
    """Map-style datasets: ``dataset[i]`` per index, or ``dataset.__getitems__(indices)`` when defined."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None
        # A plain TensorDataset with default_collate: one gather per tensor gives exactly the stacked rows.
        self.gather = auto_collation and type(dataset) is TensorDataset and collate_fn is default_collate

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.gather and all(type(i) is int for i in index):
            return [t[index] for t in self.dataset.tensors]
        if self.getitems is not None:
            data = self.getitems(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    """Iterable datasets: the next sample (or the next ``len(index)`` samples) of one iterator."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = []
        for _ in index:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
