"""The helper process's main loop (``python -m zoo.core.parallel.helper_loop FD NBYTES WAKE_FD PARENT_PID``).

It maps the arena from the inherited file descriptor, then takes jobs until asked to stop or until its parent is
gone: spinning on the control block while jobs come, sleeping on the wake pipe after ``SPIN_SECONDS`` without one.
"""
import importlib
import os
import pickle
import select
import signal
import sys
import time
import traceback

from .arena import CONTROL_BYTES, Arena
from .helper import (ACK, DESC_AT, DONE, FAILED, LENGTH, OUT_AT, OUT_LENGTH, READY, SEQ, SLEEPING, SPIN_SECONDS, STOP,
                     rebuild)


def _function(cache, module, qualname):
    fn = cache.get((module, qualname))
    if fn is None:
        fn = importlib.import_module(module)
        for part in qualname.split("."):
            fn = getattr(fn, part)
        cache[(module, qualname)] = fn
    return fn


def _wait_for_job(ctl, seen, wake, parent):
    """Spin until job ``seen + 1`` is posted; after SPIN_SECONDS sleep on the wake pipe. False: time to exit."""
    spins, deadline = 0, None
    while ctl[SEQ] == seen:
        if ctl[STOP]:
            return False
        spins += 1
        if spins & 4095:
            continue
        now = time.perf_counter()
        if deadline is None:
            deadline = now + SPIN_SECONDS
        elif now > deadline:
            ctl[SLEEPING] = 1
            while ctl[SEQ] == seen and not ctl[STOP]:
                readable, _, _ = select.select([wake], [], [], 1.0)
                if readable and not os.read(wake, 4096):
                    return False  # every write end closed: the parent is gone
                if os.getppid() != parent:
                    return False
            ctl[SLEEPING] = 0
            spins, deadline = 0, None
    return not ctl[STOP]


def main(argv):
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what happens, and the helper
    # exits with it (or when asked to stop), without a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd, nbytes, wake, parent = (int(a) for a in argv)
    arena = Arena(nbytes, fd)
    ctl = arena.control
    functions = {}
    seen = int(ctl[SEQ])
    ctl[READY] = 1
    while _wait_for_job(ctl, seen, wake, parent):
        seen = int(ctl[SEQ])
        ctl[ACK] = seen
        try:
            module, qualname, start, stop, described = pickle.loads(arena.map[DESC_AT:DESC_AT + int(ctl[LENGTH])])
            result = _function(functions, module, qualname)(start, stop, *rebuild(arena, described))
            out = b"" if result is None else pickle.dumps(result, protocol=5)
            if OUT_AT + len(out) > CONTROL_BYTES:
                raise ValueError(f"the job's result takes {len(out)} bytes pickled; at most "
                                 f"{CONTROL_BYTES - OUT_AT} fit in the control block")
            arena.map[OUT_AT:OUT_AT + len(out)] = out
            ctl[OUT_LENGTH] = len(out)
            ctl[FAILED] = 0
        except BaseException:  # reported to the caller, which raises it; the helper takes the next job
            message = traceback.format_exc().encode("utf-8")[:CONTROL_BYTES - OUT_AT]
            arena.map[OUT_AT:OUT_AT + len(message)] = message
            ctl[OUT_LENGTH] = len(message)
            ctl[FAILED] = 1
        ctl[DONE] = seen


if __name__ == "__main__":
    main(sys.argv[1:])
