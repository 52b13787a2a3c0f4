"""The helper process: a second Python interpreter that runs part of an op's work on the arena's arrays.

Threads cannot use a second core well here: every hand-off between them is a GIL hand-off, and waking a core
that slept costs tens of microseconds on virtual machines whose kernel does not poll before halting. A process
has its own interpreter and GIL, and while a training step runs it spins on the arena's control block, so a job
reaches it in about a microsecond (as PyTorch's OpenMP threads spin between parallel regions). After
``SPIN_SECONDS`` without a job it sleeps on a pipe, and the next job wakes it through that pipe.

A job is ``fn(start, stop, *args)`` on a range: this process runs ``[0, cut)``, the helper ``[cut, n)``. ``fn`` is
a module-level function (the helper imports it by name); array arguments are views of the arena (the helper
rebuilds them from offset, shape, strides and dtype) or small read-only arrays sent by value. What ``fn`` returns
(partial sums, a weight gradient's share) comes back pickled.

Control block (int64 slots at the start of the arena), written by one side each:
    SEQ       this process: number of the last job posted
    ACK       helper: number of the last job it started
    DONE      helper: number of the last job it finished
    SLEEPING  helper: 1 while it waits on the wake pipe
    FAILED    helper: 1 when the last finished job raised
    LENGTH    this process: bytes of the pickled job description at DESC_AT
    READY     helper: 1 once it runs its loop
    STOP      this process: 1 asks the helper to exit
    OUT_LENGTH    helper: bytes at OUT_AT of the finished job's pickled result (0: None) or of its traceback
"""
import os
import pickle
import subprocess
import sys
import time

import numpy as np

SEQ, ACK, DONE, SLEEPING, FAILED, LENGTH, READY, STOP, OUT_LENGTH = range(9)
DESC_AT = 64  # byte offset of the job description in the control block
OUT_AT = 256 << 10  # byte offset of the job's result, or of its traceback when it failed (length: OUT_LENGTH)
SPIN_SECONDS = 0.05  # how long the helper spins for the next job before it sleeps
SMALL_BYTES = 1 << 16  # read-only arrays outside the arena up to this size travel by value
_REWAKE_SECONDS = 0.002  # a job not started after this long: wake the helper again
_POLL_SECONDS = 0.05  # how often a waiting caller checks that the helper still lives


class HelperDied(RuntimeError):
    """The helper process exited; the caller finishes the job itself."""


def describe(arena, args):
    """The arguments as the helper rebuilds them: ("a", offset, shape, strides, dtype) for arena arrays,
    ("b", bytes, shape, dtype) for small read-only arrays sent by value (raw bytes pickle several times faster
    than an array), ("v", value) for anything else. Any other array cannot travel (ValueError): a large one, or a
    writable one outside the arena, whose writes in the helper would be lost."""
    out = []
    for a in args:
        if type(a) is np.ndarray:
            offset = arena.offset_of(a)
            if offset is not None:
                out.append(("a", offset, a.shape, a.strides, a.dtype.str))
                continue
            if a.nbytes > SMALL_BYTES or a.flags.writeable:
                raise ValueError(f"helper job: an array of shape {a.shape} ({a.nbytes} bytes) is not in the shared "
                                 f"arena; allocate it with zoo.core.parallel.empty(), or pass an input through "
                                 f"shared()")
            out.append(("b", a.tobytes(), a.shape, a.dtype.str))
        else:
            out.append(("v", a))
    return out


def rebuild(arena, described):
    """The arguments from ``describe``: arena arrays as views, arrays sent by value read-only."""
    return [arena.view(*d[1:]) if d[0] == "a" else np.frombuffer(d[1], d[3]).reshape(d[2]) if d[0] == "b" else d[1]
            for d in described]


class Helper:
    """One helper process on ``arena``. It starts in the background; ``ready`` says when it takes jobs."""

    def __init__(self, arena):
        self.arena = arena
        self.ctl = arena.control
        self.seq = 0
        read_end, self._wake = os.pipe()
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   ZOO_HELPER_PROCESS="0", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", __package__ + ".helper_loop", str(arena.fd), str(arena.nbytes),
                 str(read_end), str(os.getpid())],
                pass_fds=(arena.fd, read_end), env=env, stdin=subprocess.DEVNULL)
        finally:
            os.close(read_end)

    @property
    def ready(self):
        return bool(self.ctl[READY])

    def post(self, fn, cut, n, args):
        """Hand ``fn(cut, n, *args)`` to the helper. False (nothing posted) when an argument cannot travel (a large
        array outside the arena, an object pickle cannot send by name) or the description is too long."""
        try:
            desc = pickle.dumps((fn.__module__, fn.__qualname__, cut, n, describe(self.arena, args)), protocol=5)
        except (ValueError, TypeError, AttributeError, pickle.PicklingError):  # an argument that cannot travel
            return False
        if DESC_AT + len(desc) > OUT_AT:
            return False
        self.arena.map[DESC_AT:DESC_AT + len(desc)] = desc
        self.ctl[LENGTH] = len(desc)
        self.seq += 1
        self.ctl[SEQ] = self.seq
        if self.ctl[SLEEPING]:
            self._wake_up()
        return True

    def wait(self):
        """Until the helper finished the last job: its result; its exception as RuntimeError, HelperDied if it
        exited."""
        ctl, seq = self.ctl, self.seq
        spins, start = 0, None
        while ctl[DONE] != seq:
            spins += 1
            if spins & 1023:
                continue
            now = time.perf_counter()
            if start is None:
                start, last_poll = now, now
            if ctl[ACK] != seq and now - start > _REWAKE_SECONDS:
                self._wake_up()
            if now - last_poll > _POLL_SECONDS:
                last_poll = now
                if self.proc.poll() is not None:
                    raise HelperDied(f"the helper process exited with code {self.proc.returncode}")
        n = int(ctl[OUT_LENGTH])
        if ctl[FAILED]:
            message = bytes(self.arena.map[OUT_AT:OUT_AT + n]).decode("utf-8", "replace")
            raise RuntimeError(f"a job on the helper process failed:\n{message}")
        return pickle.loads(self.arena.map[OUT_AT:OUT_AT + n]) if n else None

    def _wake_up(self):
        try:
            os.write(self._wake, b"\0")
        except (BlockingIOError, BrokenPipeError):
            pass  # pipe full (the helper will wake) or helper gone (wait() notices)

    def close(self, timeout=2.0):
        """Ask the helper to exit and reap it (killed if it does not exit within ``timeout``)."""
        self.ctl[STOP] = 1
        self._wake_up()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._wake)

    def forget(self):
        """In a forked child: the helper belongs to the parent; drop the wake pipe without touching the helper."""
        try:
            os.close(self._wake)
        except OSError:
            pass
