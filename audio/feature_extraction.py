"""Wav2Vec2's input processing in Hugging Face's file layout:

* :class:`Wav2Vec2FeatureExtractor` (``preprocessor_config.json``: ``feature_size``, ``sampling_rate``,
  ``padding_value``, ``do_normalize``, ``return_attention_mask``, ``padding_side``): raw mono audio -> padded
  ``input_values`` (zero mean / unit variance per utterance with ``do_normalize``) and ``attention_mask``;
* :class:`Wav2Vec2CTCTokenizer` (``vocab.json`` + ``special_tokens_map.json`` / ``tokenizer_config.json``): CTC
  ids -> text, with greedy CTC decoding (:meth:`Wav2Vec2CTCTokenizer.decode` collapses repeats, drops the blank
  = pad token and maps the word delimiter ``|`` to spaces).
"""
import json
import os

import numpy as np

__all__ = ["Wav2Vec2FeatureExtractor", "Wav2Vec2CTCTokenizer", "ctc_greedy_ids"]

PREPROCESSOR_NAME = "preprocessor_config.json"


def _local_or_hub(name_or_path, filename, revision=None, required=True):
    """Path of ``filename`` in a model directory or hub repo (None when absent and not ``required``)."""
    path = os.fspath(name_or_path)
    if os.path.isdir(path):
        f = os.path.join(path, filename)
        if os.path.isfile(f):
            return f
        if required:
            raise FileNotFoundError(f"{path} has no {filename}")
        return None
    if os.path.isfile(path) and os.path.basename(path) == filename:
        return path
    from ..weights.hub import hub_file, is_repo_id
    if not is_repo_id(path):
        raise FileNotFoundError(f"no model directory {path!r}, and it is not a Hugging Face hub repo id either")
    try:
        return hub_file(path, filename, revision=revision)
    except Exception:
        if required:
            raise
        return None


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


class Wav2Vec2FeatureExtractor:
    """Transformers' Wav2Vec2FeatureExtractor: ``extractor(raw_speech, sampling_rate=16000)`` ->
    ``{"input_values": [batch, samples], "attention_mask": [batch, samples]}`` (zoo tensors, or NumPy with
    ``return_tensors="np"``). ``raw_speech`` is one 1-D signal or a list of them (padded to the longest with
    ``padding_value``); ``sampling_rate`` must equal the extractor's."""

    model_input_names = ["input_values", "attention_mask"]

    def __init__(self, feature_size=1, sampling_rate=16000, padding_value=0.0, return_attention_mask=False,
                 do_normalize=True, padding_side="right", **kwargs):
        if feature_size != 1:
            raise ValueError(f"Wav2Vec2FeatureExtractor: feature_size must be 1 (raw mono audio), got {feature_size}")
        if padding_side not in ("right", "left"):
            raise ValueError(f"Wav2Vec2FeatureExtractor: padding_side must be 'right' or 'left', got {padding_side!r}")
        self.feature_size = feature_size
        self.sampling_rate = int(sampling_rate)
        self.padding_value = float(padding_value)
        self.return_attention_mask = bool(return_attention_mask)
        self.do_normalize = bool(do_normalize)
        self.padding_side = padding_side
        kwargs.pop("feature_extractor_type", None)
        kwargs.pop("processor_class", None)
        self.extra = kwargs

    # files ------------------------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path, revision=None, **kwargs):
        """Read ``preprocessor_config.json`` of a model directory or hub repo; ``kwargs`` override its values."""
        config = _read_json(_local_or_hub(name_or_path, PREPROCESSOR_NAME, revision))
        return cls(**{**config, **kwargs})

    def to_dict(self):
        return {"feature_extractor_type": type(self).__name__, "feature_size": self.feature_size,
                "sampling_rate": self.sampling_rate, "padding_value": self.padding_value,
                "return_attention_mask": self.return_attention_mask, "do_normalize": self.do_normalize,
                "padding_side": self.padding_side, **self.extra}

    def save_pretrained(self, directory):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, PREPROCESSOR_NAME), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")

    # processing -------------------------------------------------------------------------------------------------
    @staticmethod
    def zero_mean_unit_var_norm(values, lengths=None, padding_value=0.0):
        """Each signal minus its mean, over sqrt(variance + 1e-7), computed over its first ``lengths[i]``
        samples (the rest is set to ``padding_value``)."""
        out = []
        for i, v in enumerate(values):
            v = np.asarray(v, dtype=np.float32)
            n = v.shape[-1] if lengths is None else int(lengths[i])
            part = v[:n]
            normed = (part - part.mean()) / np.sqrt(part.var() + 1e-7)
            if n < v.shape[-1]:
                normed = np.concatenate([normed, np.full(v.shape[-1] - n, padding_value, np.float32)])
            out.append(normed.astype(np.float32))
        return out

    def __call__(self, raw_speech, sampling_rate=None, padding=True, max_length=None, truncation=False,
                 return_attention_mask=None, return_tensors="zoo"):
        if sampling_rate is not None and int(sampling_rate) != self.sampling_rate:
            raise ValueError(f"the audio has sampling rate {sampling_rate} Hz but this feature extractor expects "
                             f"{self.sampling_rate} Hz: resample it first (zoo.audio.functional.resample)")
        batched = isinstance(raw_speech, (list, tuple)) and len(raw_speech) > 0 and \
            not np.isscalar(raw_speech[0])
        if not batched and isinstance(raw_speech, np.ndarray) and raw_speech.ndim == 2:
            batched = True
        signals = [self._as_array(s) for s in (raw_speech if batched else [raw_speech])]
        if truncation:
            if max_length is None:
                raise ValueError("truncation=True needs max_length")
            signals = [s[:max_length] for s in signals]
        lengths = [len(s) for s in signals]
        if padding in (True, "longest"):
            target = max(lengths)
        elif padding == "max_length":
            if max_length is None:
                raise ValueError("padding='max_length' needs max_length")
            target = max_length
        elif padding in (False, "do_not_pad"):
            if len(set(lengths)) > 1 and return_tensors is not None:
                raise ValueError("signals of different lengths need padding=True to be returned as one tensor")
            target = max(lengths)
        else:
            raise ValueError(f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', got {padding!r}")
        want_mask = self.return_attention_mask if return_attention_mask is None else return_attention_mask
        if self.do_normalize:
            # normalized over the real samples (Transformers does this when the attention mask is used)
            signals = self.zero_mean_unit_var_norm(signals)
        values = np.full((len(signals), target), self.padding_value, dtype=np.float32)
        mask = np.zeros((len(signals), target), dtype=np.int64)
        for i, s in enumerate(signals):
            n = min(len(s), target)
            if self.padding_side == "right":
                values[i, :n] = s[:n]
                mask[i, :n] = 1
            else:
                values[i, target - n:] = s[:n]
                mask[i, target - n:] = 1
        out = {"input_values": values}
        if want_mask:
            out["attention_mask"] = mask
        if return_tensors in ("zoo", "pt"):
            from ..core import from_numpy
            out = {k: from_numpy(np.ascontiguousarray(v)) for k, v in out.items()}
        elif return_tensors not in ("np", None):
            raise ValueError(f"return_tensors must be 'zoo' or 'np', got {return_tensors!r}")
        return out

    @staticmethod
    def _as_array(signal):
        from ..core.tensor import Tensor
        if isinstance(signal, Tensor):
            signal = signal.detach().cpu().numpy()
        a = np.asarray(signal, dtype=np.float32)
        if a.ndim == 2 and 1 in a.shape:
            a = a.reshape(-1)
        if a.ndim != 1:
            raise ValueError(f"expected mono audio (a 1-D signal), got shape {a.shape}; mix it down first "
                             "(zoo.audio.to_mono)")
        if a.size == 0:
            raise ValueError("the audio signal is empty")
        return a

    def __repr__(self):
        return f"{type(self).__name__} {json.dumps(self.to_dict(), sort_keys=True)}"


def ctc_greedy_ids(logits):
    """Greedy CTC path: the argmax id of every frame (``logits`` [frames, vocab] NumPy or zoo tensor)."""
    from ..core.tensor import Tensor
    if isinstance(logits, Tensor):
        logits = logits.detach().cpu().numpy()
    return np.asarray(logits).argmax(-1)


class Wav2Vec2CTCTokenizer:
    """Transformers' Wav2Vec2CTCTokenizer for decoding: ``vocab.json`` maps characters to ids; the pad token is
    the CTC blank and ``word_delimiter_token`` ("|") stands for a space."""

    def __init__(self, vocab, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                 word_delimiter_token="|", do_lower_case=False, **kwargs):
        if not isinstance(vocab, dict) or not vocab:
            raise ValueError("Wav2Vec2CTCTokenizer needs a non-empty vocabulary {token: id}")
        self.vocab = {str(k): int(v) for k, v in vocab.items()}
        self.id_to_token = {v: k for k, v in self.vocab.items()}
        self.bos_token, self.eos_token, self.unk_token, self.pad_token = bos_token, eos_token, unk_token, pad_token
        self.word_delimiter_token = word_delimiter_token
        self.do_lower_case = do_lower_case
        if pad_token not in self.vocab:
            raise ValueError(f"the vocabulary has no pad token {pad_token!r} (the CTC blank)")
        self.pad_token_id = self.vocab[pad_token]

    @staticmethod
    def _token_str(tok):
        if isinstance(tok, dict):  # {"content": "<pad>", ...} in tokenizer_config.json
            return tok.get("content")
        return tok

    @classmethod
    def from_pretrained(cls, name_or_path, revision=None, **kwargs):
        vocab = _read_json(_local_or_hub(name_or_path, "vocab.json", revision))
        if vocab and all(isinstance(v, dict) for v in vocab.values()):  # multilingual {lang: vocab}
            lang = kwargs.pop("target_lang", None)
            if lang is None:
                raise ValueError(f"{name_or_path}: vocab.json holds one vocabulary per language "
                                 f"({', '.join(sorted(vocab)[:5])} ...); pass target_lang=")
            vocab = vocab[lang]
        options = {}
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            path = _local_or_hub(name_or_path, name, revision, required=False)
            if path:
                data = _read_json(path)
                for key in ("bos_token", "eos_token", "unk_token", "pad_token", "word_delimiter_token",
                            "do_lower_case"):
                    if key in data and data[key] is not None:
                        options[key] = cls._token_str(data[key])
        return cls(vocab, **{**options, **kwargs})

    def save_pretrained(self, directory):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(self.vocab, f, ensure_ascii=False)
        with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer_class": "Wav2Vec2CTCTokenizer", "bos_token": self.bos_token,
                       "eos_token": self.eos_token, "unk_token": self.unk_token, "pad_token": self.pad_token,
                       "word_delimiter_token": self.word_delimiter_token, "do_lower_case": self.do_lower_case}, f)

    def __len__(self):
        return len(self.vocab)

    def convert_ids_to_tokens(self, ids):
        return [self.id_to_token.get(int(i), self.unk_token) for i in ids]

    def decode(self, token_ids, skip_special_tokens=False, group_tokens=True):
        """Text of CTC ids, as Transformers decodes them: special tokens other than the blank dropped first (with
        ``skip_special_tokens``), repeats collapsed (``group_tokens``), blanks (the pad token) dropped, ``|`` ->
        space, the ends stripped."""
        tokens = self.convert_ids_to_tokens(int(i) for i in np.asarray(token_ids).reshape(-1))
        if skip_special_tokens:
            special = {self.bos_token, self.eos_token, self.unk_token}
            tokens = [t for t in tokens if t not in special]
        if group_tokens:
            tokens = [t for k, t in enumerate(tokens) if k == 0 or t != tokens[k - 1]]
        tokens = [t for t in tokens if t != self.pad_token]
        return "".join(" " if t == self.word_delimiter_token else t for t in tokens).strip()

    def batch_decode(self, sequences, **kwargs):
        return [self.decode(s, **kwargs) for s in sequences]
