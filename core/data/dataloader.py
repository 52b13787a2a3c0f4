"""DataLoader: batches from a dataset through a sampler, in the main process or in worker processes.

Worker processes use the 'fork' start method where the platform has it and 'spawn' otherwise (or the
``multiprocessing_context`` given). With 'spawn' the dataset, collate_fn and worker_init_fn must be
picklable. Workers only touch host memory: datasets should return NumPy arrays / cpu tensors, and the
training loop moves each batch with ``.to(device, non_blocking=True)``. ``pin_memory`` is accepted and has
no effect (zoo batches are ordinary host arrays; CuPy copies them to the GPU from there).
See worker.py for how batches travel between processes.
"""
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
import warnings
from itertools import cycle

from ..random import default_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import create_fetcher
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _InfiniteConstantSampler
from .worker import (ExceptionWrapper, _IterableDatasetStopIteration, _ResumeIteration, recv_message, widen_pipe,
                     worker_loop)

__all__ = ["DataLoader"]

_SHUTDOWN_JOIN_S = 5.0  # how long shutdown waits for workers to exit before terminating them

_FROZEN_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def _default_context():
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


class DataLoader:
    """Iterate a dataset in batches.

    Map-style datasets are read through a sampler (``shuffle=True`` → RandomSampler with ``generator``,
    else SequentialSampler, or the ``sampler``/``batch_sampler`` given); IterableDatasets are read as
    streams. ``batch_size=None`` turns off batching (each sample goes through ``default_convert``).
    ``num_workers > 0`` loads batches in worker processes (``prefetch_factor`` batches ahead per worker,
    ``persistent_workers`` to keep them across epochs, ``timeout`` seconds at most per batch); batches come
    back in sampler order unless ``in_order=False``.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (not isinstance(prefetch_factor, int) or prefetch_factor < 1):
            raise ValueError(f"prefetch_factor option should be a positive integer, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        iterable = isinstance(dataset, IterableDataset)
        self._dataset_kind = "iterable" if iterable else "map"
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")

        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True

    # --- configuration ------------------------------------------------------------------------------------------
    def __setattr__(self, attr, value):
        if attr in _FROZEN_AFTER_INIT and self.__dict__.get("_initialized", False):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def multiprocessing_context(self):
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            elif not isinstance(ctx, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={ctx}")
        self._mp_context = ctx

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What the iterator draws from: index batches when batching automatically, else single indices."""
        return self.batch_sampler if self._auto_collation else self.sampler

    # --- iteration ------------------------------------------------------------------------------------------
    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shut_down:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._dataset_kind == "iterable":
            n = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _BaseIter:
    """State shared by both iterators: the sampler stream and the base seed of the workers (drawn from the
    loader's generator, or zoo's default one, for every new iterator, as PyTorch does)."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._iterable = loader._dataset_kind == "iterable"
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._collate_fn = loader.collate_fn
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._sampler_iter = iter(self._index_sampler)
        gen = loader.generator if loader.generator is not None else default_generator
        self._base_seed = int(gen.rng.integers(0, 2 ** 63 - 1))
        self._num_yielded = 0
        self._len_called = loader._IterableDataset_len_called

    def _reset(self, loader):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._len_called = loader._IterableDataset_len_called

    def __iter__(self):
        return self

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if self._iterable and self._len_called is not None and self._num_yielded > self._len_called:
            warnings.warn(f"Length of IterableDataset {self._dataset} was reported to be {self._len_called} "
                          f"(by len(dataloader)), but {self._num_yielded} batches/samples have been fetched. With "
                          f"several workers, each one must read only its own shard (see get_worker_info).",
                          stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        if loader.timeout:
            raise ValueError(f"DataLoader timeout={loader.timeout} needs num_workers > 0: without worker processes "
                             f"there is nothing to wait for")
        super().__init__(loader)
        self._fetcher = create_fetcher(self._iterable, self._dataset, self._auto_collation, self._collate_fn,
                                       self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


class _MultiProcessIter(_BaseIter):
    """Workers fetch batches whose indices are handed out round-robin, ``prefetch_factor * num_workers`` in
    flight at most; results are put back in the order the indices were drawn."""

    def __init__(self, loader):
        super().__init__(loader)
        self._shut_down = True  # until the workers exist: __del__ has nothing to clean
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        self._num_workers = loader.num_workers
        ctx = loader.multiprocessing_context or _default_context()
        self._owner_pid = os.getpid()
        self._done = ctx.RawValue("b", 0)  # lock-free stop flag: a dying worker can never hold it
        self._workers, self._index_conns, self._result_conns = [], [], []
        self._shut_down = False
        try:
            for wid in range(self._num_workers):
                index_r, index_w = ctx.Pipe(duplex=False)
                result_r, result_w = ctx.Pipe(duplex=False)
                widen_pipe(result_w)
                w = ctx.Process(target=worker_loop, daemon=True,
                                args=(self._iterable, self._dataset, index_r, result_w, self._done,
                                      self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                                      loader.worker_init_fn, wid, self._num_workers))
                try:
                    w.start()
                finally:
                    # Close our copies of the worker's ends at once: workers started later do not inherit them,
                    # and a worker's death then closes its result pipe (end-of-file here).
                    index_r.close()
                    result_w.close()
                self._workers.append(w)
                self._index_conns.append(index_w)
                self._result_conns.append(result_r)
        except Exception as e:
            if not isinstance(e, (OSError, RuntimeError)):
                e.add_note("DataLoader: with the 'spawn' start method the dataset, collate_fn and worker_init_fn "
                           "must be picklable (defined at module level)")
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader)
        self._send_idx = 0        # number of tasks handed out
        self._rcvd_idx = 0        # task whose batch is returned next
        self._task_worker = {}    # task -> worker, for tasks not returned yet
        self._stash = {}          # task -> data that arrived ahead of its turn
        self._outstanding = 0
        self._active = [True] * self._num_workers  # False: its IterableDataset iterator is exhausted
        self._dead = {}           # worker -> error message, for workers that died
        self._worker_cycle = cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: each acknowledges the new epoch after everything it still owed us.
            for conn in self._index_conns:
                conn.send(_ResumeIteration())
            waiting = self._num_workers
            while waiting:
                msg = self._get_data(range(self._num_workers))
                if self._dead:
                    self._raise_death(min(self._dead))
                if isinstance(msg[1], _ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        usable = [w for w in range(self._num_workers) if self._active[w] and w not in self._dead]
        if self._outstanding >= self._prefetch_factor * self._num_workers or not usable:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        while True:
            wid = next(self._worker_cycle)
            if wid in usable:
                break
        self._index_conns[wid].send((self._send_idx, index))
        self._task_worker[self._send_idx] = wid
        self._send_idx += 1
        self._outstanding += 1

    def _get_data(self, workers):
        """The next (task, data) message from any of ``workers``, or None when one of them died (the death is
        recorded, and raised when a batch it owes is due); raises if nothing came within ``timeout``."""
        conns = {self._result_conns[w]: w for w in workers if w not in self._dead}
        sentinels = {self._workers[w].sentinel: w for w in conns.values()}
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while conns:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = multiprocessing.connection.wait(list(conns) + list(sentinels), left)
            if not ready:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            # Read what live workers sent before looking at exits, so batches due earlier come first.
            for r in sorted(ready, key=lambda r: r not in conns):
                wid = conns.get(r, sentinels.get(r))
                if wid is None or wid in self._dead:
                    continue
                conn = self._result_conns[wid]
                if r is conn or conn.poll(0):
                    try:
                        return recv_message(conn)
                    except (EOFError, OSError):
                        pass
                self._record_death(wid)
                return None
        return None

    def _record_death(self, wid):
        w = self._workers[wid]
        w.join(timeout=_SHUTDOWN_JOIN_S)
        code = w.exitcode
        if code is not None and code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited unexpectedly with exit code {code}"
        self._dead[wid] = (f"DataLoader worker {wid} (pid {w.pid}) {how}. A worker dies like this when the dataset "
                           f"or collate_fn calls os._exit, crashes in native code, or runs out of memory.")

    def _raise_death(self, wid):
        msg = self._dead[wid]
        self._shutdown_workers()
        raise RuntimeError(msg)

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                wid = self._task_worker.get(self._rcvd_idx)
                if wid is not None and (self._rcvd_idx in self._stash or self._active[wid]):
                    break
                # already returned out of order, or owed by an exhausted IterableDataset worker (which ignores
                # it: it will never come): skip it
                if self._task_worker.pop(self._rcvd_idx, None) is not None:
                    self._outstanding -= 1
                self._rcvd_idx += 1
            else:
                if self._dead:
                    self._raise_death(min(self._dead))
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._stash:
                data = self._stash.pop(self._rcvd_idx)
                del self._task_worker[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(data)
            if self._task_worker[self._rcvd_idx] in self._dead:
                self._raise_death(self._task_worker[self._rcvd_idx])
            msg = self._get_data([w for w in range(self._num_workers) if self._active[w]])
            if msg is None:
                continue
            idx, data = msg
            self._outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._active[data.worker_id] = False
                if not self._persistent:
                    self._index_conns[data.worker_id].send(None)
                self._task_worker.pop(idx, None)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                del self._task_worker[idx]
                if idx == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process(data)
            self._stash[idx] = data

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self):
        """Stop the workers (asking first, then terminating those that do not exit in time) and reap them."""
        if self._shut_down or os.getpid() != self._owner_pid:
            return
        self._shut_down = True
        self._done.value = 1
        for conn in self._index_conns:
            try:
                conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + _SHUTDOWN_JOIN_S
        for w in self._workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
                w.join()
        for conn in self._index_conns + self._result_conns:
            conn.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass
