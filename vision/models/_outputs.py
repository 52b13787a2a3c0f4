"""Model outputs as Hugging Face Transformers returns them: attributes, keys, and tuple indexing over the fields
that are set (``outputs.logits``, ``outputs["logits"]``, ``outputs[0]``)."""
from collections import OrderedDict

__all__ = ["ModelOutput", "BaseModelOutputWithPooling", "ImageClassifierOutput",
           "BaseModelOutputWithPoolingAndNoAttention", "ImageClassifierOutputWithNoAttention"]


class ModelOutput(OrderedDict):
    """An ordered mapping of the non-None fields, also readable as attributes and by position."""

    _fields = ()

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(sorted(unknown))}")
        super().__init__((k, kwargs[k]) for k in self._fields if kwargs.get(k) is not None)

    def __getattr__(self, name):
        if name in type(self)._fields:
            return self.get(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return self.to_tuple()[key]
        return super().__getitem__(key)

    def to_tuple(self):
        return tuple(self.values())

    def __reduce__(self):
        return type(self), (), None, None, iter(self.items())


class BaseModelOutputWithPooling(ModelOutput):
    _fields = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


class ImageClassifierOutput(ModelOutput):
    _fields = ("loss", "logits", "hidden_states", "attentions")


class BaseModelOutputWithPoolingAndNoAttention(ModelOutput):
    _fields = ("last_hidden_state", "pooler_output", "hidden_states")


class ImageClassifierOutputWithNoAttention(ModelOutput):
    _fields = ("loss", "logits", "hidden_states")
