"""zoo.text.pipelines: the text tasks of ``zoo.pipeline`` (registered in ``zoo.text.pretrained``).

The pipeline classes load on first access; ``zoo.pipeline("fill-mask", model=...)`` is the usual way in.
"""
import importlib

_LAZY = {name: "encoder" for name in ("TextPipeline", "FeatureExtractionPipeline", "SentenceEmbeddingPipeline",
                                      "FillMaskPipeline", "TextClassificationPipeline",
                                      "TokenClassificationPipeline")}
_LAZY.update({name: "generation" for name in ("TextGenerationPipeline", "Text2TextGenerationPipeline")})

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo.text.pipelines' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
