"""The Optimizer base class: parameter groups, per-parameter state, state dicts and step hooks.

Optimizers update parameters directly on their arrays (NumPy on cpu, CuPy on cuda), outside autograd: each
update is a handful of in-place ufuncs, or one fused CuPy kernel, per tensor. The state dict layout is
PyTorch's (parameters replaced by integer ids), so checkpoints resume exactly and match torch's structure.
"""
import copy
import functools
import itertools
import re
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from ..utils.hooks import add_hook

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyper-parameter that every param group must give (no default)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so step pre/post hooks run around it (once, even if steps nest)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True  # read by LR schedulers to warn when they step before the optimizer
        if self._in_step:
            return step(self, *args, **kwargs)
        for hook in list(self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"optimizer step pre-hook must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}")
                args, kwargs = result
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in list(self._optimizer_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper._with_step_hooks = True
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param groups) that hold
    ``"params"`` and per-group options overriding ``defaults``.
    """
    _in_step = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_with_step_hooks", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        if defaults.get("differentiable"):
            raise NotImplementedError("differentiable=True (optimizer steps recorded by autograd) is not "
                                      "supported by zoo")
        self.defaults = defaults
        self._init_hooks()
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if not param_groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _init_hooks(self):
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            self._init_hooks()

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # --- param groups -----------------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if p.grad_fn is not None and not p.retains_grad:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter "
                                 f"{name}")
            param_group.setdefault(name, default)
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each is updated once "
                          "per occurrence", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. cannot add param "
                                 f"group {which} to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: drop them (``set_to_none=True``) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g.grad_fn = None
                    g._requires_grad = False
                    g._data.fill(0)
                    g._vc[0] += 1

    def step(self, closure=None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # --- state dicts ------------------------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {id: {...}}, "param_groups": [{options..., "params": [ids]}]}`` (ids in group order)."""
        for hook in list(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        ids = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                ids.setdefault(id(p), len(ids))
            packed["params"] = [ids[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(ids[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in list(self._optimizer_state_dict_post_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state dict from :meth:`state_dict` (or PyTorch's layout); state tensors are copied onto
        each parameter's device and (except ``step``) into its dtype."""
        state_dict = dict(state_dict)
        for hook in list(self._optimizer_load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"optimizer state dict has no '{key}' entry (keys: {sorted(state_dict)})")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(s['params'])} params in the state dict and "
                                 f"{len(g['params'])} in the optimizer")
        id_map = dict(zip(itertools.chain.from_iterable(s["params"] for s in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast_state(param, k, key, value) for key, value in v.items()}
            else:
                state[k] = copy.deepcopy(v)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups
        for hook in list(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)

    # --- hooks ------------------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` runs before each ``step``."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs before ``state_dict`` builds the dict."""
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None or state_dict`` runs on the dict ``state_dict`` returns."""
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None or state_dict`` runs before ``load_state_dict`` reads it."""
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs after ``load_state_dict``."""
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)


def _cast_state(param, param_id, key, value):
    """A private copy of one loaded state entry: tensors moved to the parameter's device (and dtype, but the
    ``step`` counter keeps its own), with a clear error when a buffer's shape does not fit the parameter."""
    if key == "step":  # kept as a 0-d float32 cpu tensor, whatever the checkpoint stored
        return Tensor._make(np.array(_value(value) if isinstance(value, Tensor) else value, np.float32))
    if isinstance(value, np.ndarray):
        value = Tensor._make(value)
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if value._data.shape != param._data.shape:
        raise ValueError(f"loaded optimizer state '{key}' of parameter {param_id} has shape "
                         f"{tuple(value._data.shape)}, but the parameter has shape {tuple(param._data.shape)}")
    dtype = param.dtype if param.is_floating_point() else None
    return value.to(device=param.device, dtype=dtype, copy=True)


# --- helpers shared by the optimizers -----------------------------------------------------------------------
def _closure_loss(closure):
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _value(x):
    """A hyper-parameter as a Python number (``lr`` may be a 1-element tensor, as in PyTorch)."""
    return x.item() if isinstance(x, Tensor) else x


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= _value(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


def _grads(group):
    """``(param, grad array)`` for the group's params that have a gradient, checked against the param."""
    out = []
    for p in group["params"]:
        g = p.grad
        if g is None:
            continue
        d, gd = p._data, g._data
        if gd.shape != d.shape or gd.dtype != d.dtype or type(gd) is not type(d):
            raise RuntimeError(f"the gradient of a parameter of shape {tuple(d.shape)}, dtype {d.dtype}, device "
                               f"{p.device} has shape {tuple(gd.shape)}, dtype {gd.dtype}, device {g.device}; "
                               f"they must match")
        out.append((p, gd))
    return out


def _new_step():
    """The step counter: a 0-d float32 cpu tensor, as PyTorch keeps it."""
    return Tensor._make(np.zeros((), np.float32))


def _bump_step(state):
    """Add one to the parameter's step counter and return the new count as a Python float."""
    step = state["step"]
    step._data += 1
    return float(step._data)


def _zeros_like(a):
    return Tensor._make(_xp(a).zeros_like(a))


def _xp(a):
    from ..device import array_module
    return array_module(a)


def _is_numpy(a):
    return type(a) is np.ndarray


@functools.lru_cache(maxsize=None)
def _kernel(in_params, out_params, body, name, compute):
    """A cached CuPy ElementwiseKernel. ``C`` in the parameter lists is the compute dtype (float32 for
    float16/float32 params, float64 for float64 ones) and ``C`` in the body its C type."""
    from ..device import cupy_module
    ctype = "double" if compute == "float64" else "float"
    return cupy_module().ElementwiseKernel(re.sub(r"\bC\b", compute, in_params), out_params,
                                           re.sub(r"\bC\b", ctype, body), name)


def _compute_dtype(a):
    return "float64" if a.dtype == np.float64 else "float32"


def _lerp_(xp, out, end, weight, tmp):
    """``out += weight * (end - out)`` in place, with PyTorch's formula for weights >= 0.5."""
    xp.subtract(end, out, out=tmp)
    if weight < 0.5:
        tmp *= weight
        out += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=out)


def _lerp_code(out, start, end, weight):
    """CUDA for ``out = lerp(start, end, weight)`` with PyTorch's two formulas (``weight`` is a host scalar)."""
    return (f" C {out} = {weight} < 0.5 ? {start} + {weight} * ({end} - {start})"
            f" : {end} - ({end} - {start}) * (1 - {weight});")


def _direction_code(maximize, coupled_wd):
    code = "C d = " + ("-(C)g;" if maximize else "(C)g;")
    if coupled_wd:
        code += " d += wd * (C)p;"
    return code


def _direction(xp, p, g, wd, maximize):
    """The gradient after ``maximize`` and L2 weight decay (``g`` itself when neither applies; never written)."""
    if wd:
        d = p * wd
        if maximize:
            d -= g
        else:
            d += g
        return d
    return xp.negative(g) if maximize else g
