"""Model outputs as Hugging Face Transformers returns them, shared by every domain's pretrained models.

A :class:`ModelOutput` subclass lists its fields in ``_fields``; an instance holds the fields that are set (a
field given as None is left out, as in Transformers) and reads them as attributes (``out.logits``; an unset
field reads None), as keys (``out["logits"]``) and by position (``out[0]`` is the first field that is set, as in
``to_tuple()``).
"""
__all__ = ["ModelOutput"]


class ModelOutput(dict):
    """The outputs of a model: a dict of the set fields with attribute and positional access (see the module)."""

    _fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__()
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._fields)} positional values")
        values = dict(zip(self._fields, args))
        for key in kwargs:
            if key not in self._fields:
                raise TypeError(f"{type(self).__name__} has no field {key!r}; its fields are "
                                f"{', '.join(self._fields)}")
            if key in values:
                raise TypeError(f"{type(self).__name__}: {key!r} given twice")
        values.update(kwargs)
        for key in self._fields:
            if values.get(key) is not None:
                dict.__setitem__(self, key, values[key])

    def __getattr__(self, name):
        if name in type(self)._fields:
            return self.get(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        if name not in type(self)._fields:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        self[name] = value

    def __setitem__(self, key, value):
        if key not in type(self)._fields:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        if value is None:
            self.pop(key, None)
        else:
            dict.__setitem__(self, key, value)

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return self.to_tuple()[key]
        return dict.__getitem__(self, key)

    def to_tuple(self):
        """The fields that are set, in their declared order."""
        return tuple(dict.__getitem__(self, k) for k in self._fields if k in self)

    def __reduce__(self):
        return type(self), (), None, None, iter(self.items())

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={_short(v)}' for k, v in self.items())})"


def _short(value):
    """Tensors by shape and dtype, sequences by length: an output's repr stays one readable line."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"Tensor(shape={tuple(shape)}, dtype={getattr(dtype, 'name', dtype)})"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}[{len(value)}]"
    return repr(value) if isinstance(value, (int, float, str, type(None))) else type(value).__name__
