"""zoo.cuda: CUDA device queries through CuPy (imported on first use; everything answers sanely without it)."""
from .device import cupy_module
from .random import _cuda_generators, generator_for

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats", "empty_cache", "manual_seed",
           "manual_seed_all", "get_device_name"]

_peak = {}


def _cupy_or_none():
    try:
        return cupy_module()
    except RuntimeError:
        return None


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return device_count() > 0


def device_count():
    cp = _cupy_or_none()
    if cp is None:
        return 0
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:  # CuPy without a driver or GPU raises CUDARuntimeError
        return 0


def _require():
    if not is_available():
        raise RuntimeError("CUDA is not available: install CuPy (zoo[gpu]) on a machine with an NVIDIA GPU")
    return cupy_module()


def current_device():
    return _require().cuda.runtime.getDevice()


def set_device(device):
    from .device import as_device
    d = as_device(device) if not isinstance(device, int) else None
    _require().cuda.runtime.setDevice(device if isinstance(device, int) else d._idx())


def get_device_name(device=None):
    cp = _require()
    idx = cp.cuda.runtime.getDevice() if device is None else int(str(device).split(":")[-1])
    return cp.cuda.runtime.getDeviceProperties(idx)["name"].decode()


def synchronize(device=None):
    """Wait for all queued GPU work (the only place zoo synchronises the host)."""
    _require().cuda.Device().synchronize()


def memory_allocated(device=None):
    """Bytes held by live tensors in CuPy's memory pool."""
    if not is_available():
        return 0
    used = cupy_module().get_default_memory_pool().used_bytes()
    _peak[0] = max(_peak.get(0, 0), used)
    return used


def max_memory_allocated(device=None):
    memory_allocated(device)
    return _peak.get(0, 0)


def reset_peak_memory_stats(device=None):
    _peak.clear()


def memory_reserved(device=None):
    if not is_available():
        return 0
    return cupy_module().get_default_memory_pool().total_bytes()


def empty_cache():
    if is_available():
        cupy_module().get_default_memory_pool().free_all_blocks()


def manual_seed(seed):
    generator_for_current = generator_for
    from .device import device
    generator_for_current(device("cuda", current_device())).manual_seed(seed)


def manual_seed_all(seed):
    for i in range(device_count()):
        from .device import device
        generator_for(device("cuda", i)).manual_seed(seed)
    for g in _cuda_generators.values():
        g.manual_seed(seed)


def __getattr__(name):
    if name == "amp":  # torch.cuda.amp
        from . import cuda_amp
        return cuda_amp
    raise AttributeError(f"module 'zoo.cuda' has no attribute '{name}'")
