"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay."""
from ..tensor import Tensor
from .optimizer import (Optimizer, _check_lr, _closure_loss, _compute_dtype, _direction, _direction_code, _grads,
                        _is_numpy, _kernel, _value, _xp)

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p -= lr * v`` where ``v`` is the gradient (plus ``weight_decay * p``), or its momentum buffer
    ``buf = momentum * buf + (1 - dampening) * grad`` (Nesterov: ``grad + momentum * buf``)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            wd = _value(group["weight_decay"])
            momentum, dampening = group["momentum"], group["dampening"]
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p, g in _grads(group):
                buf = first = None
                if momentum != 0:  # plain SGD keeps no state at all
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    first = buf is None
                    if first:
                        buf = Tensor._make(_xp(g).empty_like(g))
                        state["momentum_buffer"] = buf
                _sgd_update(p._data, g, None if buf is None else buf._data, lr, wd, momentum, dampening, nesterov,
                            maximize, first)
                p._vc[0] += 1
                if buf is not None:
                    buf._vc[0] += 1
        return loss


def _sgd_update(p, g, buf, lr, wd, momentum, dampening, nesterov, maximize, first):
    if not _is_numpy(p):
        return _sgd_cupy(p, g, buf, lr, wd, momentum, dampening, nesterov, maximize, first)
    d = _direction(_xp(p), p, g, wd, maximize)
    if buf is not None:
        if first:
            buf[...] = d
        else:
            buf *= momentum
            buf += d if dampening == 0 else d * (1 - dampening)
        if nesterov:
            d = d + momentum * buf
        else:
            d = buf
    p -= lr * d


def _sgd_cupy(p, g, buf, lr, wd, momentum, dampening, nesterov, maximize, first):
    code = _direction_code(maximize, wd != 0)
    if buf is None:
        code += " p = (T)((C)p - lr * d);"
        _kernel("T g, C lr, C wd", "T p", code, "zoo_sgd", _compute_dtype(p))(g, lr, wd, p)
        return
    if first:
        code += " C b = d;"
    else:
        code += " C b = mom * (C)buf + damp1 * d;"
    code += " buf = (T)b;"
    code += " p = (T)((C)p - lr * (d + mom * b));" if nesterov else " p = (T)((C)p - lr * b);"
    _kernel("T g, C lr, C wd, C mom, C damp1", "T p, T buf", code, "zoo_sgd_momentum", _compute_dtype(p))(
        g, lr, wd, momentum, 1 - dampening, p, buf)
