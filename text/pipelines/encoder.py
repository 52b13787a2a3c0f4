"""Pipelines over text encoders, with Hugging Face's task names, options and output formats:

* ``feature-extraction``: the encoder's token features, nested lists ``[[[...] * hidden] * tokens]`` (a batch of
  one, as Transformers returns them), or a (1, tokens, hidden) tensor with ``return_tensors=True``;
* ``sentence-embedding``: one embedding per text, a NumPy vector equal to ``SentenceTransformer.encode``;
* ``fill-mask``: ``[{"score", "token", "token_str", "sequence"}]`` for the mask token (a list of such lists when
  there are several), ``top_k`` (5) and optional ``targets``;
* ``text-classification``: ``{"label", "score"}`` per text (a list of ``top_k`` of them when ``top_k`` is given,
  ``top_k=None`` for all labels), ``function_to_apply`` ``"softmax"`` / ``"sigmoid"`` / ``"none"`` (by default
  from the config's problem_type and number of labels, as Transformers); a text pair is ``{"text", "text_pair"}``;
* ``token-classification``: entities, ``aggregation_strategy`` ``"none"`` (one per token: ``entity``, ``score``,
  ``index``, ``word``, ``start``, ``end``), or ``"simple"`` / ``"first"`` / ``"average"`` / ``"max"`` (grouped:
  ``entity_group``, ``score``, ``word``, ``start``, ``end``); labels in ``ignore_labels`` (``["O"]``) are dropped.

``model`` is a model directory, a hub repo id, or a model object together with ``tokenizer=``. Inputs of a batch
(``batch_size``) are padded on the right to the longest by :meth:`TextPipeline._collate`, and each result is computed
on its own tokens only, so batched results equal one-by-one results.
"""
import inspect
import warnings

import numpy as np

from ...core.creation import from_numpy
from ...pipelines.base import Pipeline
from ..tokenization import VERY_LARGE_INTEGER, Tokenizer, resolve_text_model_dir

__all__ = ["TextPipeline", "FeatureExtractionPipeline", "SentenceEmbeddingPipeline", "FillMaskPipeline",
           "TextClassificationPipeline", "TokenClassificationPipeline"]

# how each tokenizer output is padded in a batch
_PAD_VALUES = {"attention_mask": 0, "token_type_ids": 0, "special_tokens_mask": 1, "offset_mapping": 0}
_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _head_class(folder, suffix):
    """The registered class for a model folder with the head ``suffix`` ("ForMaskedLM" ...): the config's own
    architecture when it has that head, else the model type's class with it."""
    from ...weights.pretrained import _read_config, get_model_class, list_architectures
    config = _read_config(folder)
    archs = config.get("architectures") or []
    model_type = config.get("model_type")
    known = list_architectures()
    if archs and archs[0].endswith(suffix) and archs[0] in known:
        return get_model_class(archs[0])
    candidates = [a for a, t in known.items() if t == model_type and a.endswith(suffix)]
    if not candidates:
        raise ValueError(f"{folder}: zoo has no {suffix[3:] or suffix} model for model type {model_type!r} "
                         f"(config architectures: {archs or 'none'})")
    return get_model_class(candidates[0])


def _softmax(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


class TextPipeline(Pipeline):
    """Base of the text pipelines: the model comes with a :class:`Tokenizer` (``tokenizer=`` a Tokenizer, a
    directory or a hub id; by default the model's own), inputs are tokenized to (1, length) arrays, and a batch is
    padded on the tokenizer's ``padding_side``."""

    head_suffix = None  # the model head to build from a name ("ForMaskedLM" ...); None: the bare encoder

    def __init__(self, model, *, tokenizer=None, task=None, device=None, batch_size=None, revision=None, **kwargs):
        if tokenizer is not None and not isinstance(tokenizer, Tokenizer):
            tokenizer = Tokenizer.from_pretrained(tokenizer)
        self.tokenizer = tokenizer
        super().__init__(model, task=task, device=device, batch_size=batch_size, revision=revision, **kwargs)
        if self.tokenizer is None:
            raise ValueError(f"{type(self).__name__}: a model object needs its tokenizer: pass tokenizer= (a "
                             "zoo.text.Tokenizer, a directory or a hub repo id)")
        params = inspect.signature(self.model.forward).parameters
        self._input_names = [n for n in _MODEL_INPUTS if n in params]

    def load_model(self, name, revision=None):
        folder = resolve_text_model_dir(name, revision)
        if self.tokenizer is None:
            self.tokenizer = Tokenizer.from_pretrained(folder)
        return self._build_model(folder)

    def _build_model(self, folder):
        if self.head_suffix is None:
            from ..sentence_transformers import load_encoder
            return load_encoder(folder)
        return _head_class(folder, self.head_suffix).from_pretrained(folder)

    # tokenization and batching ---------------------------------------------------------------------------------
    def _tokenize(self, text, text_pair=None, truncation=None, **kwargs):
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}: expected a string (or a list of strings), got "
                            f"{type(text).__name__}")
        return dict(self.tokenizer(text, text_pair, truncation=truncation, return_tensors="np", **kwargs))

    def _collate(self, items):
        """Pad the token arrays of the items to the longest, on the right whatever the tokenizer's padding_side:
        these encoders read the first token (the classifiers, the pooler) and count positions from the first slot, so
        only right padding leaves every item's result as it is alone. Other values are gathered into lists."""
        if len(items) == 1:
            return {k: (v if isinstance(v, np.ndarray) else [v]) for k, v in items[0].items()}
        longest = max(it["input_ids"].shape[1] for it in items)
        out = {}
        for key in items[0]:
            values = [it[key] for it in items]
            if not isinstance(values[0], np.ndarray):
                out[key] = values
                continue
            if key == "input_ids":
                pad_value = self.tokenizer.pad_token_id
                if pad_value is None:
                    raise ValueError(f"{type(self).__name__}: batching needs a pad token and the tokenizer has "
                                     "none; set tokenizer.pad_token or use batch_size=1")
            else:
                pad_value = _PAD_VALUES.get(key, 0)
            padded = []
            for v in values:
                extra = longest - v.shape[1]
                widths = [(0, 0)] * v.ndim
                widths[1] = (0, extra)
                padded.append(np.pad(v, widths, constant_values=pad_value))
            out[key] = np.concatenate(padded, 0)
        return out

    def _model_inputs(self, batch):
        return {k: from_numpy(batch[k]).to(self.device) for k in self._input_names if k in batch}

    @staticmethod
    def _kept(item):
        """The positions of an item's own tokens (padding removed) in its padded rows."""
        return np.flatnonzero(item["attention_mask"][0] != 0)


# ---- feature extraction ----------------------------------------------------------------------------------------
class FeatureExtractionPipeline(TextPipeline):
    """Token features of the bare encoder (a head checkpoint's head is ignored)."""

    def _sanitize_parameters(self, truncation=None, tokenize_kwargs=None, return_tensors=None):
        pre = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in pre:
                raise ValueError("truncation given twice (as an option and in tokenize_kwargs)")
            pre["truncation"] = truncation
        post = {} if return_tensors is None else {"return_tensors": return_tensors}
        return pre, {}, post

    def preprocess(self, text, **tokenize_kwargs):
        enc = self._tokenize(text, **tokenize_kwargs)
        enc.setdefault("attention_mask", np.ones_like(enc["input_ids"]))
        return enc

    def _forward(self, batch):
        out = self.model(**self._model_inputs(batch))
        return {"features": out.last_hidden_state.cpu().numpy(), "attention_mask": batch["attention_mask"]}

    def postprocess(self, outputs, return_tensors=False):
        features = outputs["features"][:, self._kept(outputs)]
        if return_tensors:
            return from_numpy(np.ascontiguousarray(features))
        return features.tolist()


# ---- sentence embeddings ---------------------------------------------------------------------------------------
class SentenceEmbeddingPipeline(TextPipeline):
    """One embedding per text from a sentence-transformers model, equal to ``SentenceTransformer.encode``
    (``normalize_embeddings`` as there; the model's own Normalize module always applies)."""

    def __init__(self, model, *, tokenizer=None, **kwargs):
        from ..sentence_transformers import SentenceTransformer
        if not isinstance(model, (str, SentenceTransformer)) and not hasattr(model, "__fspath__"):
            raise TypeError(f"SentenceEmbeddingPipeline needs a zoo.text.SentenceTransformer (or its path / hub id), "
                            f"got {type(model).__name__}")
        if tokenizer is not None:
            raise ValueError("SentenceEmbeddingPipeline uses the SentenceTransformer's own tokenizer; do not pass "
                             "tokenizer=")
        if isinstance(model, SentenceTransformer):
            tokenizer = model.tokenizer
        super().__init__(model, tokenizer=tokenizer, **kwargs)
        self._input_names = list(_MODEL_INPUTS)

    def load_model(self, name, revision=None):
        from ..sentence_transformers import SentenceTransformer
        model = SentenceTransformer(name, revision=revision)
        self.tokenizer = model.tokenizer
        return model

    def _sanitize_parameters(self, normalize_embeddings=None):
        return {}, {}, ({} if normalize_embeddings is None else {"normalize_embeddings": normalize_embeddings})

    def preprocess(self, text):
        if not isinstance(text, str):
            raise TypeError(f"SentenceEmbeddingPipeline: expected a string (or a list of strings), got "
                            f"{type(text).__name__}")
        return dict(self.tokenizer([text], padding=True, truncation="longest_first",
                                   max_length=self.model.max_seq_length, return_tensors="np"))

    def _forward(self, batch):
        features = self.model(self._model_inputs(batch))
        return {"embedding": features["sentence_embedding"].cpu().numpy()}

    def postprocess(self, outputs, normalize_embeddings=False):
        vector = outputs["embedding"][0].astype(np.float32)
        if normalize_embeddings:
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector


# ---- fill-mask -------------------------------------------------------------------------------------------------
class FillMaskPipeline(TextPipeline):
    """The most likely tokens for the tokenizer's mask token (``[MASK]``) in a text."""

    head_suffix = "ForMaskedLM"

    def _sanitize_parameters(self, top_k=None, targets=None, truncation=None, tokenizer_kwargs=None):
        pre = dict(tokenizer_kwargs or {})
        if truncation is not None:
            pre["truncation"] = truncation
        post = {}
        if top_k is not None:
            if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
                raise ValueError(f"fill-mask: top_k must be a positive int, got {top_k!r}")
            post["top_k"] = top_k
        if targets is not None:
            post["target_ids"] = self._target_ids(targets)
        return pre, {}, post

    def _target_ids(self, targets):
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, (list, tuple)) or not all(isinstance(t, str) for t in targets):
            raise TypeError("fill-mask: targets must be a string or a list of strings")
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in targets:
            token_id = vocab.get(target)
            if token_id is None:
                pieces = self.tokenizer(target, add_special_tokens=False, return_attention_mask=False,
                                        return_token_type_ids=False)["input_ids"]
                if not pieces:
                    warnings.warn(f"fill-mask: the target {target!r} does not exist in the model vocabulary and "
                                  "tokenizes to nothing; it is ignored", stacklevel=4)
                    continue
                token_id = pieces[0]
                warnings.warn(f"fill-mask: the target {target!r} does not exist in the model vocabulary; it is "
                              f"replaced by {self.tokenizer.convert_ids_to_tokens(token_id)!r}", stacklevel=4)
            ids.append(token_id)
        ids = sorted(set(ids))
        if not ids:
            raise ValueError("fill-mask: at least one target must be given when targets is passed")
        return ids

    def preprocess(self, text, **tokenize_kwargs):
        mask_id = self.tokenizer.mask_token_id
        if mask_id is None:
            raise ValueError("fill-mask: the tokenizer has no mask token")
        enc = self._tokenize(text, **tokenize_kwargs)
        enc.setdefault("attention_mask", np.ones_like(enc["input_ids"]))
        if not (enc["input_ids"] == mask_id).any():
            raise ValueError(f"fill-mask: no mask token ({self.tokenizer.mask_token}) found in the input {text!r}")
        return enc

    def _forward(self, batch):
        logits = self.model(**self._model_inputs(batch)).logits
        mask_id = self.tokenizer.mask_token_id
        ids = batch["input_ids"]
        per_item = []
        for row in range(ids.shape[0]):
            positions = np.flatnonzero(ids[row] == mask_id)
            per_item.append((positions, logits[row][positions].cpu().numpy()))  # only the masked rows' logits
        return {"masked": per_item, "input_ids": ids, "attention_mask": batch["attention_mask"]}

    def postprocess(self, outputs, top_k=5, target_ids=None):
        positions, logits = outputs["masked"]
        kept = self._kept(outputs)
        tokens = outputs["input_ids"][0][kept]
        # the mask positions among the item's own tokens (padding removed)
        own_positions = [int(np.flatnonzero(kept == p)[0]) for p in positions]
        results = []
        for pos, row in zip(own_positions, logits):
            probs = _softmax(row)
            candidates = np.arange(probs.shape[0]) if target_ids is None else np.asarray(target_ids)
            k = min(top_k, len(candidates))
            sub = probs[candidates]
            best = np.argsort(-sub, kind="stable")[:k]
            entries = []
            for j in best:
                token_id = int(candidates[j])
                filled = tokens.copy()
                filled[pos] = token_id
                # with several masks the special tokens are kept, so the other masks still show (Transformers)
                entries.append({"score": float(sub[j]), "token": token_id,
                                "token_str": self.tokenizer.decode([token_id]),
                                "sequence": self.tokenizer.decode(filled.tolist(),
                                                                  skip_special_tokens=len(own_positions) == 1)})
            results.append(entries)
        return results[0] if len(results) == 1 else results


# ---- text classification ---------------------------------------------------------------------------------------
_FUNCTIONS = ("softmax", "sigmoid", "none")


class TextClassificationPipeline(TextPipeline):
    """Labels of a text (or of a text pair, given as ``{"text": ..., "text_pair": ...}``) from a
    sequence-classification model, with the names of ``config.id2label``."""

    head_suffix = "ForSequenceClassification"

    def _sanitize_parameters(self, top_k="", function_to_apply=None, truncation=None, tokenizer_kwargs=None):
        pre = dict(tokenizer_kwargs or {})
        if truncation is not None:
            pre["truncation"] = truncation
        post = {}
        if top_k != "":
            if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
                raise ValueError(f"text-classification: top_k must be a positive int or None (all labels), got "
                                 f"{top_k!r}")
            post["top_k"] = top_k
        if function_to_apply is not None:
            name = str(function_to_apply).lower()
            if name not in _FUNCTIONS:
                raise ValueError(f"text-classification: function_to_apply must be one of {', '.join(_FUNCTIONS)}, "
                                 f"got {function_to_apply!r}")
            post["function_to_apply"] = name
        return pre, {}, post

    def __call__(self, inputs, *args, **kwargs):
        result = super().__call__(inputs, *args, **kwargs)
        if isinstance(inputs, str) and isinstance(result, dict):
            return [result]  # one text, no top_k: a list holding one {"label", "score"}, as Transformers
        return result

    def preprocess(self, inputs, **tokenize_kwargs):
        if isinstance(inputs, dict):
            unknown = set(inputs) - {"text", "text_pair"}
            if "text" not in inputs or unknown:
                raise ValueError("text-classification: a text pair must be given as {'text': ..., 'text_pair': ...}")
            enc = self._tokenize(inputs["text"], inputs.get("text_pair"), **tokenize_kwargs)
        elif isinstance(inputs, (list, tuple)):
            raise ValueError("text-classification: a text pair must be given as {'text': ..., 'text_pair': ...}, "
                             "not as a list")
        else:
            enc = self._tokenize(inputs, **tokenize_kwargs)
        enc.setdefault("attention_mask", np.ones_like(enc["input_ids"]))
        return enc

    def _forward(self, batch):
        return {"logits": self.model(**self._model_inputs(batch)).logits.cpu().numpy()}

    def _default_function(self):
        config = self.model.config
        problem = getattr(config, "problem_type", None)
        if problem == "regression":
            return "none"
        if problem == "multi_label_classification" or config.num_labels == 1:
            return "sigmoid"
        return "softmax"

    def postprocess(self, outputs, top_k="", function_to_apply=None):
        function_to_apply = function_to_apply or self._default_function()
        logits = outputs["logits"][0]
        scores = (_softmax(logits) if function_to_apply == "softmax" else _sigmoid(logits)
                  if function_to_apply == "sigmoid" else np.asarray(logits, dtype=np.float64))
        id2label = self.model.config.id2label or {}
        labels = [id2label.get(i, f"LABEL_{i}") for i in range(len(scores))]
        if top_k == "":  # Transformers' default: the best label only, as a dict
            best = int(np.argmax(scores))
            return {"label": labels[best], "score": float(scores[best])}
        ranked = sorted(({"label": labels[i], "score": float(s)} for i, s in enumerate(scores)),
                        key=lambda d: d["score"], reverse=True)
        return ranked if top_k is None else ranked[:top_k]


# ---- token classification --------------------------------------------------------------------------------------
_AGGREGATIONS = ("none", "simple", "first", "average", "max")


class TokenClassificationPipeline(TextPipeline):
    """Named entities (or any token labels) of a text from a token-classification model. Texts longer than the
    tokenizer's ``model_max_length`` are truncated."""

    head_suffix = "ForTokenClassification"

    def _sanitize_parameters(self, aggregation_strategy=None, ignore_labels=None, stride=None):
        if stride is not None:
            raise NotImplementedError("token-classification: stride (overlapping windows over long texts) is not "
                                      "supported by zoo; texts are truncated to model_max_length")
        post = {}
        if aggregation_strategy is not None:
            name = getattr(aggregation_strategy, "value", aggregation_strategy)
            name = str(name).lower()
            if name not in _AGGREGATIONS:
                raise ValueError(f"token-classification: aggregation_strategy must be one of "
                                 f"{', '.join(_AGGREGATIONS)}, got {aggregation_strategy!r}")
            post["aggregation_strategy"] = name
        if ignore_labels is not None:
            post["ignore_labels"] = list(ignore_labels)
        return {}, {}, post

    def preprocess(self, text):
        truncate = self.tokenizer.model_max_length < VERY_LARGE_INTEGER
        enc = self._tokenize(text, truncation=True if truncate else None, return_special_tokens_mask=True,
                             return_offsets_mapping=True)
        enc.setdefault("attention_mask", np.ones_like(enc["input_ids"]))
        enc["sentence"] = text
        return enc

    def _forward(self, batch):
        logits = self.model(**self._model_inputs(batch)).logits.cpu().numpy()
        return {"logits": logits, "input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
                "special_tokens_mask": batch["special_tokens_mask"], "offset_mapping": batch["offset_mapping"],
                "sentence": batch["sentence"]}

    def postprocess(self, outputs, aggregation_strategy="none", ignore_labels=("O",)):
        kept = self._kept(outputs)
        logits = outputs["logits"][0][kept]
        input_ids = outputs["input_ids"][0][kept]
        special = outputs["special_tokens_mask"][0][kept]
        offsets = outputs["offset_mapping"][0][kept]
        sentence = outputs["sentence"]
        scores = _softmax(logits).astype(np.float32)
        pre = self._pre_entities(sentence, input_ids, scores, offsets, special)
        if aggregation_strategy in ("none", "simple"):
            entities = []
            for p in pre:
                best = int(p["scores"].argmax())
                entities.append({"entity": self._label(best), "score": float(p["scores"][best]), "index": p["index"],
                                 "word": p["word"], "start": p["start"], "end": p["end"]})
        else:
            entities = self._aggregate_words(pre, aggregation_strategy)
        if aggregation_strategy != "none":
            entities = self._group_entities(entities)
        ignore = set(ignore_labels)
        return [e for e in entities if e.get("entity") not in ignore and e.get("entity_group") not in ignore]

    def _label(self, index):
        id2label = self.model.config.id2label or {}
        return id2label.get(index, f"LABEL_{index}")

    def _pre_entities(self, sentence, input_ids, scores, offsets, special):
        prefix = getattr(self.tokenizer.backend_tokenizer.model, "continuing_subword_prefix", None)
        unk = self.tokenizer.unk_token_id
        pre = []
        for idx in range(len(input_ids)):
            if special[idx]:
                continue
            token_id = int(input_ids[idx])
            word = self.tokenizer.convert_ids_to_tokens(token_id)
            start, end = int(offsets[idx][0]), int(offsets[idx][1])
            word_ref = sentence[start:end]
            if prefix:
                is_subword = len(word) != len(word_ref)
            else:
                is_subword = start > 0 and " " not in sentence[start - 1:start + 1]
            if token_id == unk:
                word, is_subword = word_ref, False
            pre.append({"word": word, "scores": scores[idx], "start": start, "end": end, "index": idx,
                        "is_subword": is_subword})
        return pre

    def _aggregate_words(self, pre, strategy):
        words, group = [], []
        for p in pre:
            if group and not p["is_subword"]:
                words.append(self._aggregate_word(group, strategy))
                group = []
            group.append(p)
        if group:
            words.append(self._aggregate_word(group, strategy))
        return words

    def _aggregate_word(self, group, strategy):
        if strategy == "first":
            scores = group[0]["scores"]
        elif strategy == "max":
            scores = max(group, key=lambda p: p["scores"].max())["scores"]
        else:
            scores = np.nanmean(np.stack([p["scores"] for p in group]), axis=0)
        best = int(scores.argmax())
        return {"entity": self._label(best), "score": float(scores[best]),
                "word": self.tokenizer.convert_tokens_to_string([p["word"] for p in group]),
                "start": group[0]["start"], "end": group[-1]["end"]}

    @staticmethod
    def _tag(name):
        if name.startswith("B-"):
            return "B", name[2:]
        if name.startswith("I-"):
            return "I", name[2:]
        return "I", name

    def _group(self, entities):
        return {"entity_group": entities[0]["entity"].split("-", 1)[-1],
                "score": float(np.nanmean([e["score"] for e in entities])),
                "word": self.tokenizer.convert_tokens_to_string([e["word"] for e in entities]),
                "start": entities[0]["start"], "end": entities[-1]["end"]}

    def _group_entities(self, entities):
        groups, current = [], []
        for e in entities:
            if current:
                bi, tag = self._tag(e["entity"])
                _, last_tag = self._tag(current[-1]["entity"])
                if not (tag == last_tag and bi != "B"):
                    groups.append(self._group(current))
                    current = []
            current.append(e)
        if current:
            groups.append(self._group(current))
        return groups
