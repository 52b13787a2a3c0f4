"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _bump_step, _check_lr, _closure_loss, _compute_dtype, _direction,
                        _direction_code, _grads, _is_numpy, _kernel, _new_step, _value, _xp)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``sum += g**2``; ``p -= clr * g / (sqrt(sum) + eps)`` with ``clr = lr / (1 + (step - 1) * lr_decay)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # Like PyTorch, the state exists from construction on (so a fresh state_dict already holds it).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group["initial_accumulator_value"])

    def _init_state(self, p, initial_value):
        state = self.state[p]
        state["step"] = _new_step()
        state["sum"] = Tensor._make(_xp(p._data).full_like(p._data, initial_value))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, wd = _value(group["lr"]), _value(group["weight_decay"])
            lr_decay, eps, maximize = group["lr_decay"], group["eps"], group["maximize"]
            for p, g in _grads(group):
                state = self.state[p]
                if not state:  # a param group added after construction
                    self._init_state(p, group["initial_accumulator_value"])
                step = _bump_step(state)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]
                _adagrad_update(p._data, g, s._data, clr, eps, wd, maximize)
                p._vc[0] += 1
                s._vc[0] += 1
        return loss


def _adagrad_update(p, g, s, clr, eps, wd, maximize):
    if not _is_numpy(p):
        code = _direction_code(maximize, wd != 0)
        code += " C acc = (C)s + d * d; s = (T)acc; p = (T)((C)p - clr * (d / (sqrt(acc) + eps)));"
        _kernel("T g, C clr, C wd, C eps", "T p, T s", code, "zoo_adagrad", _compute_dtype(p))(g, clr, wd, eps, p, s)
        return
    d = _direction(np, p, g, wd, maximize)
    tmp = np.empty_like(p)
    np.multiply(d, d, out=tmp)
    s += tmp
    np.sqrt(s, out=tmp)
    tmp += eps
    np.divide(d, tmp, out=tmp)
    tmp *= clr
    p -= tmp
