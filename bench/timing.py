"""The timing every benchmark here shares: the median of repeated calls after warm-up."""
import statistics
import time


def median_seconds(fn, sync=None, warmup=2, repeat=7):
    """Median seconds of ``fn()`` over ``repeat`` calls after ``warmup`` calls; ``sync()`` (a device
    synchronisation) runs after each call, so asynchronous GPU work is timed whole."""
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
