"""zoo.utils.data: datasets, samplers, default_collate/convert, the DataLoader in the main process and with
worker processes (errors, deaths, seeding, sharding, persistence, shutdown), and oracle checks against
torch.utils.data."""
import collections
import gc
import multiprocessing
import os
import random
import signal
import time
from itertools import chain

import numpy as np
import pytest

import zoo
from helpers import torch_or_skip
from zoo.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                            RandomSampler, Sampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                            TensorDataset, WeightedRandomSampler, default_collate, default_convert, get_worker_info,
                            random_split)


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
    assert a == b and sorted(chain(*a)) == list(range(20)) and list(chain(*a)) != list(range(20))


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


# --------------------------------------------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", ["x", "y"])


class Range(Dataset):
    """Sample i is i (a Python int)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return i


class Stream(IterableDataset):
    """0..n-1; each worker reads its own interleaved shard."""

    def __init__(self, n, with_len=False):
        self.n = n
        self.with_len = with_len

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        if not self.with_len:
            raise TypeError("Stream has no len()")
        return self.n


def test_subset_concat_chain_stack():
    base = Range(10)
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [7, 2, 5] and sub.__getitems__([0, 2]) == [7, 5]
    cat = base + Range(3)
    assert isinstance(cat, ConcatDataset) and len(cat) == 13 and cat.cumulative_sizes == [10, 13]
    assert cat[10] == 0 and cat[12] == 2 and cat[-1] == 2 and cat[-13] == 0
    with pytest.raises(ValueError, match="absolute value"):
        cat[-14]
    with pytest.raises(IndexError):
        cat[13]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([Stream(3)])
    chain = Stream(3) + Stream(2)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 2, 0, 1]
    assert len(ChainDataset([Stream(3, True), Stream(2, True)])) == 5
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(ChainDataset([Range(2)]))
    st = StackDataset(Range(4), Range(4))
    assert st[1] == (1, 1) and len(st) == 4 and st.__getitems__([0, 3]) == [(0, 0), (3, 3)]
    sd = StackDataset(a=Range(4), b=Subset(Range(10), [9, 8, 7, 6]))
    assert sd[1] == {"a": 1, "b": 8} and sd.__getitems__([0, 3]) == [{"a": 0, "b": 9}, {"a": 3, "b": 6}]
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(Range(3), Range(4))
    with pytest.raises(ValueError, match="both"):
        StackDataset(Range(3), b=Range(3))


def test_random_split():
    ds = Range(10)
    a, b = random_split(ds, [7, 3], generator=zoo.Generator().manual_seed(0))
    assert len(a) == 7 and len(b) == 3 and sorted(list(a.indices) + list(b.indices)) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=zoo.Generator().manual_seed(0))
    assert a.indices == a2.indices
    zoo.manual_seed(5)
    c = random_split(ds, [0.5, 0.5])[0].indices
    zoo.manual_seed(5)
    assert random_split(ds, [0.5, 0.5])[0].indices == c
    assert [len(s) for s in random_split(Range(11), [0.3, 0.3, 0.4])] == [4, 3, 4]
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(Range(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(ds, [1.5, -0.5])


# --------------------------------------------------------------------------------------------------------------
# samplers
# --------------------------------------------------------------------------------------------------------------
def test_sequential_and_batch_samplers():
    assert list(SequentialSampler(Range(4))) == [0, 1, 2, 3] and len(SequentialSampler(Range(4))) == 4
    bs = BatchSampler(SequentialSampler(Range(10)), 3, False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    bs = BatchSampler(range(10), 3, True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(bs) == 3
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(NotImplementedError):
        iter(Sampler())


def test_random_samplers():
    ds = Range(10)
    perm = list(RandomSampler(ds, generator=zoo.Generator().manual_seed(1)))
    assert sorted(perm) == list(range(10)) and perm == list(RandomSampler(ds, generator=zoo.Generator().manual_seed(1)))
    zoo.manual_seed(3)
    a = list(RandomSampler(ds))
    zoo.manual_seed(3)
    assert list(RandomSampler(ds)) == a
    long = list(RandomSampler(ds, num_samples=25, generator=zoo.Generator().manual_seed(0)))
    assert len(long) == 25 and sorted(long[:10]) == list(range(10)) and sorted(long[10:20]) == list(range(10))
    rep = list(RandomSampler(ds, replacement=True, num_samples=70))
    assert len(rep) == 70 and all(0 <= i < 10 for i in rep) and len(set(rep)) < 70
    assert len(RandomSampler(ds, replacement=True, num_samples=70)) == 70
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(ds, replacement=1)
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(ds, num_samples=0)
    sub = list(SubsetRandomSampler([5, 6, 7], generator=zoo.Generator().manual_seed(0)))
    assert sorted(sub) == [5, 6, 7] and len(SubsetRandomSampler([5, 6, 7])) == 3
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=zoo.Generator().manual_seed(0)))
    assert len(w) == 200 and set(w) == {1, 3} and w.count(3) > w.count(1)
    no_rep = list(WeightedRandomSampler([1.0, 1.0, 1.0, 1.0], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match="replacement"):
        WeightedRandomSampler([1.0], 1, replacement=None)


# --------------------------------------------------------------------------------------------------------------
# DataLoader options (main process)
# --------------------------------------------------------------------------------------------------------------
def test_loader_argument_errors():
    ds = Range(10)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0, 1]], batch_size=2)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0, 1]], drop_last=True)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler"):
        DataLoader(Stream(3), sampler=[0])
    with pytest.raises(ValueError, match="expected unspecified batch_sampler"):
        DataLoader(Stream(3), batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, timeout=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="multiprocessing_context"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="valid start method"):
        DataLoader(ds, num_workers=1, multiprocessing_context="nope")
    with pytest.raises(ValueError, match="needs num_workers > 0"):
        iter(DataLoader(ds, timeout=1))
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen, as in PyTorch


def test_loader_samplers_and_lengths():
    ds = Range(10)
    assert [b.tolist() for b in DataLoader(ds, batch_size=4, sampler=[9, 8, 7, 6, 5])] == [[9, 8, 7, 6], [5]]
    custom = DataLoader(ds, batch_sampler=[[0, 5], [1, 2, 3]])
    assert [b.tolist() for b in custom] == [[0, 5], [1, 2, 3]] and len(custom) == 2
    unbatched = DataLoader(ds, batch_size=None)
    out = list(unbatched)
    assert len(unbatched) == 10 and out[3] == 3 and type(out[3]) is int  # default_convert leaves ints alone
    assert len(DataLoader(ds, batch_size=3)) == 4 and len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert [len(b) for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [3, 3]
    assert len(DataLoader(Stream(7, with_len=True), batch_size=3)) == 3
    with pytest.raises(TypeError):
        len(DataLoader(Stream(7)))
    loader = DataLoader(Stream(7, with_len=True), batch_size=None)
    assert len(loader) == 7
    loader.dataset.n = 9  # the stream now yields more than it reported
    with pytest.warns(UserWarning, match="reported to be 7"):
        assert len(list(loader)) == 9


def test_shuffle_reproducible_under_manual_seed_and_new_each_epoch():
    ds = Range(30)
    zoo.manual_seed(7)
    loader = DataLoader(ds, batch_size=10, shuffle=True)
    e1 = [b.tolist() for b in loader]
    e2 = [b.tolist() for b in loader]
    zoo.manual_seed(7)
    assert [b.tolist() for b in loader] == e1 and e1 != e2
    g = zoo.Generator().manual_seed(2)
    loader = DataLoader(ds, batch_size=10, shuffle=True, generator=g)
    f1 = [b.tolist() for b in loader]
    g.manual_seed(2)
    assert [b.tolist() for b in loader] == f1


def test_tensor_dataset_fast_path_matches_per_sample_collate():
    x = zoo.randn(9, 3)
    y = zoo.arange(9)
    ds = TensorDataset(x, y)
    fast = list(DataLoader(ds, batch_size=4, sampler=[8, 0, 3, 3, 1, 7]))
    slow = list(DataLoader(ds, batch_size=4, sampler=[8, 0, 3, 3, 1, 7], collate_fn=lambda b: default_collate(b)))
    assert isinstance(fast[0], list) and len(fast) == len(slow) == 2
    for f, s in zip(fast, slow):
        for a, b in zip(f, s):
            assert a.dtype is b.dtype and a.shape == b.shape and np.array_equal(a.numpy(), b.numpy())
    w = zoo.randn(6, 2, requires_grad=True)
    (xb,) = next(iter(DataLoader(TensorDataset(w), batch_size=3)))
    xb.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0]] * 3 + [[0.0, 0.0]] * 3


def test_loader_on_device(device):
    x = zoo.arange(12, device=device).float().reshape(6, 2)
    batches = list(DataLoader(TensorDataset(x, zoo.arange(6, device=device)), batch_size=4, shuffle=True))
    assert [b[0].device.type for b in batches] == [device, device] and [len(b[1]) for b in batches] == [4, 2]
    rows = sorted(tuple(r) for b in batches for r in b[0].tolist())
    assert rows == [(2.0 * i, 2.0 * i + 1) for i in range(6)]
    stacked = default_collate([x[0], x[1]])
    assert stacked.device.type == device and stacked.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    raw = default_collate([x[0]._data, x[1]._data])  # NumPy or CuPy arrays stay on their device
    assert raw.device.type == device and raw.tolist() == [[0.0, 1.0], [2.0, 3.0]]


def test_pin_memory_is_accepted():
    batches = list(DataLoader(TensorDataset(zoo.arange(4)), batch_size=2, pin_memory=True))
    assert [b[0].tolist() for b in batches] == [[0, 1], [2, 3]]


# --------------------------------------------------------------------------------------------------------------
# collate / convert
# --------------------------------------------------------------------------------------------------------------
def test_default_collate_types():
    assert default_collate([True, False]).dtype is zoo.bool
    assert default_collate([1, 2]).dtype is zoo.int64
    assert default_collate([np.float32(1), np.float32(2)]).dtype is zoo.float32
    assert default_collate([np.int32(1), np.int32(2)]).dtype is zoo.int32
    assert default_collate([np.array(1.0), np.array(2.0)]).dtype is zoo.float64
    assert default_collate(["a", "b"]) == ["a", "b"] and default_collate([b"a", b"b"]) == [b"a", b"b"]
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert type(p) is Point and p.x.tolist() == [1, 3] and p.y.dtype is zoo.float64
    nested = default_collate([{"a": [np.zeros(2), 1]}, {"a": [np.ones(2), 2]}])
    assert nested["a"][0].shape == (2, 2) and nested["a"][1].tolist() == [1, 2]
    t = default_collate([zoo.zeros(2, 3), zoo.ones(2, 3)])
    assert t.shape == (2, 2, 3) and t[1].sum().item() == 6
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([zoo.zeros(2), zoo.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([np.array([None]), np.array([None])])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])


def test_default_convert():
    a = np.arange(3, dtype=np.float32)
    out = default_convert({"a": a, "b": (np.int64(4), "s"), "c": [1, 2]})
    assert isinstance(out["a"], zoo.Tensor) and out["a"].dtype is zoo.float32
    a[0] = 9
    assert out["a"][0].item() == 9  # shares memory, like torch.as_tensor
    assert isinstance(out["b"], list) and out["b"][0].item() == 4 and out["b"][1] == "s" and out["c"] == [1, 2]
    strings = np.array(["x"])
    assert default_convert(strings) is strings
    p = default_convert(Point(np.zeros(1), 2))
    assert type(p) is Point and isinstance(p.x, zoo.Tensor) and p.y == 2


# --------------------------------------------------------------------------------------------------------------
# worker processes
# --------------------------------------------------------------------------------------------------------------
class Arrays(Dataset):
    """A dict of arrays of several kinds per sample, to check what crosses the process boundary."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        img = np.arange(24, dtype=np.float32).reshape(2, 3, 4) + i
        return {"img": img[:, ::2].transpose(2, 0, 1), "empty": np.zeros((0, 2), np.int16), "label": i,
                "name": f"s{i}", "pair": (np.float64(i) / 2, i % 2 == 0), "t": zoo.full((2,), float(i))}


class Faulty(Dataset):
    """Raises at index 5, exits the process at index ``exit_at``."""

    def __init__(self, exit_at=None, error=ValueError):
        self.exit_at = exit_at
        self.error = error

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise self.error("bad sample 5")
        if i == self.exit_at:
            os._exit(7)
        return i


class Pids(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"i": i, "pid": os.getpid(), "worker": info.id, "seed": info.seed,
                "draws": (zoo.rand(1).item(), float(np.random.rand()), random.random())}


class Sleepy(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1:
            time.sleep(2)
        return i


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class RaisesTwoArgs(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise NeedsTwoArgs("x", "y")


def _record_worker(worker_id):
    info = get_worker_info()
    info.dataset.init_ids = getattr(info.dataset, "init_ids", ()) + (worker_id,)


class InitSeen(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return list(getattr(self, "init_ids", ()))


def _reaped(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _pids(batches):
    return {p for b in batches for p in b["pid"].tolist()}


def test_worker_batches_equal_main_process_batches():
    def run(nw):
        return list(DataLoader(Arrays(), batch_size=3, shuffle=True, num_workers=nw,
                               generator=zoo.Generator().manual_seed(4)))
    ref, got = run(0), run(2)
    assert len(ref) == len(got) == 3
    for r, g in zip(ref, got):
        assert r.keys() == g.keys() and r["name"] == g["name"]
        for k in ("img", "empty", "label", "t"):
            assert r[k].dtype is g[k].dtype and r[k].shape == g[k].shape
            assert np.array_equal(r[k].numpy(), g[k].numpy())
        for a, b in zip(r["pair"], g["pair"]):
            assert a.dtype is b.dtype and a.tolist() == b.tolist()
    img = got[0]["img"]
    img[0, 0, 0, 0] = -1.0  # batches from workers are ordinary writable arrays
    assert img[0, 0, 0, 0].item() == -1.0


def test_worker_order_matches_main_process_under_manual_seed():
    def run(nw):
        zoo.manual_seed(11)
        return [b.tolist() for b in DataLoader(Range(23), batch_size=4, shuffle=True, num_workers=nw)]
    assert run(0) == run(2)
    unordered = [b.tolist() for b in DataLoader(Range(23), batch_size=4, num_workers=2, in_order=False)]
    assert sorted(chain(*unordered)) == list(range(23))
    single = list(DataLoader(Range(5), batch_size=None, num_workers=2))
    assert single == [0, 1, 2, 3, 4]


def test_worker_error_is_reraised_with_traceback_and_loader_goes_on():
    it = iter(DataLoader(Faulty(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 0") as e:
        next(it)
    assert "Original Traceback" in str(e.value) and "bad sample 5" in str(e.value) and "__getitem__" in str(e.value)
    assert [b.tolist() for b in it] == [[6, 7], [8, 9]]
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(Faulty(error=KeyError), batch_size=2, num_workers=2))
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArgs in DataLoader worker process 0"):
        list(DataLoader(RaisesTwoArgs(), num_workers=1))


def test_dead_worker_raises_instead_of_hanging():
    got = []
    with pytest.raises(RuntimeError, match=r"DataLoader worker 1 \(pid \d+\) exited unexpectedly with exit code 7"):
        for b in DataLoader(Faulty(exit_at=3), batch_size=1, num_workers=2, sampler=[0, 1, 2, 3, 4, 6]):
            got.append(b.item())
    assert got == [0, 1, 2][:len(got)]  # what arrived before the death, in order


class KillsItself(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_worker_raises():
    with pytest.raises(RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) was killed by signal SIGKILL"):
        list(DataLoader(KillsItself(), num_workers=2))


def test_worker_info_init_fn_and_seeds():
    assert get_worker_info() is None
    assert [b for b in DataLoader(InitSeen(), batch_size=None, num_workers=2)] == [[], [], [], []]
    seen = [b for b in DataLoader(InitSeen(), batch_size=None, num_workers=2, worker_init_fn=_record_worker)]
    assert seen == [[0], [1], [0], [1]]  # each worker ran worker_init_fn(its id) on its own dataset copy

    def run(seed):
        return list(DataLoader(Pids(), batch_size=2, num_workers=2, generator=zoo.Generator().manual_seed(seed)))
    a, b, c = run(1), run(1), run(2)
    seeds = [x["seed"].tolist() for x in a]
    assert seeds[0][0] + 1 == seeds[1][0] and [x["worker"].tolist() for x in a] == [[0, 0], [1, 1]] * 2
    draws = [x["draws"] for x in a]
    assert [[d.tolist() for d in x] for x in draws] == [[d.tolist() for d in x["draws"]] for x in b]
    assert a[0]["seed"].tolist() != c[0]["seed"].tolist()
    for k in range(3):  # zoo, NumPy and random each draw a different stream in each worker
        assert a[0]["draws"][k][0].item() != a[1]["draws"][k][0].item()
    for batch in a[:2]:  # zoo and random are seeded with worker_info.seed, as in PyTorch
        zoo.manual_seed(batch["seed"][0].item())
        random.seed(batch["seed"][0].item())
        assert batch["draws"][0][0].item() == zoo.rand(1).item()
        assert batch["draws"][2][0].item() == random.random()


def test_worker_init_fn_error_is_reraised():
    def boom(worker_id):
        raise OSError(f"init failed in {worker_id}")
    with pytest.raises(OSError, match="init failed in 0"):
        list(DataLoader(Range(4), num_workers=1, worker_init_fn=boom))


def test_iterable_dataset_sharded_by_worker_info():
    batches = [b.tolist() for b in DataLoader(Stream(10), batch_size=2, num_workers=2)]
    assert batches == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    assert sorted(chain(*[b.tolist() for b in DataLoader(Stream(10), batch_size=3, num_workers=3)])) == \
        list(range(10))
    assert [b.tolist() for b in DataLoader(Stream(9), batch_size=2, num_workers=2, drop_last=True)] == \
        [[0, 2], [1, 3], [4, 6], [5, 7]]


def test_persistent_workers_reused_and_reaped():
    loader = DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    e1 = list(loader)
    it = iter(loader)
    partial = next(it)  # leave an epoch half-read: the next epoch still starts cleanly
    e3 = list(loader)
    assert _pids(e1) == _pids(e3) == _pids([partial]) | _pids(e1) and len(_pids(e1)) == 2
    assert [b["i"].tolist() for b in e3] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    stream = DataLoader(Stream(6), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in stream] == [b.tolist() for b in stream] == [[0, 2], [1, 3], [4], [5]]
    pids = _pids(e1)
    del loader, it
    gc.collect()
    assert all(_reaped(p) for p in pids)


def test_workers_reaped_after_exhaustion_and_after_delete():
    batches = list(DataLoader(Pids(), batch_size=2, num_workers=2))
    assert all(_reaped(p) for p in _pids(batches))
    it = iter(DataLoader(Pids(), batch_size=2, num_workers=2))
    first = next(it)
    workers = list(it._workers)
    del it
    assert all(w.exitcode is not None for w in workers) and all(_reaped(p) for p in first["pid"].tolist())
    assert not [p for p in multiprocessing.active_children() if p in workers]


def test_timeout(monkeypatch):
    import zoo.core.data.dataloader as dl
    monkeypatch.setattr(dl, "_SHUTDOWN_JOIN_S", 0.2)
    it = iter(DataLoader(Sleepy(), num_workers=1, timeout=0.1))
    assert next(it).tolist() == [0]
    with pytest.raises(RuntimeError, match="timed out after 0.1 seconds"):
        next(it)
    it._shutdown_workers()


def test_unpicklable_batch_is_reported():
    with pytest.raises(AttributeError, match="(?s)worker process 0 while pickling its batch.*local object"):
        list(DataLoader(Range(2), num_workers=1, collate_fn=lambda b: (lambda: b)))


def test_spawn_start_method():
    ds = TensorDataset(zoo.arange(10).float(), zoo.arange(10))
    out = [b[1].tolist() for b in DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn")]
    assert out == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


# --------------------------------------------------------------------------------------------------------------
# oracle: the same datasets through torch.utils.data
# --------------------------------------------------------------------------------------------------------------
class Mixed(Dataset):
    """Samples of every kind default_collate handles (NumPy and Python values only, so that the very same
    dataset feeds both libraries)."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"f32": np.full((2, 3), i, np.float32), "i64": np.arange(3, dtype=np.int64) * i,
                "u8": np.array([i, 255 - i], np.uint8), "b": np.array([i % 2 == 0]), "f16": np.float16(i / 4),
                "npf64": np.float64(i), "int": i, "float": i / 2, "bool": i % 3 == 0, "str": f"s{i}",
                "tuple": (i, [i * 1.5, np.int32(i)]), "point": Point(i, np.array([i], np.float32)),
                "list": [np.int8(i), "x"]}


def _same_structure(z, t, torch):
    if isinstance(t, torch.Tensor):
        assert isinstance(z, zoo.Tensor), f"{type(z)} where torch has a tensor"
        assert tuple(z.shape) == tuple(t.shape) and str(z.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
            f"{z.dtype}{tuple(z.shape)} != torch {t.dtype}{tuple(t.shape)}"
        assert np.array_equal(z.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(z) is type(t) and list(z) == list(t)
        for k in t:
            _same_structure(z[k], t[k], torch)
    elif isinstance(t, (list, tuple)):
        assert type(z) is type(t) and len(z) == len(t), f"{type(z)} != torch {type(t)}"
        for a, b in zip(z, t):
            _same_structure(a, b, torch)
    else:
        assert type(z) is type(t) and z == t


@pytest.mark.oracle
@pytest.mark.parametrize("kw", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None},
                                {"batch_size": 2, "sampler": [6, 1, 3]}])
def test_oracle_batches_equal_torch(kw):
    torch = torch_or_skip()
    from torch.utils.data import DataLoader as TorchLoader
    ours = list(DataLoader(Mixed(), **kw))
    theirs = list(TorchLoader(Mixed(), **kw))
    assert len(ours) == len(theirs) == len(DataLoader(Mixed(), **kw)) == len(TorchLoader(Mixed(), **kw))
    _same_structure(ours, theirs, torch)
    with_workers = list(DataLoader(Mixed(), num_workers=2, **kw))
    _same_structure(with_workers, theirs, torch)


@pytest.mark.oracle
def test_oracle_collate_and_convert_equal_torch():
    torch = torch_or_skip()
    from torch.utils.data import default_collate as t_collate
    from torch.utils.data import default_convert as t_convert
    samples = [Mixed()[i] for i in range(3)]
    _same_structure(default_collate(samples), t_collate(samples), torch)
    _same_structure(default_convert(samples[1]), t_convert(samples[1]), torch)
    _same_structure(default_collate([[1, 2.5], [3, 4]]), t_collate([[1, 2.5], [3, 4]]), torch)
    _same_structure(default_collate([True, 2]), t_collate([True, 2]), torch)


@pytest.mark.oracle
@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False),
                                       (2, 5, True), (0, 2, False)])
def test_oracle_sequential_and_batch_samplers(n, bs, drop):
    torch = torch_or_skip()
    from torch.utils.data import BatchSampler as TBatch
    from torch.utils.data import SequentialSampler as TSeq
    assert list(SequentialSampler(range(n))) == list(TSeq(range(n)))
    ours, theirs = BatchSampler(SequentialSampler(range(n)), bs, drop), TBatch(TSeq(range(n)), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert len(DataLoader(Range(n), batch_size=bs, drop_last=drop)) == len(torch.utils.data.DataLoader(
        Range(n), batch_size=bs, drop_last=drop))


@pytest.mark.oracle
def test_oracle_split_lengths_and_sampler_lengths():
    torch_or_skip()
    from torch.utils.data import RandomSampler as TRandom
    from torch.utils.data import random_split as t_split
    for n, fracs in [(11, [0.3, 0.3, 0.4]), (10, [0.5, 0.5]), (7, [0.1, 0.9]), (5, [3, 2])]:
        assert [len(s) for s in random_split(Range(n), fracs)] == [len(s) for s in t_split(Range(n), fracs)]
    for kw in [{}, {"num_samples": 25}, {"replacement": True, "num_samples": 7}]:
        ours, theirs = list(RandomSampler(Range(10), **kw)), list(TRandom(Range(10), **kw))
        assert len(ours) == len(theirs) == len(RandomSampler(Range(10), **kw))
        if not kw.get("replacement"):
            full = len(ours) // 10 * 10  # whole permutations; the tail is a random part of one
            assert [sorted(ours[i:i + 10]) for i in range(0, full, 10)] == \
                [sorted(theirs[i:i + 10]) for i in range(0, full, 10)]
