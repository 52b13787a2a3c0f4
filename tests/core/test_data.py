"""zoo.utils.data: TensorDataset, DataLoader batching, shuffling with a generator, default collate."""
import numpy as np
import pytest

import zoo
from zoo.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, default_collate


def test_tensor_dataset_and_loader():
    x = zoo.arange(10).float()
    y = zoo.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert batches[0][1].tolist() == [0, 1, 2, 3]
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(zoo.zeros(3), zoo.zeros(4))


def test_shuffle_is_reproducible_with_a_generator():
    ds = TensorDataset(zoo.arange(20))
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=zoo.Generator().manual_seed(3))]
    b = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=zoo.Generator().manual_seed(3))]
    assert a == b and sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))


def test_default_collate_structures():
    batch = [{"x": np.ones(2, np.float32), "y": 1, "name": "a"}, {"x": np.zeros(2, np.float32), "y": 2, "name": "b"}]
    out = default_collate(batch)
    assert out["x"].shape == (2, 2) and out["y"].dtype is zoo.int64 and out["name"] == ["a", "b"]
    assert default_collate([1.5, 2.5]).dtype is zoo.float64
    assert default_collate([(1, 2), (3, 4)])[0].tolist() == [1, 3]


def test_map_and_iterable_datasets():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return i * i

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(5))

    assert [b.tolist() for b in DataLoader(Squares(), batch_size=2)] == [[0, 1], [4, 9], [16]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4]]
