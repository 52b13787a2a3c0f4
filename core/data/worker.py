"""DataLoader worker processes: the loop each worker runs, ``get_worker_info``, error forwarding, and how
batches travel back to the main process.

Transport: each worker has two one-way pipes of its own, indices in and batches out. A batch is pickled with
protocol 5 and its NumPy buffers travel out of band: the worker writes each array's memory straight into the
pipe and the main process reads it straight into a fresh writable buffer that the rebuilt array wraps, so an
array is copied once (through the pipe) and never into an intermediate pickle. A worker never shares a pipe
or a lock with another worker, so one that dies mid-write cannot block the others, and the main process sees
its death at once (end-of-file on its pipe, or its process sentinel).
"""
import io
import os
import pickle
import queue
import random
import sys
import threading
import traceback

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info"]

_PARENT_CHECK_S = 1.0  # how often an idle worker checks that the main process is still alive


class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed`` and its copy of ``dataset``."""

    _frozen = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self._keys = tuple(kwargs)
        self._frozen = True

    def __setattr__(self, key, value):
        if self._frozen:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, value)

    def __repr__(self):
        return f"WorkerInfo({', '.join(f'{k}={getattr(self, k)!r}' for k in self._keys)})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker: its :class:`WorkerInfo` (``id``, ``num_workers``, ``seed``, ``dataset``),
    e.g. for an IterableDataset to read only its shard. In the main process: ``None``."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback text."""

    def __init__(self, where):
        exc_type, exc, _ = sys.exc_info()
        self.type_name = exc_type.__name__
        self.exc_type = exc_type if _picklable(exc_type) else RuntimeError
        self.where = where
        self.text = "".join(traceback.format_exception(exc))

    def reraise(self):
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            raise _KeyErrorMessage(msg)
        try:
            err = self.exc_type(msg)
        except Exception:
            err = None
        if err is None or str(err) != msg:
            raise RuntimeError(msg) from None
        raise err


class _KeyErrorMessage(KeyError):
    """A KeyError that prints its (multi-line) message as is instead of quoting it."""

    def __str__(self):
        return self.args[0]


def _picklable(obj):
    try:
        pickle.dumps(obj)
        return True
    except Exception:
        return False


class _IterableDatasetStopIteration:
    """A worker's IterableDataset iterator is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Start a new epoch (persistent workers): re-create the fetcher and acknowledge."""


# --- transport --------------------------------------------------------------------------------------------------

_RAW_FD = os.name == "posix"  # pipes are plain file descriptors: buffers go through os.write / readinto
_F_SETPIPE_SZ = 1031          # Linux fcntl: a 1 MiB pipe moves big batches with fewer wake-ups


def widen_pipe(conn):
    """Best effort: enlarge a pipe's kernel buffer (Linux only; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        try:
            import fcntl
            fcntl.fcntl(conn.fileno(), _F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass


def encode(obj):
    """The parts of one message: a small pickle (the object with its buffers left out, and their sizes),
    then each out-of-band buffer as raw bytes."""
    buffers = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    return [pickle.dumps((head, [r.nbytes for r in raws]), protocol=5)] + raws


def send_parts(conn, parts):
    conn.send_bytes(parts[0])
    for raw in parts[1:]:
        if not _RAW_FD:
            conn.send_bytes(raw)
            continue
        fd, view, off = conn.fileno(), raw.cast("B"), 0
        while off < view.nbytes:
            off += os.write(fd, view[off:])


def recv_message(conn):
    """Read one message sent by :func:`send_parts`; EOFError if the writer died first. Each buffer is read
    straight into a fresh, writable array that the unpickled arrays then wrap."""
    head, sizes = pickle.loads(conn.recv_bytes())
    buffers = []
    reader = io.FileIO(conn.fileno(), "r", closefd=False) if _RAW_FD and sizes else None
    for n in sizes:
        buf = np.empty(n, np.uint8)
        if reader is None:
            conn.recv_bytes_into(buf)
        else:
            view, off = memoryview(buf), 0
            while off < n:
                got = reader.readinto(view[off:])
                if not got:
                    raise EOFError("DataLoader worker pipe closed in the middle of a message")
                off += got
        buffers.append(buf)
    return pickle.loads(head, buffers=buffers)


class _Sender:
    """Writes encoded messages from a background thread, so the worker goes on fetching the next batch while
    the main process is busy and the pipe is full."""

    def __init__(self, conn):
        self.conn = conn
        self.pending = queue.SimpleQueue()
        threading.Thread(target=self._run, daemon=True, name="zoo-dataloader-sender").start()

    def _run(self):
        while True:
            parts = self.pending.get()
            try:
                send_parts(self.conn, parts)
            except OSError:  # the main process closed its end: nothing more to deliver
                return

    def send(self, obj, worker_id):
        """Queue ``(task, data)``; data that cannot be pickled is replaced by that error."""
        try:
            parts = encode(obj)
        except Exception:
            where = f"in DataLoader worker process {worker_id} while pickling its batch for the main process"
            parts = encode((obj[0], ExceptionWrapper(where)))
        self.pending.put(parts)


def _seed_worker(seed, worker_id, base_seed):
    """Seed zoo's default generators, Python's ``random`` and NumPy's global state for this worker."""
    from ..random import manual_seed
    manual_seed(seed)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def worker_loop(iterable, dataset, index_conn, result_conn, done, auto_collation, collate_fn, drop_last,
                base_seed, init_fn, worker_id, num_workers):
    """Run in a worker process: fetch the batches whose indices arrive on ``index_conn`` and send them back
    in the order asked, until told to stop (``None`` or the shared ``done`` flag) or the main process dies."""
    global _worker_info
    from .fetch import create_fetcher
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, worker_id, base_seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        sender = _Sender(result_conn)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where)
        parent_pid = os.getppid()
        ended = False
        while True:
            if not index_conn.poll(_PARENT_CHECK_S):
                if os.getppid() != parent_pid or done.value:
                    return
                continue
            try:
                msg = index_conn.recv()
            except EOFError:
                return
            if msg is None or done.value:
                return
            if isinstance(msg, _ResumeIteration):
                ended = False
                if init_error is None:
                    try:
                        fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where)
                sender.send((None, msg), worker_id)
                continue
            if ended:
                continue
            idx, index = msg
            if init_error is not None:
                data = init_error
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if iterable and isinstance(e, StopIteration):
                        data = _IterableDatasetStopIteration(worker_id)
                        ended = True
                    else:
                        data = ExceptionWrapper(where)
            sender.send((idx, data), worker_id)
            del data
    except KeyboardInterrupt:  # the main process handles Ctrl-C and shuts the workers down
        pass
