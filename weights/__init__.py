"""zoo.weights: the pretrained-weight registry, where weights files come from, and checkpoint key converters.

* :mod:`~zoo.weights.registry`: :class:`WeightsEntry` (torchvision weight-enum style), :func:`register`,
  :func:`get_entry`, :func:`list_entries`; domain packages register their entries lazily.
* :mod:`~zoo.weights.sources`: :func:`resolve` / :func:`download` find a file in a local path, the project store,
  an installed package or the Hugging Face hub, and verify its sha256.
* :mod:`~zoo.weights.hub`: hub access (cache, revisions, offline mode) and :func:`resolve_model_dir` for
  ``from_pretrained``. ``huggingface_hub`` is imported on first use only.
* :mod:`~zoo.weights.convert`: declarative state-dict key mapping with a report of what did not line up.
"""
from .convert import (ConversionReport, Rules, Split, Transform, convert_state_dict, load_converted, reshape,
                      transpose)
from .errors import ChecksumError, UnknownWeightsError, WeightsNotFoundError
from .hub import resolve_model_dir
from .registry import (FileSpec, Record, WeightsEntry, add_provider, get_entry, list_entries, list_models,
                       register, unregister)
from .sources import Hub, Package, Store, download, file_sha256, resolve

__all__ = ["WeightsEntry", "FileSpec", "Record", "register", "unregister", "get_entry", "list_entries", "list_models",
           "add_provider", "Store", "Package", "Hub", "resolve", "download", "file_sha256", "resolve_model_dir",
           "Rules", "Split", "Transform", "transpose", "reshape", "ConversionReport", "convert_state_dict",
           "load_converted", "ChecksumError", "UnknownWeightsError", "WeightsNotFoundError"]
