"""Hugging Face-style pretrained models: :class:`PretrainedConfig`, :class:`PreTrainedModel` with
``from_pretrained`` / ``save_pretrained``, and the architecture registry behind ``zoo.from_pretrained``.

A model directory is laid out as Transformers lays it out, so the same folder (or hub repo) serves both:

* ``config.json``: the config, with ``"architectures": [class name]``, ``"model_type"`` and ``"torch_dtype"``;
* weights: ``model.safetensors``, or shards ``model-00001-of-0000N.safetensors`` listed in
  ``model.safetensors.index.json``; PyTorch ``pytorch_model.bin`` (or its sharded index) is read when there are
  no safetensors, through ``zoo.load`` (a restricted unpickler, no torch needed).

Tensors are stored under plain dotted names (``encoder.layer.0.attention.self.query.weight``), so a zoo class that
mirrors a Transformers architecture saves files that ``transformers`` loads, and loads the hub's files.

Domains register their architectures by import string, so nothing is imported until a model is built::

    register_model("bert", "BertModel", "zoo.text.models.bert:BertModel")
    model = zoo.from_pretrained("google-bert/bert-base-uncased")   # reads config.json, builds BertModel

Registrations live in each domain's provider module (``zoo.<domain>.pretrained``, the module that also registers
its weights entries), imported on the first lookup that needs it.
"""
import copy
import difflib
import json
import os
import re
import warnings

from ..core import dtypes
from ..core.device import as_device
from ..core.nn import Module
from ..core.serialization import load as _load_file
from ..core.serialization import atomic_write
from ..core.serialization import save as _save_file
from ..core.tensor import Tensor
from .providers import check_target, load_providers, load_target

__all__ = ["PretrainedConfig", "PreTrainedModel", "register_model", "unregister_model", "get_model_class",
           "list_architectures", "from_pretrained", "load_state_dict_from_dir", "CONFIG_NAME", "SAFE_WEIGHTS_NAME",
           "SAFE_WEIGHTS_INDEX_NAME", "WEIGHTS_NAME", "WEIGHTS_INDEX_NAME"]

CONFIG_NAME = "config.json"
SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"

_SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")


# ---- small file helpers ---------------------------------------------------------------------------------------
def _write_text_atomic(path, text):
    atomic_write(path, lambda f: f.write(text), mode="w")


def _read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the {what} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the {what} must hold a JSON object, got {type(data).__name__}")
    return data


def _dtype_name(d):
    return None if d is None else (d if isinstance(d, str) else dtypes.as_dtype(d).name)


# ---- config ---------------------------------------------------------------------------------------------------
class PretrainedConfig:
    """A model's hyper-parameters, read from and written to ``config.json`` like Transformers' configs.

    Subclasses set ``model_type`` and take their own hyper-parameters as keyword arguments with defaults, then
    pass the rest on: ``def __init__(self, hidden_size=768, **kwargs): self.hidden_size = hidden_size;
    super().__init__(**kwargs)``. Every key of the file becomes an attribute, including keys no class knows, so
    a load / save round trip keeps them. ``attribute_map`` gives alternative names for attributes
    (``{"hidden_size": "n_embd"}``). Labels follow Transformers: ``id2label`` (int keys), ``label2id`` and the
    ``num_labels`` property.
    """

    model_type = ""
    attribute_map = {}

    def __init__(self, **kwargs):
        kwargs = dict(kwargs)
        file_type = kwargs.pop("model_type", None)
        if not type(self).model_type and file_type:
            self.__dict__["model_type"] = file_type  # a plain config keeps the file's model type
        elif file_type and file_type != self.model_type:
            warnings.warn(f"config of model type {file_type!r} is read by {type(self).__name__} (model type "
                          f"{self.model_type!r}); this is not supported for all configurations", stacklevel=3)
        self.architectures = kwargs.pop("architectures", None)
        torch_dtype, new_name = kwargs.pop("torch_dtype", None), kwargs.pop("dtype", None)  # Transformers 5: "dtype"
        self.torch_dtype = _dtype_name(torch_dtype or new_name)
        id2label = kwargs.pop("id2label", None)
        label2id = kwargs.pop("label2id", None)
        num_labels = kwargs.pop("num_labels", None)
        if id2label is not None:
            self.id2label = {int(k): v for k, v in dict(id2label).items()}
            self.label2id = (dict(label2id) if label2id is not None
                             else {v: k for k, v in self.id2label.items()})
            if num_labels is not None and num_labels != len(self.id2label):
                raise ValueError(f"{type(self).__name__}: num_labels={num_labels} but id2label has "
                                 f"{len(self.id2label)} labels")
        elif num_labels is not None:
            self.num_labels = num_labels
        elif label2id is not None:
            self.label2id = dict(label2id)
            self.id2label = {int(v): k for k, v in self.label2id.items()}
        for key, value in kwargs.items():
            setattr(self, key, value)

    # aliases ---------------------------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        super().__setattr__(type(self).attribute_map.get(name, name), value)

    def __getattr__(self, name):  # only called when normal lookup fails
        target = type(self).attribute_map.get(name)
        if target is not None and target != name:
            return getattr(self, target)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def num_labels(self):
        """The number of labels (``len(id2label)``); None when the config has no labels."""
        id2label = self.__dict__.get("id2label")
        return None if id2label is None else len(id2label)

    @num_labels.setter
    def num_labels(self, n):
        if self.__dict__.get("id2label") is None or len(self.id2label) != n:
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}
            self.label2id = {v: k for k, v in self.id2label.items()}

    # conversions -----------------------------------------------------------------------------------------------
    def to_dict(self):
        """Every attribute as a JSON-ready dict (nested configs as dicts, ``id2label`` keys as strings)."""
        out = {}
        for key, value in self.__dict__.items():
            if key.startswith("_"):
                continue
            if isinstance(value, PretrainedConfig):
                value = value.to_dict()
            elif key == "id2label" and isinstance(value, dict):
                value = {str(k): v for k, v in value.items()}
            out[key] = copy.deepcopy(value)
        out["model_type"] = self.model_type
        return out

    def to_json_string(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path):
        """Write the config as JSON to ``path`` (atomically)."""
        _write_text_atomic(os.fspath(path), self.to_json_string())

    def save_pretrained(self, save_directory):
        """Write ``config.json`` into ``save_directory`` (created if needed)."""
        os.makedirs(save_directory, exist_ok=True)
        self.to_json_file(os.path.join(save_directory, CONFIG_NAME))

    @classmethod
    def from_dict(cls, config_dict, **kwargs):
        """A config from a dict (as read from ``config.json``); ``kwargs`` override its values."""
        return cls(**{**config_dict, **kwargs})

    @classmethod
    def from_json_file(cls, path):
        return cls.from_dict(_read_json(os.fspath(path), "config"))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, revision=None, **kwargs):
        """The config of a model directory, a ``config.json`` file, or a hub repo id (only its config.json is
        fetched); ``kwargs`` override values of the file, e.g. ``num_labels=3``."""
        return cls.from_dict(_read_config(pretrained_model_name_or_path, revision), **kwargs)

    def __eq__(self, other):
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"{type(self).__name__} {self.to_json_string()}"


def _read_config(id_or_path, revision=None):
    path = os.fspath(id_or_path)
    if os.path.isdir(path):
        file = os.path.join(path, CONFIG_NAME)
        if not os.path.isfile(file):
            raise FileNotFoundError(f"{path} has no {CONFIG_NAME}: it is not a saved model directory "
                                    "(save one with save_pretrained)")
    elif os.path.isfile(path):
        file = path
    else:
        from .hub import hub_file, is_repo_id
        if not is_repo_id(path):
            raise FileNotFoundError(f"no model directory or config file {path!r}, and it is not a Hugging Face "
                                    "hub repo id either")
        file = hub_file(path, CONFIG_NAME, revision=revision)
    return _read_json(file, "config")


# ---- reading weights ------------------------------------------------------------------------------------------
def _flat_tensors(obj, path):
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict (a mapping of names to tensors), got {type(obj).__name__}")
    for key, value in obj.items():
        if not isinstance(value, Tensor):
            raise ValueError(f"{path}: entry {key!r} is a {type(value).__name__}, not a tensor; from_pretrained "
                             "reads flat state dicts of tensors")
    return obj


def _load_index(folder, index_name):
    index_path = os.path.join(folder, index_name)
    index = _read_json(index_path, "weights index")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise ValueError(f"{index_path}: the index has no 'weight_map'")
    state = {}
    for shard in sorted(set(weight_map.values())):
        shard_path = os.path.join(folder, shard)
        if os.path.dirname(os.path.normpath(shard)) or not os.path.isfile(shard_path):
            raise FileNotFoundError(f"{index_path} lists shard {shard!r}, which is not in {folder}")
        state.update(_flat_tensors(_load_file(shard_path), shard_path))
    absent = [k for k, shard in weight_map.items() if k not in state]
    if absent:
        raise ValueError(f"{index_path}: {len(absent)} tensor(s) it lists are not in their shard, e.g. "
                         f"{absent[0]!r} in {weight_map[absent[0]]!r}")
    return state


def load_state_dict_from_dir(folder):
    """``(state_dict, description)`` of the weights in a model directory, in Transformers' order of preference:
    ``model.safetensors``, its sharded index, ``pytorch_model.bin``, its sharded index."""
    for name, sharded in ((SAFE_WEIGHTS_NAME, False), (SAFE_WEIGHTS_INDEX_NAME, True), (WEIGHTS_NAME, False),
                          (WEIGHTS_INDEX_NAME, True)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            state = _load_index(folder, name) if sharded else _flat_tensors(_load_file(path), path)
            return state, path
    raise FileNotFoundError(f"{folder} has no model weights: expected {SAFE_WEIGHTS_NAME}, {SAFE_WEIGHTS_INDEX_NAME}, "
                            f"{WEIGHTS_NAME} or {WEIGHTS_INDEX_NAME}")


# ---- writing weights ------------------------------------------------------------------------------------------
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
          "TIB": 2**40}


def _parse_size(size):
    """Bytes from an int or a string such as ``"5GB"`` (10**9) or ``"500MiB"`` (2**20)."""
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B|B)\s*", str(size).upper())
    if not m:
        raise ValueError(f"max_shard_size must be a number of bytes or a size like '5GB' or '500MiB', got {size!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def _split_shards(state, limit):
    shards, current, used = [], {}, 0
    for key, t in state.items():
        nbytes = t.numel() * t.element_size()
        if current and used + nbytes > limit:
            shards.append(current)
            current, used = {}, 0
        current[key] = t
        used += nbytes
    if current or not shards:
        shards.append(current)
    return shards


# ---- the model base class -------------------------------------------------------------------------------------
def _matches(key, patterns):
    return any(re.search(p, key) for p in patterns or ())


def _listing(keys, limit=10):
    shown = ", ".join(map(str, keys[:limit]))
    return shown + (f" ... and {len(keys) - limit} more" if len(keys) > limit else "")


class PreTrainedModel(Module):
    """Base class of models that load and save Hugging Face-style model directories.

    Subclasses set ``config_class`` (their :class:`PretrainedConfig` subclass) and ``base_model_prefix`` (the
    attribute holding the bare model in head models, e.g. ``"bert"``), build their layers in ``__init__(config)``
    with Transformers' attribute names, and may override :meth:`_convert_state_dict` to rename the keys of older
    checkpoints. ``_keys_to_ignore_on_load_missing`` / ``_keys_to_ignore_on_load_unexpected`` are regex lists of
    keys that are not reported; ``_keys_to_ignore_on_save`` are left out of saved files.
    """

    config_class = PretrainedConfig
    base_model_prefix = ""
    _keys_to_ignore_on_load_missing = None
    _keys_to_ignore_on_load_unexpected = None
    _keys_to_ignore_on_save = None

    def __init__(self, config, *args, **kwargs):
        super().__init__()
        if not isinstance(config, PretrainedConfig):
            raise TypeError(f"{type(self).__name__} expects a PretrainedConfig as its config, got "
                            f"{type(config).__name__}; build one with {self.config_class.__name__}(...)")
        self.config = config

    @property
    def base_model(self):
        """The bare model: the ``base_model_prefix`` submodule of a head model, else the model itself."""
        return getattr(self, self.base_model_prefix, self) if self.base_model_prefix else self

    @property
    def device(self):
        """The device of the model's first parameter (cpu for a model without parameters)."""
        for p in self.parameters():
            return p.device
        return as_device("cpu")

    @property
    def dtype(self):
        """The dtype of the model's first floating point parameter (float32 when it has none)."""
        for p in self.parameters():
            if p.is_floating_point():
                return p.dtype
        return dtypes.float32

    # loading ---------------------------------------------------------------------------------------------------
    def _convert_state_dict(self, state_dict):
        """Adapt a checkpoint's keys to this model's. The default does what Transformers does:

        * loading a bare-model checkpoint into a head model adds ``base_model_prefix + "."`` to its keys, and
          loading a head-model checkpoint into the bare model strips it (its head weights are then unexpected);
        * the LayerNorm names of old checkpoints, ``gamma`` / ``beta``, become ``weight`` / ``bias`` where the
          model expects those.

        Override it (calling ``super()``) for architecture-specific renames.
        """
        expected = set(self.state_dict(keep_vars=True))
        prefix = self.base_model_prefix + "." if self.base_model_prefix else ""
        state = dict(state_dict)
        if prefix:
            has_prefix = any(k.startswith(prefix) for k in state)
            expects_prefix = any(k.startswith(prefix) for k in expected)
            if expects_prefix and not has_prefix:
                state = {(k if k in expected else prefix + k): v for k, v in state.items()}
            elif has_prefix and not expects_prefix:
                state = {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state.items()}
        renamed = {}
        for key, value in state.items():
            for old, new in ((".gamma", ".weight"), (".beta", ".bias")):
                if key.endswith(old) and key not in expected and key[:-len(old)] + new in expected:
                    key = key[:-len(old)] + new
            renamed[key] = value
        return renamed

    def _load_checkpoint(self, state_dict, source, strict=True, ignore_mismatched_sizes=False):
        """Load a converted state dict; returns ``{"missing_keys", "unexpected_keys", "mismatched_keys"}``."""
        own = self.state_dict(keep_vars=True)
        # tied parameters (one tensor under several names) load from any one of their names
        present = {id(t) for key, t in own.items() if key in state_dict}
        missing = [k for k, t in own.items() if k not in state_dict and id(t) not in present
                   and not _matches(k, self._keys_to_ignore_on_load_missing)]
        unexpected = [k for k in state_dict if k not in own
                      and not _matches(k, self._keys_to_ignore_on_load_unexpected)]
        mismatched = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state_dict.items()
                      if k in own and tuple(v.shape) != tuple(own[k].shape)]
        name = type(self).__name__
        if strict and (missing or unexpected or mismatched):
            lines = [f"Error(s) in loading {source} into {name}:"]
            if missing:
                lines.append(f"  missing keys ({len(missing)}): {_listing(missing)}")
            if unexpected:
                lines.append(f"  unexpected keys ({len(unexpected)}): {_listing(unexpected)}")
            for k, have, want in mismatched[:10]:
                lines.append(f"  size mismatch for {k}: checkpoint {have}, model {want}")
            lines.append("Check that the checkpoint is for this architecture; pass strict=False to load it anyway "
                         "(missing weights keep their random initialization, unexpected ones are ignored).")
            raise RuntimeError("\n".join(lines))
        if mismatched and not ignore_mismatched_sizes:
            raise RuntimeError(f"Error(s) in loading {source} into {name}: "
                               + "; ".join(f"size mismatch for {k}: checkpoint {h}, model {w}"
                                           for k, h, w in mismatched)
                               + ". Pass ignore_mismatched_sizes=True to initialize those weights randomly instead.")
        if unexpected:
            warnings.warn(f"Some weights of {source} were not used when initializing {name}: "
                          f"{_listing(unexpected)}", stacklevel=3)
        bad = {k for k, _, _ in mismatched}
        if missing or bad:
            warnings.warn(f"Some weights of {name} were not initialized from {source} and are newly initialized: "
                          f"{_listing(missing + sorted(bad))}. You should probably train this model on a "
                          "down-stream task before using it.", stacklevel=3)
        usable = {k: v for k, v in state_dict.items() if k in own and k not in bad}
        self.load_state_dict(usable, strict=False)
        return {"missing_keys": missing, "unexpected_keys": unexpected, "mismatched_keys": mismatched}

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, config=None, device=None, dtype=None,
                        revision=None, strict=True, ignore_mismatched_sizes=False, output_loading_info=False,
                        **kwargs):
        """Build the model from a directory or Hugging Face hub repo id and load its weights.

        ``config`` replaces the directory's config.json; otherwise ``kwargs`` override values of the config
        (``num_labels=3``). ``dtype`` (a zoo dtype or name, or ``"auto"`` for the config's ``torch_dtype``;
        ``torch_dtype=`` is accepted too) sets the floating point dtype, else the model is float32 as in
        Transformers; bfloat16 weights load as float32, exactly. ``device`` moves the model there. With
        ``strict`` (the default) any missing, unexpected or mis-shaped weight is an error listing them all; with
        ``strict=False`` missing weights keep their initialization and unexpected ones are skipped, with a
        warning, as Transformers does. The model is returned in eval mode; with ``output_loading_info`` also a
        dict of the missing, unexpected and mismatched keys.
        """
        from .hub import resolve_model_dir
        if "torch_dtype" in kwargs:
            if dtype is not None:
                raise TypeError("from_pretrained: pass dtype or torch_dtype, not both")
            dtype = kwargs.pop("torch_dtype")
        folder = resolve_model_dir(pretrained_model_name_or_path, revision)
        init_kwargs = {}
        if config is None:
            config = cls.config_class.from_dict(_read_config(folder), **kwargs)
        else:
            if not isinstance(config, PretrainedConfig):
                config = cls.config_class.from_pretrained(config, revision=revision)
            init_kwargs = kwargs
        state, source = load_state_dict_from_dir(folder)
        dtype = _resolve_dtype(dtype, config, state)
        model = cls(config, *model_args, **init_kwargs)
        if dtype is not None:
            model.to(dtype)
        info = model._load_checkpoint(model._convert_state_dict(state), source, strict=strict,
                                      ignore_mismatched_sizes=ignore_mismatched_sizes)
        del state
        if device is not None:
            model.to(device)
        model.eval()
        return (model, info) if output_loading_info else model

    # saving ----------------------------------------------------------------------------------------------------
    def save_pretrained(self, save_directory, state_dict=None, max_shard_size="5GB", safe_serialization=True):
        """Write ``config.json`` and the weights as safetensors into ``save_directory``, as Transformers does.

        Tensors are stored under their flat dotted names; a tensor tied to an earlier one (one parameter under
        two names) is written once, under its first name. Checkpoints larger than ``max_shard_size`` (bytes or
        ``"5GB"``) are split into ``model-0000i-of-0000N.safetensors`` plus ``model.safetensors.index.json``.
        Every file is written atomically; weight files of an earlier save in the folder that the new save does
        not use are removed afterwards, so a stale shard or index is never read back.
        """
        if not safe_serialization:
            raise NotImplementedError("save_pretrained writes safetensors only: zoo never pickles")
        save_directory = os.fspath(save_directory)
        if os.path.isfile(save_directory):
            raise NotADirectoryError(f"save_pretrained: {save_directory} is a file, expected a directory")
        os.makedirs(save_directory, exist_ok=True)
        source = self.state_dict(keep_vars=True) if state_dict is None else state_dict
        seen, tensors = set(), {}
        for key, t in source.items():
            if not isinstance(t, Tensor):
                raise TypeError(f"save_pretrained: {key!r} is a {type(t).__name__}; only tensors can be saved")
            if id(t) in seen or _matches(key, self._keys_to_ignore_on_save):
                continue
            seen.add(id(t))
            tensors[key] = t.detach()
        shards = _split_shards(tensors, _parse_size(max_shard_size))
        written = set()
        if len(shards) == 1:
            _save_file(shards[0], os.path.join(save_directory, SAFE_WEIGHTS_NAME))
            written.add(SAFE_WEIGHTS_NAME)
        else:
            weight_map, total = {}, 0
            for i, shard in enumerate(shards, 1):
                name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
                _save_file(shard, os.path.join(save_directory, name))
                written.add(name)
                for key, t in shard.items():
                    weight_map[key] = name
                    total += t.numel() * t.element_size()
            index = {"metadata": {"total_size": total}, "weight_map": weight_map}
            _write_text_atomic(os.path.join(save_directory, SAFE_WEIGHTS_INDEX_NAME),
                               json.dumps(index, indent=2, sort_keys=True) + "\n")
            written.add(SAFE_WEIGHTS_INDEX_NAME)
        self.config.architectures = [type(self).__name__]
        self.config.torch_dtype = self.dtype.name
        self.config.save_pretrained(save_directory)
        for name in os.listdir(save_directory):
            stale = name in (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME) or _SHARD.fullmatch(name)
            if stale and name not in written and os.path.isfile(os.path.join(save_directory, name)):
                os.remove(os.path.join(save_directory, name))


def _resolve_dtype(dtype, config, state):
    if dtype is None:
        return None
    if dtype == "auto":
        name = getattr(config, "torch_dtype", None)
        if name is None:
            name = next((t.dtype.name for t in state.values() if t.is_floating_point()), None)
        if name is None:
            return None
        dtype = "float32" if name in ("bfloat16", "torch.bfloat16") else name.replace("torch.", "")
    d = dtypes.as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"from_pretrained: dtype must be a floating point dtype, got {d}")
    return d


# ---- architecture registry ------------------------------------------------------------------------------------
_ARCHITECTURES = {}  # architecture name -> (model_type, "module:Class" or class)
_BY_MODEL_TYPE = {}  # model_type -> [architecture names, in registration order]


def register_model(model_type, architecture, target, *, replace=False):
    """Register ``architecture`` (the class name that config.json's ``architectures`` lists) of ``model_type``.

    ``target`` is ``"module.path:ClassName"`` (imported only when the model is built) or the class itself. The
    first architecture registered for a model type is the one built for a config.json without
    ``architectures``, so register the bare model (``BertModel``) first.
    """
    for what, value in (("model_type", model_type), ("architecture", architecture)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"register_model: {what} must be a non-empty string, got {value!r}")
    check_target("register_model", target, PreTrainedModel)
    old = _ARCHITECTURES.get(architecture)
    if old is not None and old != (model_type, target) and not replace:
        raise ValueError(f"architecture {architecture!r} is already registered ({old[1]!r}); pass replace=True "
                         "to override it")
    if old is not None and old[0] != model_type:
        _BY_MODEL_TYPE[old[0]].remove(architecture)
    _ARCHITECTURES[architecture] = (model_type, target)
    archs = _BY_MODEL_TYPE.setdefault(model_type, [])
    if architecture not in archs:
        archs.append(architecture)


def unregister_model(architecture):
    """Forget an architecture (a plugin unloading, a test cleaning up); returns whether it was registered."""
    old = _ARCHITECTURES.pop(architecture, None)
    if old is None:
        return False
    _BY_MODEL_TYPE[old[0]].remove(architecture)
    if not _BY_MODEL_TYPE[old[0]]:
        del _BY_MODEL_TYPE[old[0]]
    return True


def list_architectures():
    """``{architecture: model_type}`` of every registered architecture, sorted by name."""
    load_providers()
    return {a: _ARCHITECTURES[a][0] for a in sorted(_ARCHITECTURES)}


def _unknown(kind, name, known):
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    listed = ", ".join(sorted(known)) or "none registered yet"
    return ValueError(f"zoo does not support the {kind} {name!r}.{hint} Supported: {listed}.")


def get_model_class(architecture=None, model_type=None):
    """The class registered as ``architecture``, or the first one registered for ``model_type``."""
    if architecture is None and model_type is None:
        raise ValueError("get_model_class needs an architecture or a model_type")
    known = architecture in _ARCHITECTURES if architecture is not None else model_type in _BY_MODEL_TYPE
    if not known:
        load_providers()
    if architecture is None:
        if model_type not in _BY_MODEL_TYPE:
            raise _unknown("model type", model_type, list(_BY_MODEL_TYPE))
        architecture = _BY_MODEL_TYPE[model_type][0]
    if architecture not in _ARCHITECTURES:
        raise _unknown("architecture", architecture, list(_ARCHITECTURES))
    return load_target(_ARCHITECTURES[architecture][1], PreTrainedModel, f"architecture {architecture!r}")


def from_pretrained(pretrained_model_name_or_path, *, architecture=None, revision=None, **kwargs):
    """Build the model that a directory or hub repo's config.json describes and load its weights
    (``zoo.from_pretrained``).

    The class is the registered one named by ``architectures[0]`` of config.json, else the default one of its
    ``model_type``; pass ``architecture="BertModel"`` to choose another (a bare model from a head checkpoint,
    say). Other arguments are those of :meth:`PreTrainedModel.from_pretrained`.
    """
    from .hub import resolve_model_dir
    folder = resolve_model_dir(pretrained_model_name_or_path, revision)
    config = _read_config(folder)
    if architecture is None:
        archs = config.get("architectures") or []
        if archs:
            architecture = archs[0]
        elif not config.get("model_type"):
            raise ValueError(f"{os.path.join(folder, CONFIG_NAME)} names neither 'architectures' nor 'model_type'; "
                             "pass architecture= to choose the class")
    try:
        cls = get_model_class(architecture, None if architecture else config.get("model_type"))
    except ValueError as e:
        raise ValueError(f"cannot build the model of {pretrained_model_name_or_path}: {e}") from None
    return cls.from_pretrained(folder, **kwargs)
