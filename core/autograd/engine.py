"""Reverse-mode traversal: run each node's backward once all gradients flowing into it are summed."""
import numpy as np

from .. import parallel
from ..parallel.arena import Arena
from .function import refresh_view
from .grad_mode import _mode

__all__ = ["run_backward"]

_generic = np.generic


def run_backward(roots, root_grads, retain_graph=False, inputs=None):
    """Backpropagate ``root_grads`` (arrays) from ``roots`` (Tensors).

    Leaves accumulate into ``.grad``; when ``inputs`` is given (``autograd.grad``), their gradients are
    returned instead and no ``.grad`` is touched.
    """
    from ..tensor import Tensor

    if root_grads:
        parallel.start_for_training(root_grads[0])
    grads = {}        # node -> summed incoming gradient (array)
    leaf_grads = {}   # leaf tensor -> summed gradient (array)
    mine = set()      # keys of grads / leaf_grads whose array the engine made and nothing else holds
    nodes = []
    for t, g in zip(roots, root_grads):
        if t._view is not None and t._view[2] != t._vc[0]:
            refresh_view(t)
        if t.grad_fn is None:
            if not t._requires_grad:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
            _add(leaf_grads, t, g)
        else:
            _add(grads, t.grad_fn, g)
            nodes.append(t.grad_fn)

    # Count, for every reachable node, how many edges point into it.
    deps = {}
    stack = list(dict.fromkeys(nodes))
    seen = set(stack)
    while stack:
        fn = stack.pop()
        nexts = fn.next_functions
        if nexts is None:
            raise _freed_error(fn)
        for nxt in nexts:
            if nxt is not None and not isinstance(nxt, Tensor):
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)

    ready = [fn for fn in dict.fromkeys(nodes) if fn not in deps]
    wanted = None if inputs is None else {id(t.grad_fn) if t.grad_fn is not None else id(t): t for t in inputs}
    captured = {}
    prev_mode = _mode.grad_enabled
    _mode.grad_enabled = False
    try:
        while ready:
            fn = ready.pop()
            g = grads.pop(fn)
            if isinstance(g, _generic):  # NumPy turns 0-d results into scalars
                g = np.asarray(g)
            if fn._hooks:
                for hook in fn._hooks:
                    r = hook(Tensor._make(g))
                    if r is not None:
                        g = r._data
            if fn._output_ref is not None:
                out = fn._output_ref()
                if out is not None:
                    if wanted is None:
                        _accumulate(out, g)
            if wanted is not None and id(fn) in wanted:
                captured[id(fn)] = g
            if fn.next_functions is None:
                raise _freed_error(fn)
            if fn._saved_versions:
                fn.check_saved_versions()
            nexts = fn.next_functions
            if fn._grad_into_key is not None and fn._cast_back is None and not _mode.anomaly:
                # A slice's gradient is g placed into zeros: when its input's summed gradient so far is an
                # array the engine owns, add g into that slice of it instead (no full-size zeros, no full add).
                nxt = nexts[0]
                if nxt is not None and nxt in mine and fn.needs_input_grad[0]:
                    table = leaf_grads if isinstance(nxt, Tensor) else grads
                    prev = table[nxt]
                    if prev.dtype == g.dtype and prev.shape == fn.in_shape:
                        prev[fn._grad_into_key()] += g
                        if not retain_graph and not fn.is_view:
                            fn.next_functions = None if fn.__dict__ else nexts
                            fn.__dict__.clear()
                        if not isinstance(nxt, Tensor):
                            deps[nxt] -= 1
                            if deps[nxt] == 0:
                                ready.append(nxt)
                        continue
            in_grads = fn.backward(g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if fn._cast_back is not None:  # autocast changed input dtypes: gradients go back in the original ones
                in_grads = tuple(g if d is None or g is None else g.astype(d)
                                 for g, d in zip(in_grads, fn._cast_back))
            if _mode.anomaly:
                _check_finite(fn, in_grads)
            fresh = fn._fresh_grads
            if not retain_graph and not fn.is_view:  # a view node keeps its parameters: views replay it
                fn.next_functions = None if fn.__dict__ else nexts
                fn.__dict__.clear()
            for nxt, gi, need in zip(nexts, in_grads, fn.needs_input_grad):
                if nxt is None or gi is None or not need:
                    continue
                if isinstance(nxt, Tensor):
                    _add_owned(leaf_grads, mine, nxt, gi, fresh)
                else:
                    _add_owned(grads, mine, nxt, gi, fresh)
                    deps[nxt] -= 1
                    if deps[nxt] == 0:
                        ready.append(nxt)
        if wanted is not None:
            for t, g in leaf_grads.items():
                if id(t) in wanted:
                    captured[id(t)] = np.asarray(g) if isinstance(g, _generic) else g
            return [captured.get(id(t.grad_fn) if t.grad_fn is not None else id(t)) for t in inputs]
        owned = {id(g) for g in root_grads}  # arrays the caller (or another leaf) also holds
        for leaf, g in leaf_grads.items():
            if isinstance(g, _generic):
                g = np.asarray(g)
            if leaf._backward_hooks:
                for hook in leaf._backward_hooks:
                    r = hook(Tensor._make(g))
                    if r is not None:
                        g = r._data
            view = g.base is not None and not Arena.is_block(g)  # a block of the helper's arena is fresh memory
            if id(g) in owned or view or not getattr(g.flags, "writeable", True):
                g = g.copy()  # .grad must be a private, writeable array (clip_grad_norm_ scales it in place)
            owned.add(id(g))
            _accumulate(leaf, g)
    finally:
        _mode.grad_enabled = prev_mode
        parallel.after_backward()
    return None


def _add_owned(table, owned, key, g, fresh):
    """Sum ``g`` into ``table[key]``; in place when the engine owns that array (``owned``), which a sum it
    made, or a fresh array from a backward that says so (``Function._fresh_grads``), are."""
    prev = table.get(key)
    if prev is None:
        table[key] = g
        if fresh:
            owned.add(key)
    elif key in owned and prev.shape == g.shape and prev.dtype == g.dtype and type(prev) is type(g):
        prev += g
    else:
        s = table[key] = parallel.add(prev, g)
        if not isinstance(s, _generic):
            owned.add(key)


def _add(table, key, g):
    prev = table.get(key)
    table[key] = g if prev is None else prev + g


def _accumulate(t, g):
    from ..tensor import Tensor
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    if g.shape != t._data.shape:
        g = _array_module(g).broadcast_to(g, t._data.shape).copy()
    if t.grad is None:
        t.grad = Tensor._make(g)
    else:
        t.grad = Tensor._make(t.grad._data + g)


def _array_module(a):
    from ..device import array_module
    return array_module(a)


def _freed_error(fn):
    return RuntimeError(
        f"Trying to backward through the graph a second time (or directly access saved tensors after they "
        f"have already been freed) at {fn.name}. Saved intermediate values of the graph are freed when you "
        f"call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through "
        f"the graph a second time.")


def _check_finite(fn, in_grads):
    for i, gi in enumerate(in_grads):
        if gi is not None and gi.dtype.kind == "f" and not bool(_array_module(gi).isfinite(gi).all()):
            where = f"\nThe forward call that created it:\n{fn._trace}" if getattr(fn, "_trace", None) else ""
            raise RuntimeError(f"Function '{fn.name}' returned nan or inf values in its {i}th output.{where}")
