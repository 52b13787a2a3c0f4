"""The autograd node: one op's forward and backward side by side (Chainer's FunctionNode, micrograd's spirit).

An op subclasses ``Function`` and writes

* ``forward(self, *arrays)``: compute on raw NumPy/CuPy arrays and keep on ``self`` only what backward
  needs (call ``self.retain_inputs(i, ...)`` / ``self.retain_output()`` for arrays that in-place ops must
  not change afterwards);
* ``backward(self, grad)``: return one gradient array (or None) per forward input.

``Op(params).apply(*inputs)`` runs forward and, when grad is enabled and an input requires grad, links the
node into the graph. Every node has exactly one output; ops with several differentiable outputs (split,
chunk, unbind) are built from several nodes.

PyTorch-style custom functions also work: a subclass whose ``forward(ctx, *tensors)`` and
``backward(ctx, *grads)`` are staticmethods on Tensors is called as ``MyFunction.apply(*inputs)``, with
``ctx.save_for_backward`` / ``ctx.saved_tensors`` / ``ctx.needs_input_grad``.
"""
import traceback

import numpy as np

from .grad_mode import _mode

__all__ = ["Function"]

_ndarray = np.ndarray
_NO_INDICES = ()


class Function:
    __slots__ = ("next_functions", "needs_input_grad", "__dict__")
    _retained_inputs = _NO_INDICES
    _retain_out = False
    _saved_versions = None  # [(version counter, version at save, input index or -1 for the output)]
    _output_ref = None      # weakref to the output tensor when it retains its grad
    _hooks = None           # hooks registered on the output tensor
    _trace = None           # forward stack trace, kept in anomaly mode
    is_view = False  # True for ops whose output is a view of input 0 (shares its memory and version counter)
    amp = None       # under autocast: "low" runs this op in float16, "float32" in float32 (see zoo.amp)
    _fresh_grads = False  # backward returns new arrays nothing else holds (the engine may sum into them)
    _grad_into_key = None  # slices: a method giving the key the engine may add g into the input's gradient at
    _cast_back = None  # input dtypes autocast changed, so the engine returns gradients in the original dtype

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            cls.apply = classmethod(_apply_torch_style)

    # --- what subclasses write ---------------------------------------------------------------------------
    def forward(self, *arrays):
        """``self.needs_input_grad[i]``: whether input i's gradient will be wanted (all False when not
        recording), so forward can skip keeping what only other gradients need."""
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    # --- helpers for forward ----------------------------------------------------------------------------
    def retain_inputs(self, *indices):
        """Backward reads these inputs' arrays: modifying them in place afterwards is an error."""
        self._retained_inputs = indices

    def retain_output(self):
        """Backward reads the output array: modifying it in place afterwards is an error."""
        self._retain_out = True

    @property
    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name}>"

    # --- graph building ---------------------------------------------------------------------------------
    def apply(self, *inputs):
        """Run forward on ``inputs`` (Tensors or constants) and return the output Tensor."""
        arrays = []
        record = False
        array_type = None
        for x in inputs:
            if isinstance(x, Tensor):
                if x._view is not None and x._view[2] != x._vc[0] and _mode.grad_enabled:
                    refresh_view(x)
                d = x._data
                if array_type is None:
                    array_type = type(d)
                    first = d
                elif type(d) is not array_type or (array_type is not _ndarray and not same_gpu(d, first)):
                    _raise_device_mismatch(self, inputs)
                arrays.append(d)
                if x._requires_grad:
                    record = True
            else:
                arrays.append(x)
        record = record and _mode.grad_enabled
        # known before forward, so forward keeps only what the wanted gradients read
        self.needs_input_grad = [isinstance(x, Tensor) and x._requires_grad for x in inputs] if record \
            else _NO_GRADS
        if _mode.autocast is not None and self.amp is not None:
            from ..amp import cast_inputs
            cast_inputs(self, arrays, inputs)
        try:
            out = self.forward(*arrays)
        except (ValueError, IndexError, TypeError) as e:
            raise _op_error(self, inputs, e) from e
        if (type(out) is not _ndarray and (array_type is _ndarray or array_type is None)
                and not hasattr(out, "__cuda_array_interface__")):  # a copy to the GPU (ToCopy) stays there
            out = np.asarray(out)  # NumPy returns scalars for 0-d results
        base = inputs[0] if self.is_view else None
        if not record:
            result = Tensor._make(out, False, None, base)
            if base is not None and _mode.grad_enabled:
                result._view = (base, self, result._vc[0])
            return result
        nexts = []
        for x in inputs:
            if isinstance(x, Tensor):
                nexts.append(x.grad_fn if x.grad_fn is not None else (x if x._requires_grad else None))
            else:
                nexts.append(None)
        self.next_functions = nexts
        result = Tensor._make(out, True, self, base)
        if base is not None:  # a view remembers how to re-derive itself from its input (refresh_view)
            result._view = (base, self, result._vc[0])
        if self._retained_inputs or self._retain_out:
            saved = [(inputs[i]._vc, inputs[i]._vc[0], i) for i in self._retained_inputs
                     if isinstance(inputs[i], Tensor)]
            if self._retain_out:
                saved.append((result._vc, 0, -1))
            self._saved_versions = saved
        if _mode.anomaly:
            self._trace = "".join(traceback.format_stack()[:-2])
        return result

    def check_saved_versions(self):
        for counter, version, index in self._saved_versions:
            if counter[0] != version:
                what = "its output" if index < 0 else f"input {index}"
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: {what} of {self.name} is at version {counter[0]}; expected version {version}. "
                    f"Use .clone() before the in-place op, or do it out of place.")


class _NoGrads:
    """``needs_input_grad`` of a node that records nothing: False for every input."""
    __slots__ = ()

    def __getitem__(self, i):
        return False


_NO_GRADS = _NoGrads()


class _TorchStyleNode(Function):
    """The graph node of a PyTorch-style Function: ``self`` is the ``ctx`` its static methods receive."""

    def __init__(self, fn_cls):
        self.fn_cls = fn_cls
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass

    def forward(self, *arrays):
        from .grad_mode import no_grad
        args = [Tensor._make(a) if hasattr(a, "dtype") and hasattr(a, "shape") else a for a in arrays]
        with no_grad():
            out = self.fn_cls.forward(self, *args)
        if not isinstance(out, Tensor):
            raise NotImplementedError(f"{self.fn_cls.__name__}.forward must return one Tensor in zoo "
                                      f"(custom Functions with several outputs are not supported)")
        return out._data

    def backward(self, grad):
        grads = self.fn_cls.backward(self, Tensor._make(grad))
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(g._data if isinstance(g, Tensor) else None for g in grads)

    @property
    def name(self):
        return self.fn_cls.__name__ + "Backward"


def replay_view(t):
    """Derive view ``t`` afresh from the current history of the tensor it views: the same view ops, applied
    again (PyTorch regenerates a view's grad_fn the same way once its base was modified in place)."""
    parent, op, _ = t._view
    if parent._view is not None:
        parent = replay_view(parent)
    fresh = object.__new__(type(op))
    fresh.__dict__.update(op.__dict__)
    return fresh.apply(parent)


def refresh_view(t):
    """Rebase view ``t``'s history onto the current history of its base (after an in-place change of the memory
    they share, made through the base or another view)."""
    r = replay_view(t)
    t.grad_fn, t._requires_grad = r.grad_fn, r._requires_grad
    t._view = (t._view[0], t._view[1], t._vc[0])


def view_chain(t):
    """(the tensor ``t`` is a differentiable view of, [view nodes from it to ``t``])."""
    ops = []
    while t._view is not None:
        ops.append(t._view[1])
        t = t._view[0]
    return t, ops[::-1]


def _apply_torch_style(cls, *inputs):
    return _TorchStyleNode(cls).apply(*inputs)


def _describe(x):
    if isinstance(x, Tensor):
        return f"Tensor(shape={tuple(x._data.shape)}, dtype={x.dtype.name}, device={x.device})"
    return repr(x) if not hasattr(x, "shape") else f"array(shape={tuple(x.shape)})"


def _op_error(fn, inputs, e):
    args = ", ".join(_describe(x) for x in inputs)
    return RuntimeError(f"{type(fn).__name__}: {e} (inputs: {args})")


def same_gpu(a, b):
    """Whether two CuPy arrays live on the same GPU (cuda:0 and cuda:1 do not mix in one op)."""
    return a.device.id == b.device.id


def _raise_device_mismatch(fn, inputs):
    devices = sorted({str(x.device) for x in inputs if isinstance(x, Tensor)})
    raise RuntimeError(f"{type(fn).__name__}: expected all tensors to be on the same device, "
                       f"but found at least two devices, {devices[0]} and {devices[1]}")


from ..tensor import Tensor  # noqa: E402  (Tensor needs Function's module to exist first)
