"""Adam and AdamW: bias-corrected first and second moment estimates, optionally AMSGrad."""
import numpy as np

from .. import parallel
from ..tensor import Tensor
from .optimizer import (Optimizer, _bump_step, _check_lr, _closure_loss, _compute_dtype, _direction,
                        _direction_code, _grads, _is_numpy, _kernel, _lerp_code, _new_step, _value, _xp,
                        _zeros_like)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam. ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2), or with
    ``decoupled_weight_decay=True`` shrinks ``p`` by ``1 - lr * weight_decay`` each step (AdamW)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
            if not 0.0 <= _value(beta) < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            beta1, beta2 = (_value(b) for b in group["betas"])
            eps, wd = group["eps"], _value(group["weight_decay"])
            amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
            shareable = []  # updates the helper process can take: (arrays, scalars)
            for p, g in _grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros_like(p._data)
                    state["exp_avg_sq"] = _zeros_like(p._data)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p._data)
                step = _bump_step(state)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                vmax = state["max_exp_avg_sq"] if amsgrad else None
                bc1 = 1 - beta1 ** step
                bc2_sqrt = (1 - beta2 ** step) ** 0.5
                scalars = (lr, beta1, beta2, eps, wd, lr / bc1, bc2_sqrt, maximize, decoupled)
                if vmax is None and _in_helper_arena(g, p, m, v):
                    shareable.append(((p._data, g, m._data, v._data), scalars))
                else:
                    _adam_update(p._data, g, m._data, v._data, None if vmax is None else vmax._data, *scalars)
                for t in (p, m, v) if vmax is None else (p, m, v, vmax):
                    t._vc[0] += 1
            _adam_updates_shared(shareable)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay`` each step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def _in_helper_arena(g, *tensors):
    """Whether the helper process can update ``tensors`` in place with gradient ``g``: all lie in its arena (large
    NumPy parameters and moments move there on their first update while it takes jobs)."""
    if not parallel.is_enabled() or type(g) is not np.ndarray:
        return False
    for t in tensors:
        t._data = parallel.to_arena(t._data)
    arena = parallel._state["arena"]
    return all(arena.offset_of(a) is not None for a in (g,) + tuple(t._data for t in tensors))


def _adam_updates_shared(updates):
    """The updates of parameters in the helper's arena: whole parameters on each process, the two shares balanced
    by size (each parameter updated as ``_adam_update`` does, bit for bit)."""
    if not updates:
        return
    sizes = np.cumsum([arrays[0].size for arrays, _ in updates])
    cut = max(1, min(int(np.searchsorted(sizes, sizes[-1] / 2)) + 1, len(updates) - 1))
    parallel.split(_adam_update_list, len(updates), [scalars for _, scalars in updates],
                   *(a for arrays, _ in updates for a in arrays), cut=cut)


def _adam_update_list(first, last, scalars, *arrays):
    """Updates ``first`` to ``last - 1``: ``arrays`` holds (p, g, m, v) of each in turn."""
    for i in range(first, last):
        p, g, m, v = arrays[4 * i:4 * i + 4]
        _adam_update(p, g, m, v, None, *scalars[i])


def _adam_update(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, step_size, bc2_sqrt, maximize, decoupled):
    if not _is_numpy(p):
        return _adam_cupy(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, step_size, bc2_sqrt, maximize, decoupled)
    xp = _xp(p)
    if wd and decoupled:
        p *= 1 - lr * wd
    d = _direction(xp, p, g, 0 if decoupled else wd, maximize)
    # Fewer and cheaper passes than the textbook sequence (same values up to rounding):
    # m = b1·m + (1-b1)·d; v = b2·v + (1-b2)·d², from t = (1-b1)·d as v += (t·t)·(1-b2)/(1-b1)²;
    # p -= (step_size·c)·m / (sqrt(v) + eps·c) with c = bc2_sqrt, i.e. step_size·m / (sqrt(v)/c + eps).
    tmp = xp.multiply(d, 1 - beta1, out=xp.empty_like(p))
    m *= beta1
    m += tmp
    v *= beta2
    if p.dtype.itemsize >= 4:
        xp.multiply(tmp, tmp, out=tmp)
        tmp *= (1 - beta2) / (1 - beta1) ** 2
    else:  # half precision: square d itself, (1-b1)·d underflows sooner
        xp.multiply(d, d, out=tmp)
        tmp *= 1 - beta2
    v += tmp
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
    xp.sqrt(v if vmax is None else vmax, out=tmp)
    tmp += eps * bc2_sqrt
    xp.divide(m, tmp, out=tmp)
    tmp *= step_size * bc2_sqrt
    p -= tmp


def _adam_cupy(p, g, m, v, vmax, lr, beta1, beta2, eps, wd, step_size, bc2_sqrt, maximize, decoupled):
    code = _direction_code(maximize, wd != 0 and not decoupled)
    code += " C pv = (C)p * decay;" if wd and decoupled else " C pv = (C)p;"
    code += _lerp_code("mv", "(C)m", "d", "w1") + " m = (T)mv;"
    code += " C vv = (C)v * b2 + b2c * d * d; v = (T)vv;"
    if vmax is not None:
        code += " C mx = fmax((C)vmax, vv); vmax = (T)mx; C den = sqrt(mx) / bc2s + eps;"
    else:
        code += " C den = sqrt(vv) / bc2s + eps;"
    code += " p = (T)(pv - step_size * (mv / den));"
    outs = "T p, T m, T v" + ("" if vmax is None else ", T vmax")
    kernel = _kernel("T g, C wd, C decay, C w1, C b2, C b2c, C eps, C step_size, C bc2s", outs, code,
                     "zoo_adam", _compute_dtype(p))
    args = (g, wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps, step_size, bc2_sqrt, p, m, v)
    kernel(*(args if vmax is None else args + (vmax,)))
