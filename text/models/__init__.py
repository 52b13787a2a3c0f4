"""zoo.text.models: Transformer architectures with Hugging Face Transformers' class and parameter names.

Classes load on first access (``zoo.text.models.BertModel`` imports ``zoo.text.models.bert``), so importing this
package costs nothing. ``zoo.from_pretrained(dir_or_repo)`` builds the class that a checkpoint's config.json names.
"""
import importlib

# class or function name -> submodule that defines it
_LAZY = {}
for _module, _names in {
    "bert": ("ModelOutput", "BaseModelOutput", "BaseModelOutputWithPooling", "MaskedLMOutput",
             "SequenceClassifierOutput", "TokenClassifierOutput", "BertConfig", "BertPreTrainedModel", "BertModel",
             "BertForMaskedLM", "BertForSequenceClassification", "BertForTokenClassification"),
    "distilbert": ("DistilBertConfig", "DistilBertPreTrainedModel", "DistilBertModel", "DistilBertForMaskedLM",
                   "DistilBertForSequenceClassification", "DistilBertForTokenClassification"),
    # GPT-2, T5 and the char-level GPT (generation: zoo.text.generation)
    "gpt2": ("GPT2Config", "GPT2PreTrainedModel", "GPT2Model", "GPT2LMHeadModel"),
    "t5": ("T5Config", "T5PreTrainedModel", "T5Model", "T5EncoderModel", "T5ForConditionalGeneration"),
    "char_gpt": ("CharGPTConfig", "CharGPTLMHeadModel"),
}.items():
    for _name in _names:
        _LAZY[_name] = _module
del _module, _names, _name

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo.text.models' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
