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
    amp = None       # "low": under autocast this op runs in float16 (see zoo.amp)
    _cast_back = None  # input dtypes autocast changed, so the engine returns gradients in the original dtype

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("forward"), staticmethod):
            cls.apply = classmethod(_apply_torch_style)

    # --- what subclasses write ---------------------------------------------------------------------------
    def forward(self, *arrays):
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
                d = x._data
                if array_type is None:
                    array_type = type(d)
                elif type(d) is not array_type:
                    _raise_device_mismatch(self, inputs)
                arrays.append(d)
                if x._requires_grad:
                    record = True
            else:
                arrays.append(x)
        record = record and _mode.grad_enabled
        if _mode.autocast is not None and self.amp is not None:
            from ..amp import cast_inputs
            cast_inputs(self, arrays, inputs)
        try:
            out = self.forward(*arrays)
        except (ValueError, IndexError, TypeError) as e:
            raise _op_error(self, inputs, e) from e
        if type(out) is not _ndarray and (array_type is _ndarray or array_type is None):
            out = np.asarray(out)  # NumPy returns scalars for 0-d results
        base = inputs[0] if self.is_view else None
        if not record:
            return Tensor._make(out, False, None, base)
        nexts = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                rg = x._requires_grad
                nexts.append(x.grad_fn if x.grad_fn is not None else (x if rg else None))
                needs.append(rg)
            else:
                nexts.append(None)
                needs.append(False)
        self.next_functions = nexts
        self.needs_input_grad = needs
        result = Tensor._make(out, True, self, base)
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


def _apply_torch_style(cls, *inputs):
    return _TorchStyleNode(cls).apply(*inputs)


def _describe(x):
    if isinstance(x, Tensor):
        return f"Tensor(shape={tuple(x._data.shape)}, dtype={x.dtype.name}, device={x.device})"
    return repr(x) if not hasattr(x, "shape") else f"array(shape={tuple(x.shape)})"


def _op_error(fn, inputs, e):
    args = ", ".join(_describe(x) for x in inputs)
    return RuntimeError(f"{type(fn).__name__}: {e} (inputs: {args})")


def _raise_device_mismatch(fn, inputs):
    devices = sorted({str(x.device) for x in inputs if isinstance(x, Tensor)})
    raise RuntimeError(f"{type(fn).__name__}: expected all tensors to be on the same device, "
                       f"but found at least two devices, {devices[0]} and {devices[1]}")


from ..tensor import Tensor  # noqa: E402  (Tensor needs Function's module to exist first)
