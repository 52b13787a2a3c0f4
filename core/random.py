"""Random number generation: ``Generator`` objects (NumPy PCG64 on cpu, CuPy on cuda), the default generators,
``manual_seed``, and the sampling creation functions (rand, randn, randint, randperm, normal, bernoulli,
multinomial)."""
import json
import os

import numpy as np

from . import dtypes
from .device import as_device, cupy_module
from .tensor import Tensor

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator",
           "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "rand_like", "randn_like",
           "randint_like", "poisson"]

_DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded random stream for one device, like ``torch.Generator``."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._seed = _DEFAULT_SEED
        self._rng = None

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFF_FFFF_FFFF_FFFF
        self._seed = seed
        self._rng = None
        return self

    def seed(self):
        self.manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)
        return self._seed

    def initial_seed(self):
        return self._seed

    @property
    def rng(self):
        """The NumPy / CuPy generator that does the sampling."""
        if self._rng is None:
            if self.device.type == "cpu":
                self._rng = np.random.Generator(np.random.PCG64(self._seed))
            else:
                cp = cupy_module()
                with cp.cuda.Device(self.device._idx()):
                    self._rng = cp.random.default_rng(self._seed)
        return self._rng

    def get_state(self):
        """The generator's full state as a uint8 tensor (JSON bytes), restorable with ``set_state``."""
        if self.device.type != "cpu":
            raise NotImplementedError("get_state of a cuda Generator is not supported by zoo; re-seed it instead")
        state = {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}
        return Tensor._make(np.frombuffer(json.dumps(state).encode(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        state = json.loads(bytes(np.asarray(new_state._data if isinstance(new_state, Tensor) else new_state,
                                            dtype=np.uint8)).decode())
        self._seed = state["seed"]
        self._rng = None
        self.rng.bit_generator.state = state["bit_generator"]
        return self

    def __repr__(self):
        return f"<zoo.Generator device={self.device} seed={self._seed}>"


default_generator = Generator("cpu")
_cuda_generators = {}


def generator_for(device, generator=None):
    if generator is not None:
        if generator.device != device:
            raise RuntimeError(f"Expected a '{device.type}' device type for generator but found "
                               f"'{generator.device.type}'")
        return generator
    if device.type == "cpu":
        return default_generator
    idx = device._idx()
    g = _cuda_generators.get(idx)
    if g is None:
        g = _cuda_generators[idx] = Generator(f"cuda:{idx}")
        g.manual_seed(default_generator.initial_seed())
    return g


def manual_seed(seed):
    """Seed every default generator (cpu and all cuda devices); returns the cpu generator."""
    default_generator.manual_seed(seed)
    for g in _cuda_generators.values():
        g.manual_seed(seed)
    return default_generator


def seed():
    s = default_generator.seed()
    for g in _cuda_generators.values():
        g.manual_seed(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


# --- sampling ---------------------------------------------------------------------------------------------------

def _float_dtype(dtype):
    d = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"expected a floating point dtype for this random function, got {d}")
    return d.numpy


def _sampled(array, dtype, requires_grad):
    if array.dtype != dtype:
        array = array.astype(dtype)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True
    return t


def _shape(size):
    from .ops._util import shape_arg
    return shape_arg(size)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    dt = _float_dtype(dtype)
    dev = as_device(device)
    rng = generator_for(dev, generator).rng
    gen_dt = dt if dt in (np.float32, np.float64) else np.float32
    return _sampled(rng.random(_shape(size), dtype=gen_dt), dt, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    dt = _float_dtype(dtype)
    dev = as_device(device)
    rng = generator_for(dev, generator).rng
    gen_dt = dt if dt in (np.float32, np.float64) else np.float32
    return _sampled(rng.standard_normal(_shape(size), dtype=gen_dt), dt, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high); ``randint(high, size)`` and ``randint(low, high, size)`` as in PyTorch."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    rng = generator_for(as_device(device), generator).rng
    return _sampled(rng.integers(low, high, size=_shape(size)), d.numpy, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    rng = generator_for(as_device(device), generator).rng
    return _sampled(rng.permutation(int(n)), d.numpy, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples; ``mean``/``std`` may be tensors (elementwise, broadcast) or numbers with ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        z = randn(shape, generator=generator, dtype=ref.dtype, device=ref.device)
        from .ops.pointwise import add, mul
        return add(mul(z, std), mean).detach()
    if size is None:
        raise TypeError("normal(): with float mean and std, a size is required")
    z = randn(size, generator=generator, dtype=dtype, device=device)
    out = Tensor._make(z._data * z._data.dtype.type(std) + z._data.dtype.type(mean))
    if requires_grad:
        out.requires_grad = True
    return out


def bernoulli(input, p=None, *, generator=None):
    """Samples 1 with probability ``input`` (or ``p``) elementwise, in the input's dtype."""
    probs = input._data if p is None else p
    dev = input.device
    rng = generator_for(dev, generator).rng
    u = rng.random(input._data.shape, dtype=np.float64 if input._data.dtype == np.float64 else np.float32)
    return Tensor._make((u < probs).astype(input._data.dtype))


def poisson(input, generator=None):
    rng = generator_for(input.device, generator).rng
    return Tensor._make(rng.poisson(input._data).astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from (unnormalised) probability rows, with or without replacement."""
    p = input._data
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {p.ndim}")
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got {input.dtype.name}")
    xp = np if type(p) is np.ndarray else cupy_module()
    rows = p.reshape(1, -1) if p.ndim == 1 else p
    if bool((rows < 0).any()) or not bool(xp.isfinite(rows).all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"(got {num_samples} > {n_cat})")
    sums = rows.sum(axis=1, keepdims=True)
    if bool((sums <= 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = generator_for(input.device, generator).rng
    rows = rows.astype(np.float64) / sums
    if replacement:
        cdf = xp.cumsum(rows, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        idx = xp.stack([xp.searchsorted(cdf[i], u[i], side="right") for i in range(rows.shape[0])])
    else:
        # Gumbel top-k: the k largest of log p + Gumbel noise are a sample without replacement.
        g = -xp.log(-xp.log(rng.random(rows.shape)))
        with np.errstate(divide="ignore"):
            keys = xp.log(rows) + g
        idx = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    idx = xp.minimum(idx, n_cat - 1).astype(np.int64)
    return Tensor._make(idx.reshape(num_samples) if p.ndim == 1 else idx)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with uniform samples on [a, b) in place (used by zoo.nn.init)."""
    from .autograd.grad_mode import _mode
    if _mode.grad_enabled:
        self._check_inplace()
    rng = generator_for(self.device, generator).rng
    gen_dt = np.float64 if self._data.dtype == np.float64 else np.float32
    self._data[...] = rng.random(self._data.shape, dtype=gen_dt) * (b - a) + a
    self._vc[0] += 1
    return self


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples in place (used by zoo.nn.init)."""
    from .autograd.grad_mode import _mode
    if _mode.grad_enabled:
        self._check_inplace()
    rng = generator_for(self.device, generator).rng
    gen_dt = np.float64 if self._data.dtype == np.float64 else np.float32
    self._data[...] = rng.standard_normal(self._data.shape, dtype=gen_dt) * std + mean
    self._vc[0] += 1
    return self


def bernoulli_(self, p=0.5, *, generator=None):
    rng = generator_for(self.device, generator).rng
    p = p._data if isinstance(p, Tensor) else p
    self._data[...] = rng.random(self._data.shape) < p
    self._vc[0] += 1
    return self


def exponential_(self, lambd=1.0, *, generator=None):
    rng = generator_for(self.device, generator).rng
    self._data[...] = rng.exponential(1.0 / lambd, self._data.shape)
    self._vc[0] += 1
    return self

