"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from .optimizer import (Optimizer, _bump_step, _check_lr, _closure_loss, _compute_dtype, _direction,
                        _direction_code, _grads, _is_numpy, _kernel, _lerp_, _lerp_code, _new_step, _value, _xp,
                        _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``square_avg = alpha * square_avg + (1 - alpha) * g**2``; ``p -= lr * g / (sqrt(square_avg) + eps)``.
    ``centered`` subtracts the squared running mean of the gradient; ``momentum`` smooths the step."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, wd = _value(group["lr"]), _value(group["weight_decay"])
            alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
            centered, maximize = group["centered"], group["maximize"]
            for p, g in _grads(group):
                state = self.state[p]
                if not state:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p._data)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p._data)
                    if centered:
                        state["grad_avg"] = _zeros_like(p._data)
                _bump_step(state)
                sq = state["square_avg"]
                buf = state["momentum_buffer"] if momentum > 0 else None
                gavg = state["grad_avg"] if centered else None
                _rmsprop_update(p._data, g, sq._data, None if gavg is None else gavg._data,
                                None if buf is None else buf._data, lr, alpha, eps, wd, momentum, maximize)
                for t in (p, sq, buf, gavg):
                    if t is not None:
                        t._vc[0] += 1
        return loss


def _rmsprop_update(p, g, sq, gavg, buf, lr, alpha, eps, wd, momentum, maximize):
    if not _is_numpy(p):
        return _rmsprop_cupy(p, g, sq, gavg, buf, lr, alpha, eps, wd, momentum, maximize)
    xp = _xp(p)
    d = _direction(xp, p, g, wd, maximize)
    tmp = xp.empty_like(p)
    sq *= alpha
    xp.multiply(d, d, out=tmp)
    tmp *= 1 - alpha
    sq += tmp
    if gavg is not None:
        _lerp_(xp, gavg, d, 1 - alpha, tmp)
        xp.multiply(gavg, gavg, out=tmp)
        xp.subtract(sq, tmp, out=tmp)
        xp.sqrt(tmp, out=tmp)
    else:
        xp.sqrt(sq, out=tmp)
    tmp += eps
    xp.divide(d, tmp, out=tmp)
    if buf is not None:
        buf *= momentum
        buf += tmp
        p -= lr * buf
    else:
        tmp *= lr
        p -= tmp


def _rmsprop_cupy(p, g, sq, gavg, buf, lr, alpha, eps, wd, momentum, maximize):
    code = _direction_code(maximize, wd != 0)
    code += " C s = (C)sq * alpha + alpha1 * d * d; sq = (T)s;"
    if gavg is not None:
        code += _lerp_code("ga", "(C)gavg", "d", "alpha1") + " gavg = (T)ga; C den = sqrt(s - ga * ga) + eps;"
    else:
        code += " C den = sqrt(s) + eps;"
    if buf is not None:
        code += " C b = (C)buf * mom + d / den; buf = (T)b; p = (T)((C)p - lr * b);"
    else:
        code += " p = (T)((C)p - lr * (d / den));"
    outs = "T p, T sq" + ("" if gavg is None else ", T gavg") + ("" if buf is None else ", T buf")
    kernel = _kernel("T g, C lr, C wd, C alpha, C alpha1, C eps, C mom", outs, code, "zoo_rmsprop",
                     _compute_dtype(p))
    kernel(g, lr, wd, alpha, 1 - alpha, eps, momentum, p, sq, *(a for a in (gavg, buf) if a is not None))
