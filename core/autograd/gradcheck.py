"""Numerical gradient checking, like ``torch.autograd.gradcheck``."""
import numpy as np


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0):
    """Compare analytic gradients of ``func(*inputs)`` with central finite differences.

    Every floating point input that requires grad is perturbed element by element; every output element
    is checked (a random projection of the outputs is backpropagated once per output element). Use float64
    inputs. Returns True, or raises (or returns False) with the worst mismatch.
    """
    from ..tensor import Tensor
    from . import grad as autograd_grad

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for x in diff_inputs:
        if x._data.dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input of dtype {x.dtype} is not double precision; results may be "
                          f"unreliable", stacklevel=2)

    def outputs():
        out = func(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f"]

    outs = outputs()
    # Analytic Jacobian, one output element at a time.
    analytic = []
    for oi, o in enumerate(outs):
        n_out = o._data.size
        rows = [np.zeros((n_out, x._data.size)) for x in diff_inputs]
        if o.grad_fn is not None or o.requires_grad:
            for k in range(n_out):
                seed = np.zeros(o._data.shape, dtype=o._data.dtype)
                seed.reshape(-1)[k] = 1
                seed = _like_device(seed, o._data)
                fresh = outputs()[oi]
                gs = autograd_grad([fresh], diff_inputs, [Tensor._make(seed)], allow_unused=True)
                for r, g in zip(rows, gs):
                    if g is not None:
                        r[k] = _host(g._data).reshape(-1)
        analytic.append(rows)

    # Numerical Jacobian by central differences.
    for xi, x in enumerate(diff_inputs):
        data = x._data  # perturbed in place, element by element (any memory layout)
        for j in range(data.size):
            idx = np.unravel_index(j, data.shape)
            orig = data[idx].item()
            data[idx] = orig + eps
            plus = [_host(o._data).reshape(-1).copy() for o in outputs()]
            data[idx] = orig - eps
            minus = [_host(o._data).reshape(-1).copy() for o in outputs()]
            data[idx] = orig
            for oi, (p, m) in enumerate(zip(plus, minus)):
                numeric = (p - m) / (2 * eps)
                a = analytic[oi][xi][:, j]
                bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
                if bad.any():
                    k = int(np.argmax(np.abs(a - numeric)))
                    msg = (f"Jacobian mismatch for output {oi} with respect to input {xi}, at input element {j} "
                           f"and output element {k}:\nnumerical: {numeric[k]!r}\nanalytical: {a[k]!r}")
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
    return True


class GradcheckError(RuntimeError):
    pass


def _host(a):
    return a if type(a) is np.ndarray else a.get()


def _like_device(a, ref):
    if type(ref) is np.ndarray:
        return a
    from ..device import cupy_module
    return cupy_module().asarray(a)
