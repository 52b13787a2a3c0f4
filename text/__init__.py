"""zoo.text: tokenization, Transformer models with Hugging Face names, sentence embeddings and text pipelines
(≈ transformers / sentence-transformers).

Everything loads on first access, so ``import zoo.text`` imports neither the models nor ``tokenizers``::

    tok = zoo.text.Tokenizer.from_pretrained("google-bert/bert-base-uncased")
    model = zoo.text.models.BertForMaskedLM.from_pretrained("google-bert/bert-base-uncased")
    emb = zoo.text.SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2").encode(["a sentence"])
"""
import importlib

# name -> "module" (a submodule) or "module:attribute"
_LAZY = {
    "Tokenizer": "zoo.text.tokenization:Tokenizer",
    "BatchEncoding": "zoo.text.tokenization:BatchEncoding",
    "SentenceTransformer": "zoo.text.sentence_transformers:SentenceTransformer",
    "CharTokenizer": "zoo.text.char_tokenizer:CharTokenizer",
    "generation": "zoo.text.generation",
    "tokenization": "zoo.text.tokenization",
    "models": "zoo.text.models",
    "pipelines": "zoo.text.pipelines",
    "sentence_transformers": "zoo.text.sentence_transformers",
    "pretrained": "zoo.text.pretrained",
}

__all__ = ["Tokenizer", "BatchEncoding", "SentenceTransformer", "CharTokenizer", "models", "pipelines"]


def __getattr__(name):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'zoo.text' has no attribute '{name}'")
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
