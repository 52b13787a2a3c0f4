"""Sentence embeddings the way the ``sentence-transformers`` library computes them: :class:`SentenceTransformer`
reads a sentence-transformers model folder (or hub repo) and runs its modules with zoo.

A folder lists its modules in ``modules.json``; zoo supports the usual chain

* ``Transformer`` (the folder given by its ``path``, ``""`` for the root): the encoder from ``config.json`` and its
  weights, the tokenizer, and ``sentence_bert_config.json`` (``max_seq_length``, ``do_lower_case``);
* ``Pooling`` (``<path>/config.json``): ``cls``, ``max``, ``mean``, ``mean_sqrt_len_tokens``, ``weightedmean``,
  ``lasttoken`` or several of them concatenated, from the ``pooling_mode`` key or the older ``pooling_mode_*_token``
  flags;
* ``Dense`` (a linear layer with an activation, e.g. LaBSE's) and ``Normalize`` (L2 normalization).

A folder without modules.json (a plain Transformers model) gets ``Transformer`` + mean ``Pooling``, as
sentence-transformers does. With a left-padding tokenizer, position ids are counted from each text's first token, so
an embedding does not depend on how much padding its batch needed (sentence-transformers itself does not do this).
"""
import json
import os
import warnings

import numpy as np

from ..core import cat, inference_mode, nn, stack
from ..core.creation import from_numpy
from ..core.nn import functional as F
from ..core.tensor import Tensor
from .tokenization import Tokenizer, resolve_text_model_dir

__all__ = ["SentenceTransformer", "Transformer", "Pooling", "Dense", "Normalize", "load_encoder"]

POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")
_LEGACY_POOLING_KEYS = {"pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max",
                        "pooling_mode_mean_tokens": "mean", "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
                        "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken"}


def _read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: the {what} is missing") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the {what} is not valid JSON ({e})") from None


def position_ids_for(attention_mask):
    """Position ids that count only attended tokens (0, 1, ... from each row's first real token) for a left-padded
    batch, so that the real tokens get the positions they have alone; None when no row is left-padded."""
    mask = np.asarray(attention_mask)
    if mask.ndim != 2 or mask.shape[1] == 0 or (mask[:, 0] != 0).all():
        return None
    return np.maximum(np.cumsum(mask != 0, axis=1) - 1, 0).astype(np.int64)


def load_encoder(folder, **kwargs):
    """The bare encoder (``BertModel``, ``DistilBertModel`` ...) of a model folder, whatever head its checkpoint
    was saved with. A checkpoint without pooler weights gives a model without the pooler; any other missing weight
    is an error."""
    from ..weights.pretrained import _read_config, get_model_class
    config = _read_config(folder)
    model_type = config.get("model_type")
    if not model_type:
        raise ValueError(f"{os.path.join(folder, 'config.json')} has no model_type; cannot choose the encoder class")
    cls = get_model_class(model_type=model_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = cls.from_pretrained(folder, strict=False, output_loading_info=True, **kwargs)
    missing = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
    if missing or info["mismatched_keys"]:
        problems = missing + [k for k, _, _ in info["mismatched_keys"]]
        raise RuntimeError(f"{folder}: the checkpoint does not fit {cls.__name__}: missing or mis-shaped weights "
                           f"{', '.join(problems[:10])}{' ...' if len(problems) > 10 else ''}")
    if len(info["missing_keys"]) and getattr(model, "pooler", None) is not None:
        model.pooler = None  # the checkpoint has no pooler: drop the randomly initialized one
    return model


# ---- modules ---------------------------------------------------------------------------------------------------
class Transformer(nn.Module):
    """The encoder and its tokenizer: ``features`` (input_ids, attention_mask ...) → ``token_embeddings``."""

    def __init__(self, folder, max_seq_length=None, do_lower_case=False, revision=None):
        super().__init__()
        self.auto_model = load_encoder(folder)
        self.tokenizer = Tokenizer.from_pretrained(folder)
        if do_lower_case:
            import tokenizers as tk
            backend = self.tokenizer.backend_tokenizer
            current = backend.normalizer
            parts = [tk.normalizers.Lowercase()] + ([current] if current is not None else [])
            backend.normalizer = tk.normalizers.Sequence(parts)
        self.do_lower_case = bool(do_lower_case)
        if max_seq_length is None:
            limit = getattr(self.auto_model.config, "max_position_embeddings", None)
            max_seq_length = self.tokenizer.model_max_length if limit is None else min(
                self.tokenizer.model_max_length, limit)
        self.max_seq_length = int(max_seq_length)
        import inspect
        params = inspect.signature(self.auto_model.forward).parameters
        self._takes_token_types = "token_type_ids" in params
        self._takes_positions = "position_ids" in params

    def tokenize(self, texts):
        enc = self.tokenizer(list(texts), padding=True, truncation="longest_first", max_length=self.max_seq_length,
                             return_tensors="zoo")
        return dict(enc)

    def forward(self, features):
        inputs = {"input_ids": features["input_ids"], "attention_mask": features.get("attention_mask")}
        if self._takes_token_types and features.get("token_type_ids") is not None:
            inputs["token_type_ids"] = features["token_type_ids"]
        mask = features.get("attention_mask")
        if self._takes_positions and mask is not None and features.get("position_ids") is None:
            positions = position_ids_for(mask.cpu().numpy())  # left padding: count positions from the first token
            if positions is not None:
                inputs["position_ids"] = from_numpy(positions).to(mask.device)
        out = self.auto_model(**inputs)
        features = dict(features)
        features["token_embeddings"] = out.last_hidden_state
        return features

    def get_word_embedding_dimension(self):
        return int(self.auto_model.config.hidden_size)


class Pooling(nn.Module):
    """Token embeddings → one sentence embedding per text, by one or several pooling modes (concatenated)."""

    def __init__(self, embedding_dimension, pooling_mode="mean"):
        super().__init__()
        modes = (pooling_mode,) if isinstance(pooling_mode, str) else tuple(pooling_mode)
        if not modes:
            raise ValueError("Pooling: pooling_mode names no mode")
        for mode in modes:
            if mode not in POOLING_MODES:
                raise ValueError(f"Pooling: unknown pooling mode {mode!r}; supported: {', '.join(POOLING_MODES)}")
        self.modes = modes
        self.embedding_dimension = int(embedding_dimension)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        dim = config.get("embedding_dimension", config.get("word_embedding_dimension"))
        if dim is None:
            raise ValueError("Pooling config names no embedding_dimension / word_embedding_dimension")
        mode = config.get("pooling_mode")
        if mode is None:
            mode = tuple(m for key, m in _LEGACY_POOLING_KEYS.items() if config.get(key)) or ("mean",)
        return cls(dim, mode)

    def forward(self, features):
        tokens = features["token_embeddings"]
        mask = features.get("attention_mask")
        batch, length = tokens.shape[0], tokens.shape[1]
        if mask is None:
            mask_np = np.ones((batch, length), dtype=np.int64)
        else:
            mask_np = mask.cpu().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
        maskf = from_numpy((mask_np != 0).astype(tokens.dtype.name)).to(tokens.device)[:, :, None]
        vectors = []
        for mode in self.modes:
            if mode == "cls":
                first = (mask_np != 0).argmax(axis=1)  # the first attended token (left padding aware)
                vectors.append(tokens[np.arange(batch), first])
            elif mode == "max":
                vectors.append(tokens.masked_fill(maskf == 0, float("-inf")).amax(dim=1))
            elif mode in ("mean", "mean_sqrt_len_tokens"):
                total = (tokens * maskf).sum(dim=1)
                count = maskf.sum(dim=1).clamp(min=1e-9)
                vectors.append(total / (count if mode == "mean" else count.sqrt()))
            elif mode == "weightedmean":
                pad_left = (mask_np != 0).argmax(axis=1)
                weights = np.arange(1, length + 1, dtype=np.float64)[None, :] - pad_left[:, None]
                w = from_numpy((weights * (mask_np != 0)).astype(tokens.dtype.name)).to(tokens.device)[:, :, None]
                vectors.append((tokens * w).sum(dim=1) / w.sum(dim=1).clamp(min=1e-9))
            elif mode == "lasttoken":
                flipped = (mask_np[:, ::-1] != 0)
                any_attended = flipped.any(axis=1)
                last = np.where(any_attended, length - 1 - flipped.argmax(axis=1), length - 1)
                vectors.append((tokens * maskf)[np.arange(batch), last])
        features = dict(features)
        features["sentence_embedding"] = vectors[0] if len(vectors) == 1 else cat(vectors, dim=-1)
        return features

    def get_sentence_embedding_dimension(self):
        return self.embedding_dimension * len(self.modes)


_DENSE_ACTIVATIONS = {"Tanh": nn.Tanh, "Identity": nn.Identity, "ReLU": nn.ReLU, "GELU": nn.GELU,
                      "Sigmoid": nn.Sigmoid, "SiLU": nn.SiLU}


class Dense(nn.Module):
    """A linear layer with an activation on the sentence embedding (``linear.weight`` / ``linear.bias``)."""

    def __init__(self, in_features, out_features, bias=True, activation_function="torch.nn.modules.activation.Tanh"):
        super().__init__()
        name = str(activation_function).rsplit(".", 1)[-1]
        if name not in _DENSE_ACTIVATIONS:
            raise NotImplementedError(f"Dense: activation {activation_function!r} is not supported; supported: "
                                      f"{', '.join(sorted(_DENSE_ACTIVATIONS))}")
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.activation_function = _DENSE_ACTIVATIONS[name]()

    @classmethod
    def load(cls, folder):
        from ..weights.pretrained import load_state_dict_from_dir
        config = _read_json(os.path.join(folder, "config.json"), "Dense config")
        module = cls(config["in_features"], config["out_features"], config.get("bias", True),
                     config.get("activation_function", "torch.nn.modules.activation.Tanh"))
        state, source = load_state_dict_from_dir(folder)
        module.load_state_dict({k: v for k, v in state.items() if k.startswith("linear.")})
        return module

    def forward(self, features):
        features = dict(features)
        features["sentence_embedding"] = self.activation_function(self.linear(features["sentence_embedding"]))
        return features


class Normalize(nn.Module):
    """L2-normalizes the sentence embedding."""

    def forward(self, features):
        features = dict(features)
        features["sentence_embedding"] = F.normalize(features["sentence_embedding"], p=2.0, dim=-1)
        return features


# ---- the model -------------------------------------------------------------------------------------------------
class SentenceTransformer(nn.Sequential):
    """A sentence-transformers model run by zoo: ``SentenceTransformer(path_or_repo_id).encode(sentences)``.

    ``model_name_or_path`` is a sentence-transformers folder, a plain Transformers encoder folder (mean pooling is
    added), or a hub repo id (an installed package carrying it is used first; see ``zoo.text.pretrained``).
    ``device`` moves the model (``"cpu"``, ``"cuda"``).
    """

    def __init__(self, model_name_or_path, device=None, revision=None):
        folder = resolve_text_model_dir(model_name_or_path, revision)
        modules = _load_modules(folder)
        super().__init__(*modules)
        self.model_name_or_path = os.fspath(model_name_or_path)
        if device is not None:
            self.to(device)
        self.eval()

    # the parts ---------------------------------------------------------------------------------------------------
    @property
    def transformer(self):
        return self[0]

    @property
    def tokenizer(self):
        return self[0].tokenizer

    @property
    def max_seq_length(self):
        return self[0].max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value):
        self[0].max_seq_length = int(value)

    @property
    def normalizes(self):
        """Whether the model's last module L2-normalizes the embeddings."""
        return any(isinstance(m, Normalize) for m in self)

    @property
    def device(self):
        for p in self.parameters():
            return p.device
        from ..core.device import as_device
        return as_device("cpu")

    def get_sentence_embedding_dimension(self):
        for m in reversed(list(self)):
            if isinstance(m, Dense):
                return m.linear.out_features
            if isinstance(m, Pooling):
                return m.get_sentence_embedding_dimension()
        return self[0].get_word_embedding_dimension()

    def tokenize(self, texts):
        """Model inputs (zoo tensors) for a list of texts: padded to the longest, truncated to max_seq_length."""
        return self[0].tokenize(texts)

    def forward(self, features):
        for module in self:
            features = module(features)
        return features

    # encoding ----------------------------------------------------------------------------------------------------
    def encode(self, sentences, batch_size=32, show_progress_bar=False, output_value="sentence_embedding",
               convert_to_numpy=True, convert_to_tensor=False, normalize_embeddings=False, device=None):
        """Embeddings of ``sentences`` (a string, or a list of strings), as sentence-transformers computes them.

        Texts are sorted by length (longest first) so that each batch of ``batch_size`` pads little, and the results
        are put back in the input order. Returns a (n, dim) float32 NumPy array (``convert_to_numpy``), a zoo tensor
        (``convert_to_tensor``) or a list of tensors; one string gives one (dim,) vector.
        ``output_value="token_embeddings"`` gives each text's token embeddings (padding removed) instead.
        ``normalize_embeddings`` L2-normalizes them (the model's own Normalize module, if any, always runs).
        """
        if output_value not in ("sentence_embedding", "token_embeddings"):
            raise ValueError(f"encode: output_value must be 'sentence_embedding' or 'token_embeddings', got "
                             f"{output_value!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"encode: batch_size must be a positive int, got {batch_size!r}")
        single = isinstance(sentences, str)
        texts = [sentences] if single else sentences
        if not isinstance(texts, (list, tuple)):
            raise TypeError(f"encode: sentences must be a string or a list of strings, got {type(sentences).__name__}")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"encode: sentences[{i}] is a {type(t).__name__}, not a string")
        if device is not None:
            self.to(device)
        self.eval()
        order = np.argsort([-len(t) for t in texts], kind="stable")
        results = [None] * len(texts)
        starts = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm import tqdm
            starts = tqdm(starts, desc="Batches")
        with inference_mode():
            for start in starts:
                idx = order[start:start + batch_size]
                features = self.tokenize([texts[i] for i in idx])
                features = {k: v.to(self.device) for k, v in features.items()}
                out = self(features)
                if output_value == "token_embeddings":
                    mask = out["attention_mask"].cpu().numpy()
                    for row, i in enumerate(idx):
                        n = int(mask[row].nonzero()[0].max()) + 1 if mask[row].any() else 0
                        results[i] = out["token_embeddings"][row, :n]
                    continue
                emb = out["sentence_embedding"]
                if normalize_embeddings:
                    emb = F.normalize(emb, p=2.0, dim=1)
                for row, i in enumerate(idx):
                    results[i] = emb[row]
        if output_value == "token_embeddings":
            if convert_to_numpy and not convert_to_tensor:
                results = [r.cpu().numpy() for r in results]
            return results[0] if single else results
        if convert_to_tensor:
            out = stack(results) if results else None
            if out is None:
                from ..core.creation import zeros
                out = zeros(0)
        elif convert_to_numpy:
            out = (np.stack([r.cpu().numpy() for r in results]).astype(np.float32) if results
                   else np.zeros((0,), dtype=np.float32))
        else:
            out = results
        return out[0] if single else out

    def similarity(self, a, b):
        """Cosine similarity matrix between two sets of embeddings (arrays or tensors), as a NumPy array."""
        a = a.cpu().numpy() if isinstance(a, Tensor) else np.asarray(a, dtype=np.float64)
        b = b.cpu().numpy() if isinstance(b, Tensor) else np.asarray(b, dtype=np.float64)
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
        return a @ b.T

    def __repr__(self):
        parts = ", ".join(type(m).__name__ for m in self)
        return f"SentenceTransformer({self.model_name_or_path!r}: {parts}; max_seq_length={self.max_seq_length})"


def _module_kind(entry, modules_file):
    kind = entry.get("type")
    if not isinstance(kind, str):
        raise ValueError(f"{modules_file}: module entry {entry!r} has no 'type'")
    name = kind.rsplit(".", 1)[-1]
    if name not in ("Transformer", "Pooling", "Dense", "Normalize"):
        raise NotImplementedError(f"{modules_file}: module type {kind!r} is not supported by zoo; supported: "
                                  "Transformer, Pooling, Dense, Normalize")
    return name


def _transformer_module(folder):
    settings = {}
    for name in ("sentence_bert_config.json", "sentence_xlnet_config.json"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            settings = _read_json(path, "sentence-transformers settings")
            break
    return Transformer(folder, max_seq_length=settings.get("max_seq_length"),
                       do_lower_case=settings.get("do_lower_case", False))


def _load_modules(folder):
    modules_file = os.path.join(folder, "modules.json")
    if not os.path.isfile(modules_file):
        if not os.path.isfile(os.path.join(folder, "config.json")):
            raise FileNotFoundError(f"{folder} is neither a sentence-transformers model (no modules.json) nor a "
                                    "Transformers model (no config.json)")
        first = _transformer_module(folder)
        return [first, Pooling(first.get_word_embedding_dimension(), "mean")]
    entries = _read_json(modules_file, "module list")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{modules_file}: expected a non-empty JSON list of modules")
    entries = sorted(entries, key=lambda e: e.get("idx", 0))
    modules = []
    for i, entry in enumerate(entries):
        kind = _module_kind(entry, modules_file)
        sub = os.path.join(folder, entry.get("path") or "")
        if kind == "Transformer":
            if i != 0:
                raise NotImplementedError(f"{modules_file}: the Transformer module must come first")
            modules.append(_transformer_module(sub))
        elif i == 0:
            raise NotImplementedError(f"{modules_file}: the first module must be a Transformer, got {entry['type']}")
        elif kind == "Pooling":
            modules.append(Pooling.from_config(_read_json(os.path.join(sub, "config.json"), "Pooling config")))
        elif kind == "Dense":
            modules.append(Dense.load(sub))
        else:
            modules.append(Normalize())
    return modules
