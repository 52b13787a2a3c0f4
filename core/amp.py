"""Mixed precision: ``autocast`` (matmul/conv/linear/attention in float16, softmax and losses in float32) and
``GradScaler`` (dynamic loss scaling that skips steps whose gradients overflowed), as in ``torch.amp``.

Ops that run in float16 declare it with the class attribute ``amp = "low"`` of their autograd Function, and ops
that must run in float32 (PyTorch's CUDA autocast list: sum, prod, cumsum, norm, exp, log, pow, rsqrt,
reciprocal, softplus, layer_norm, group_norm ...) with ``amp = "float32"``: the inputs are cast as the node is
built, and the engine hands gradients back in each input's own dtype. Composite functions that must run in
float32 (softmax, the losses) are wrapped with ``autocast_float32``, which widens their float16 tensor arguments.
"""
import functools
import warnings

import numpy as np

from . import dtypes
from .autograd.grad_mode import _mode, no_grad
from .tensor import Tensor

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "GradScaler"]


class autocast:
    """``with zoo.autocast("cuda"):`` — float16 for the matmul-like ops on that device type.

    ``device_type`` is "cuda" or "cpu"; ``dtype`` defaults to float16 on both (zoo has no bfloat16; float16
    matmul on the CPU is slow, autocast there exists for portability and testing)."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if device_type not in ("cuda", "cpu"):
            raise RuntimeError(f"autocast: device_type must be 'cuda' or 'cpu', got {device_type!r}")
        d = dtypes.float16 if dtype is None else dtypes.as_dtype(dtype)
        if d is not dtypes.float16:
            raise NotImplementedError(f"autocast to {d} is not supported by zoo (float16 is)")
        self.device_type, self.fast_dtype, self.enabled = device_type, d, bool(enabled)

    def __enter__(self):
        self._prev = _mode.autocast
        _mode.autocast = (self.device_type, self.fast_dtype.numpy) if self.enabled else None
        return self

    def __exit__(self, *exc):
        _mode.autocast = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self.enabled):
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_enabled(device_type=None):
    state = _mode.autocast
    return state is not None and (device_type is None or state[0] == device_type)


def get_autocast_dtype(device_type):
    return dtypes.float16


def cast_inputs(fn, arrays, inputs):
    """Cast the floating point tensor inputs of an ``amp = "low"`` op to the autocast dtype, or the float16 inputs
    of an ``amp = "float32"`` op to float32; remember their dtypes so the engine casts the gradients back."""
    device_type, low = _mode.autocast
    widen = fn.amp == "float32"
    target = np.float32 if widen else low
    on_gpu = device_type == "cuda"
    cast_back = None
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            continue
        a = arrays[i]
        if a.dtype.kind != "f" or a.dtype == target or (widen and a.dtype != low) or (type(a) is not np.ndarray) != on_gpu:
            continue
        if cast_back is None:
            cast_back = [None] * len(arrays)
        cast_back[i] = a.dtype
        arrays[i] = a.astype(target)
    fn._cast_back = cast_back


def autocast_float32(fn):
    """Run ``fn`` in float32 under autocast: its float16 tensor arguments on the autocast device are widened."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _mode.autocast is not None:
            args = [_widen(a) for a in args]
            kwargs = {k: _widen(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)
    return wrapper


def _widen(x):
    if isinstance(x, Tensor) and x._data.dtype == np.float16 and (x.is_cuda == (_mode.autocast[0] == "cuda")):
        return x.float()
    return x


class GradScaler:
    """Dynamic loss scaling: ``scaler.scale(loss).backward(); scaler.step(opt); scaler.update()``.

    Steps whose unscaled gradients hold inf/NaN are skipped and the scale backs off; after ``growth_interval``
    good steps it grows."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if enabled and str(device).startswith("cuda"):
            from . import cuda
            if not cuda.is_available():
                warnings.warn("GradScaler is enabled, but CUDA is not available. Disabling.")
                enabled = False
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer = {}

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """Multiply a loss (or a list/tuple of them) by the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        return type(outputs)(self.scale(o) for o in outputs)

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale in place and record whether any is inf/NaN."""
        if not self._enabled:
            return
        state = self._per_optimizer.setdefault(id(optimizer), {"unscaled": False, "found_inf": False})
        if state["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        inv = 1.0 / self._scale
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad._data
                    g *= g.dtype.type(inv)
                    if not bool(_xp(g).isfinite(g).all()):
                        found = True
        state["unscaled"], state["found_inf"] = True, found

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and step, unless the gradients overflowed."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        state = self._per_optimizer.get(id(optimizer))
        if state is None or not state["unscaled"]:
            self.unscale_(optimizer)
            state = self._per_optimizer[id(optimizer)]
        if state["found_inf"]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Back off after an overflow, grow after ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        elif any(s["found_inf"] for s in self._per_optimizer.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._per_optimizer.clear()

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def _xp(a):
    from .device import array_module
    return array_module(a)
