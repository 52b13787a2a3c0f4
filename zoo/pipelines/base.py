"""The :class:`Pipeline` base class: Hugging Face's preprocess -> _forward -> postprocess, with batching.

A task subclasses it and implements three steps:

* ``preprocess(input, **preprocess_params)``: one raw input to model inputs, tensors with a leading batch
  dimension of 1 (a dict of them, typically), plus any per-input values postprocess needs (sizes, texts);
* ``_forward(model_inputs, **forward_params)``: runs the model on a batch (called under ``zoo.inference_mode``,
  with tensors already on the pipeline's device);
* ``postprocess(model_outputs, **postprocess_params)``: one input's outputs (batch dimension 1, on cpu) to
  plain Python, e.g. ``[{"label": ..., "score": ...}]``.

Options such as ``top_k`` are routed to the step that uses them by ``_sanitize_parameters(**kwargs)``, which
returns ``(preprocess_params, forward_params, postprocess_params)``; options given when the pipeline is made are
defaults, options given to a call override them for that call.

Batching: the preprocessed inputs of ``batch_size`` items are joined by :meth:`Pipeline._collate` (tensors and
arrays concatenated on dim 0, other values gathered into lists), run in one ``_forward``, and split back by
:meth:`Pipeline._uncollate` (tensors sliced ``[i:i+1]``, lists indexed, tuples and dicts recursed), so every input
gets the same result as when it runs alone. Tasks whose inputs vary in size override ``_collate`` to pad.
"""
import collections.abc
import inspect
import itertools
import os

import numpy as np

from ..core import cat, inference_mode
from ..core.device import as_device
from ..core.tensor import Tensor

__all__ = ["Pipeline"]


def _as_pipeline_device(device):
    """A zoo device from None, -1 (cpu, as in Transformers), a cuda index, a string or a device."""
    if isinstance(device, int) and not isinstance(device, bool):
        return as_device("cpu" if device < 0 else f"cuda:{device}")
    return as_device(device)


def _model_device(model):
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            return p.device
    return as_device("cpu")


def _to_device(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_to_device(v, device) for v in obj)
    if isinstance(obj, list):
        return [_to_device(v, device) for v in obj]
    return obj


class Pipeline:
    """Runs a model on raw inputs for one task: ``pipe(x)`` for one input, ``pipe([x, y])`` for a list (a list
    of results), ``pipe(generator)`` for a stream (an iterator of results).

    ``model`` is a model object, or a name or path that :meth:`load_model` turns into one. ``device`` is
    ``"cpu"``, ``"cuda[:N]"``, a cuda index (``-1`` is cpu) or a ``zoo.device``; None keeps the model where it
    is. ``batch_size`` (default 1) is how many inputs run through the model together.
    """

    def __init__(self, model, *, task=None, device=None, batch_size=None, revision=None, **kwargs):
        if isinstance(model, (str, os.PathLike)):
            model = self.load_model(os.fspath(model), revision=revision)
        elif revision is not None:
            raise ValueError("revision applies to a model name or path, not to a model object")
        self.model = model
        self.task = task
        self.device = _model_device(model) if device is None else _as_pipeline_device(device)
        if device is not None and hasattr(model, "to"):
            model.to(self.device)
        if hasattr(model, "eval"):
            model.eval()
        self.batch_size = self._check_batch_size(batch_size)
        self._preprocess_params, self._forward_params, self._postprocess_params = self._routed(kwargs)

    def load_model(self, name, revision=None):
        """The model for a name or path: by default ``zoo.weights.pretrained.from_pretrained`` (config.json picks
        the class). Tasks override this to also load their tokenizer / processor or registry weights."""
        from ..weights.pretrained import from_pretrained
        return from_pretrained(name, revision=revision)

    # options ---------------------------------------------------------------------------------------------------
    def _sanitize_parameters(self, **kwargs):
        """Route options to ``(preprocess_params, forward_params, postprocess_params)``. The base pipeline takes
        none; subclasses declare theirs as keyword arguments."""
        return {}, {}, {}

    def _routed(self, kwargs):
        sig = inspect.signature(self._sanitize_parameters)
        params = sig.parameters.values()
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            accepted = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
            unknown = sorted(set(kwargs) - set(accepted))
            if unknown:
                raise TypeError(f"{type(self).__name__} got unknown option(s) {', '.join(unknown)}; it accepts: "
                                f"{', '.join(accepted) or 'no options'}")
        routed = self._sanitize_parameters(**kwargs)
        if not (isinstance(routed, tuple) and len(routed) == 3):
            raise TypeError(f"{type(self).__name__}._sanitize_parameters must return three dicts (preprocess, "
                            "forward, postprocess parameters)")
        return tuple(dict(r or {}) for r in routed)

    @staticmethod
    def _check_batch_size(batch_size):
        if batch_size is None:
            return None
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return batch_size

    # the three steps -------------------------------------------------------------------------------------------
    def preprocess(self, input_, **preprocess_params):
        raise NotImplementedError(f"{type(self).__name__} must implement preprocess")

    def _forward(self, model_inputs, **forward_params):
        raise NotImplementedError(f"{type(self).__name__} must implement _forward")

    def postprocess(self, model_outputs, **postprocess_params):
        raise NotImplementedError(f"{type(self).__name__} must implement postprocess")

    def forward(self, model_inputs, **forward_params):
        """``_forward`` under inference mode, inputs moved to the pipeline's device and outputs to the cpu."""
        with inference_mode():
            outputs = self._forward(_to_device(model_inputs, self.device), **forward_params)
        return _to_device(outputs, as_device("cpu"))

    # batching --------------------------------------------------------------------------------------------------
    def _collate(self, items):
        """Join preprocessed inputs into one batch (see the module docstring); override to pad."""
        first = items[0]
        if isinstance(first, dict):
            keys = list(first)
            if any(list(it) != keys for it in items):
                raise ValueError(f"{type(self).__name__}: preprocess returned dicts with different keys; they "
                                 "cannot be batched")
            return {k: self._collate([it[k] for it in items]) for k in keys}
        if isinstance(first, tuple):
            return tuple(self._collate(list(parts)) for parts in zip(*items))
        if isinstance(first, (Tensor, np.ndarray)):
            if len(items) == 1:
                return first
            shapes = {tuple(it.shape[1:]) for it in items}
            if len(shapes) > 1:
                raise ValueError(f"{type(self).__name__}: cannot batch inputs of shapes "
                                 f"{sorted(tuple(it.shape) for it in items)}; use batch_size=1, or override "
                                 "_collate to pad them")
            return cat(items, 0) if isinstance(first, Tensor) else np.concatenate(items, 0)
        return list(items)

    def _uncollate(self, outputs, n):
        """Split a batch's outputs into ``n`` per-input outputs (the inverse of :meth:`_collate`)."""
        if isinstance(outputs, (Tensor, np.ndarray)):
            if outputs.ndim == 0 or outputs.shape[0] != n:
                raise ValueError(f"{type(self).__name__}: an output of shape {tuple(outputs.shape)} does not have "
                                 f"the batch size {n} as its first dimension")
            return [outputs[i:i + 1] for i in range(n)]
        if isinstance(outputs, dict):
            split = {k: self._uncollate(v, n) for k, v in outputs.items()}
            return [{k: split[k][i] for k in outputs} for i in range(n)]
        if isinstance(outputs, tuple):
            split = [self._uncollate(v, n) for v in outputs]
            return [tuple(s[i] for s in split) for i in range(n)]
        if isinstance(outputs, list):
            if len(outputs) != n:
                raise ValueError(f"{type(self).__name__}: a list output has {len(outputs)} items for a batch of {n}; "
                                 "lists in outputs must hold one item per input")
            return list(outputs)
        return [outputs] * n

    def _run(self, inputs, batch_size, pre, fwd, post):
        """Yield one result per input, running ``batch_size`` inputs through the model at a time."""
        it = iter(inputs)
        while True:
            chunk = list(itertools.islice(it, batch_size))
            if not chunk:
                return
            batch = self._collate([self.preprocess(x, **pre) for x in chunk])
            outputs = self._uncollate(self.forward(batch, **fwd), len(chunk))
            for out in outputs:
                yield self.postprocess(out, **post)

    def __call__(self, inputs, *args, batch_size=None, **kwargs):
        """Results for one input, a list of inputs (a list), or an iterator / generator (an iterator)."""
        if args:
            raise TypeError(f"{type(self).__name__} takes the inputs as one argument (a list for several), and "
                            "options as keywords")
        pre, fwd, post = self._routed(kwargs)
        pre, fwd, post = ({**self._preprocess_params, **pre}, {**self._forward_params, **fwd},
                          {**self._postprocess_params, **post})
        size = self._check_batch_size(batch_size) or self.batch_size or 1
        if isinstance(inputs, list):
            return list(self._run(inputs, size, pre, fwd, post))
        if isinstance(inputs, collections.abc.Iterator):
            return self._run(inputs, size, pre, fwd, post)
        return next(self._run([inputs], 1, pre, fwd, post))

    def __repr__(self):
        return (f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__}, "
                f"device={str(self.device)!r}, batch_size={self.batch_size})")
