"""Model outputs as Hugging Face Transformers returns them: attributes, keys, and tuple indexing over the fields
that are set (``outputs.logits``, ``outputs["logits"]``, ``outputs[0]``)."""
from ...weights.outputs import ModelOutput

__all__ = ["ModelOutput", "BaseModelOutputWithPooling", "ImageClassifierOutput",
           "BaseModelOutputWithPoolingAndNoAttention", "ImageClassifierOutputWithNoAttention"]


class BaseModelOutputWithPooling(ModelOutput):
    _fields = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


class ImageClassifierOutput(ModelOutput):
    _fields = ("loss", "logits", "hidden_states", "attentions")


class BaseModelOutputWithPoolingAndNoAttention(ModelOutput):
    _fields = ("last_hidden_state", "pooler_output", "hidden_states")


class ImageClassifierOutputWithNoAttention(ModelOutput):
    _fields = ("loss", "logits", "hidden_states")
