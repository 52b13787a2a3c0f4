"""Tokenizers for zoo.text: :class:`Tokenizer` over Hugging Face's ``tokenizers`` library (Rust), with the calling
conventions of Transformers' tokenizers, and :class:`BatchEncoding`, the dict-like result of a call.

Loading (:meth:`Tokenizer.from_pretrained`, a directory or a hub repo id) reads, as Transformers does:

* ``tokenizer.json`` when there is one (the complete pipeline: normalizer, pre-tokenizer, model, post-processor,
  decoder, added tokens);
* otherwise ``vocab.txt``: a BERT WordPiece tokenizer (BERT normalisation; ``do_lower_case``,
  ``tokenize_chinese_chars`` and ``strip_accents`` from ``tokenizer_config.json``; ``[CLS] A [SEP] B [SEP]``);
* otherwise ``vocab.json`` + ``merges.txt``: a byte-level BPE tokenizer, GPT-2 style (no special tokens added,
  ``add_prefix_space`` from the config), or RoBERTa style (``<s> A </s></s> B </s>``) when
  ``tokenizer_config.json`` names a RoBERTa-family ``tokenizer_class``;

plus ``tokenizer_config.json`` (special tokens, ``model_max_length``, ``padding_side``, ``truncation_side``,
``model_input_names``, ``clean_up_tokenization_spaces``) and ``special_tokens_map.json``, whose entries take
precedence (Transformers' legacy rule) unless the config lists ``added_tokens_decoder``. Special tokens that are not
in the vocabulary are added to it, as Transformers does. Without any config, the special tokens are taken from the
tokenizer's own special added tokens when their names are the usual ones (``[CLS]``, ``<s>``, ``<|endoftext|>`` ...).

Calling conventions (those of Transformers):

* ``padding``: False (default) / ``"do_not_pad"``, True / ``"longest"``, ``"max_length"`` (to ``max_length``, else
  ``model_max_length``); the side is ``tokenizer.padding_side`` (``"right"`` or ``"left"``) or ``padding_side=``;
* ``truncation``: True / ``"longest_first"``, ``"only_first"``, ``"only_second"``, False; to ``max_length``, else
  ``model_max_length``. When ``max_length`` is given and ``truncation`` is not, sequences are truncated
  (``"longest_first"``), as Transformers does. A sequence longer than ``model_max_length`` that is not truncated gives
  a warning (the model would fail on it);
* ``return_tensors``: None (Python lists), ``"np"`` (NumPy int64 arrays) or ``"zoo"`` (zoo int64 tensors; ``"pt"``
  is accepted as a synonym so that ported scripts run). Sequences of different lengths cannot become arrays: that is an
  error asking for ``padding=True``.
"""
import json
import os
import warnings

import numpy as np

__all__ = ["Tokenizer", "BatchEncoding", "VERY_LARGE_INTEGER", "SPECIAL_TOKENS_ATTRIBUTES", "resolve_text_model_dir"]

VERY_LARGE_INTEGER = int(1e30)  # Transformers' "no maximum length"
SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                             "mask_token")
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"

_PADDING = {True: "longest", "longest": "longest", False: "do_not_pad", "do_not_pad": "do_not_pad", None: "do_not_pad",
            "max_length": "max_length"}
_TRUNCATION = {True: "longest_first", "longest_first": "longest_first", "only_first": "only_first",
               "only_second": "only_second", False: "do_not_truncate", "do_not_truncate": "do_not_truncate"}
_RETURN_TENSORS = {None: None, "np": "np", "zoo": "zoo", "pt": "zoo"}

# Tokenizer classes whose inputs carry no token_type_ids (Transformers' model_input_names of those classes).
_NO_TOKEN_TYPES = {"DistilBertTokenizer", "RobertaTokenizer", "GPT2Tokenizer", "BartTokenizer", "LongformerTokenizer",
                   "CamembertTokenizer", "XLMRobertaTokenizer", "T5Tokenizer", "MPNetTokenizer", "CLIPTokenizer",
                   "BloomTokenizer", "GPTNeoXTokenizer", "LlamaTokenizer", "CodeGenTokenizer", "PreTrainedTokenizer"}
_ROBERTA_STYLE = {"RobertaTokenizer", "BartTokenizer", "LongformerTokenizer", "MarkupLMTokenizer"}
_BERT_SPECIALS = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                  "mask_token": "[MASK]"}
_ROBERTA_SPECIALS = {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
                     "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
_GPT2_SPECIALS = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
# The special tokens a tokenizer class has when its config names none (the defaults of Transformers' classes).
_CLASS_SPECIALS = {**{c: _BERT_SPECIALS for c in ("BertTokenizer", "DistilBertTokenizer", "ElectraTokenizer",
                                                    "MobileBertTokenizer", "SqueezeBertTokenizer",
                                                    "LayoutLMTokenizer", "FunnelTokenizer")},
                   **{c: _ROBERTA_SPECIALS for c in _ROBERTA_STYLE}, "GPT2Tokenizer": _GPT2_SPECIALS}
# Usual names of special tokens, used only when there is no tokenizer_config.json nor special_tokens_map.json.
_USUAL_SPECIAL = {"[PAD]": ("pad_token",), "[UNK]": ("unk_token",), "[CLS]": ("cls_token",), "[SEP]": ("sep_token",),
                  "[MASK]": ("mask_token",), "<pad>": ("pad_token",), "<unk>": ("unk_token",),
                  "<mask>": ("mask_token",),
                  "<s>": ("bos_token", "cls_token"), "</s>": ("eos_token", "sep_token"),
                  "<|endoftext|>": ("bos_token", "eos_token", "unk_token")}


def _tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ImportError("zoo.text tokenizers need the 'tokenizers' package (Hugging Face's Rust tokenizers): "
                          "pip install tokenizers") from None
    return tokenizers


def _read_json_file(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the {what} is not valid JSON ({e})") from None


def _token_str(value):
    """A special token's text from a config value: a string, or an AddedToken dict ({"content": ...})."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    raise ValueError(f"a special token must be a string or an AddedToken object with 'content', got {value!r}")


def resolve_text_model_dir(id_or_path, revision=None, allow_patterns=None):
    """The local folder of a model or tokenizer: a local directory as is; a hub repo id that an installed package
    carries (see ``zoo.text.pretrained.PACKAGED_MODELS``) from that package; else the Hugging Face hub (its cache,
    ``HF_HUB_OFFLINE``, revisions) through :func:`zoo.weights.hub.resolve_model_dir`."""
    path = os.fspath(id_or_path)
    if os.path.isdir(path):
        return path
    if revision is None:
        from .pretrained import packaged_model_dir
        folder = packaged_model_dir(path)
        if folder is not None:
            return folder
    from ..weights.hub import resolve_model_dir
    return resolve_model_dir(path, revision, allow_patterns)


# ---- BatchEncoding ---------------------------------------------------------------------------------------------
class BatchEncoding(dict):
    """The result of calling a :class:`Tokenizer`: a dict (``input_ids``, ``attention_mask``, ``token_type_ids``
    ...) whose entries are also attributes (``enc.input_ids``), with the ``tokenizers`` encodings behind it for
    :meth:`tokens`, :meth:`word_ids` and :meth:`sequence_ids`."""

    def __init__(self, data=None, encodings=None):
        super().__init__(data or {})
        self._encodings = encodings

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no entry {name!r}; it has {', '.join(self) or 'none'}") from None

    def __getstate__(self):
        return {"data": dict(self)}

    def __setstate__(self, state):
        self.update(state["data"])
        self._encodings = None

    @property
    def encodings(self):
        """The ``tokenizers.Encoding`` of each sequence (None for an encoding built by hand)."""
        return self._encodings

    def _encoding(self, batch_index):
        if self._encodings is None:
            raise ValueError("this BatchEncoding was not produced by a tokenizer call; it has no token information")
        if not -len(self._encodings) <= batch_index < len(self._encodings):
            raise IndexError(f"batch_index {batch_index} is out of range for a batch of {len(self._encodings)}")
        return self._encodings[batch_index]

    def tokens(self, batch_index=0):
        """The token strings of sequence ``batch_index`` (padding included)."""
        return list(self._encoding(batch_index).tokens)

    def word_ids(self, batch_index=0):
        """For each token of sequence ``batch_index``, the index of the word it comes from (None for special and
        padding tokens)."""
        return list(self._encoding(batch_index).word_ids)

    def sequence_ids(self, batch_index=0):
        """For each token, 0 (first text), 1 (text pair) or None (special and padding tokens)."""
        return list(self._encoding(batch_index).sequence_ids)

    def to(self, device):
        """Move every zoo tensor in the encoding to ``device`` (in place); returns self."""
        from ..core.tensor import Tensor
        for key, value in self.items():
            if isinstance(value, Tensor):
                self[key] = value.to(device)
        return self

    def __repr__(self):
        return f"BatchEncoding({dict.__repr__(self)})"


# ---- Tokenizer -------------------------------------------------------------------------------------------------
class Tokenizer:
    """A text tokenizer with Transformers' API (``tok(texts, padding=True, return_tensors="zoo")``, ``decode``,
    ``save_pretrained`` ...) over a ``tokenizers.Tokenizer``.

    Build one with :meth:`from_pretrained` (a directory or hub repo id), or around a ``tokenizers.Tokenizer`` you
    made: ``Tokenizer(backend, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", ...)``. Special tokens
    are given by their text; ``model_max_length`` (None: no limit), ``padding_side`` / ``truncation_side``
    (``"right"`` or ``"left"``), ``model_input_names`` (None: with ``token_type_ids`` for WordPiece models, without
    otherwise) and ``clean_up_tokenization_spaces`` (for :meth:`decode`) are the usual settings.
    """

    def __init__(self, tokenizer_object, *, bos_token=None, eos_token=None, unk_token=None, sep_token=None,
                 pad_token=None, cls_token=None, mask_token=None, additional_special_tokens=(), model_max_length=None,
                 padding_side="right", truncation_side="right", model_input_names=None,
                 clean_up_tokenization_spaces=False, tokenizer_class=None, name_or_path="", init_kwargs=None):
        tk = _tokenizers()
        if not isinstance(tokenizer_object, tk.Tokenizer):
            raise TypeError(f"Tokenizer expects a tokenizers.Tokenizer, got {type(tokenizer_object).__name__}; "
                            "use Tokenizer.from_pretrained(path_or_repo_id) to load one")
        # a private copy: calls switch its padding / truncation settings on and off
        self._tokenizer = tk.Tokenizer.from_str(tokenizer_object.to_str())
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.name_or_path = name_or_path
        self.tokenizer_class = tokenizer_class
        self.init_kwargs = dict(init_kwargs or {})
        self._special = {}
        for name, value in zip(SPECIAL_TOKENS_ATTRIBUTES,
                               (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token)):
            setattr(self, name, _token_str(value))
        self.additional_special_tokens = [_token_str(t) for t in additional_special_tokens]
        if self.additional_special_tokens:
            self._tokenizer.add_special_tokens([tk.AddedToken(t, special=True, normalized=False)
                                                for t in self.additional_special_tokens])
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        if model_input_names is None:
            model_input_names = (["input_ids", "token_type_ids", "attention_mask"] if self._is_wordpiece()
                                 else ["input_ids", "attention_mask"])
        self.model_input_names = list(model_input_names)
        self.clean_up_tokenization_spaces = bool(clean_up_tokenization_spaces)

    # ---- settings -------------------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if name in ("padding_side", "truncation_side") and value not in ("right", "left"):
            raise ValueError(f"{name} must be 'right' or 'left', got {value!r}")
        if name in SPECIAL_TOKENS_ATTRIBUTES:
            value = _token_str(value)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string (the token's text), got {type(value).__name__}")
            if value is not None:  # as Transformers: a special token is in the vocabulary, and matched whole
                tk = _tokenizers()
                self._tokenizer.add_special_tokens([tk.AddedToken(value, special=True, normalized=False)])
            self._special[name] = value
            return
        super().__setattr__(name, value)

    def __getattr__(self, name):  # only called when normal lookup fails
        special = self.__dict__.get("_special")
        if special is not None:
            if name in SPECIAL_TOKENS_ATTRIBUTES:
                return special.get(name)
            if name.endswith("_token_id") and name[:-3] in SPECIAL_TOKENS_ATTRIBUTES:
                token = special.get(name[:-3])
                return None if token is None else self._tokenizer.token_to_id(token)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _is_wordpiece(self):
        return json.loads(self._tokenizer.model.__getstate__()).get("type") == "WordPiece"

    @property
    def backend_tokenizer(self):
        """The underlying ``tokenizers.Tokenizer``."""
        return self._tokenizer

    @property
    def special_tokens_map(self):
        """``{"cls_token": "[CLS]", ...}`` for the special tokens that are set."""
        out = {k: v for k, v in self._special.items() if v is not None}
        if self.additional_special_tokens:
            out["additional_special_tokens"] = list(self.additional_special_tokens)
        return out

    @property
    def all_special_tokens(self):
        """Every special token's text (named ones first), without duplicates."""
        seen = []
        for t in list(v for v in self._special.values() if v is not None) + self.additional_special_tokens:
            if t not in seen:
                seen.append(t)
        return seen

    @property
    def all_special_ids(self):
        return [self._tokenizer.token_to_id(t) for t in self.all_special_tokens]

    @property
    def vocab_size(self):
        """The size of the base vocabulary (without added tokens), as Transformers counts it."""
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self):
        """The full vocabulary size, added tokens included."""
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self):
        """``{token: id}`` of the full vocabulary."""
        return self._tokenizer.get_vocab(with_added_tokens=True)

    def num_special_tokens_to_add(self, pair=False):
        """How many special tokens a call with ``add_special_tokens=True`` adds to one sequence (or a pair)."""
        return self._tokenizer.num_special_tokens_to_add(pair)

    # ---- loading ----------------------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *, revision=None, **kwargs):
        """Load the tokenizer of a model directory, a ``tokenizer.json`` file, or a Hugging Face hub repo id.

        ``kwargs`` override the values of ``tokenizer_config.json`` (``model_max_length=128``,
        ``padding_side="left"``, ``pad_token="[PAD]"``, ``do_lower_case=False`` for a vocab.txt tokenizer ...).
        """
        tk = _tokenizers()
        path = os.fspath(pretrained_model_name_or_path)
        tokenizer_file = None
        if os.path.isfile(path):
            if not path.endswith(".json"):
                raise ValueError(f"{path} is a file: Tokenizer.from_pretrained expects a directory holding the "
                                 "tokenizer files, a tokenizer.json file, or a hub repo id")
            tokenizer_file, folder = path, os.path.dirname(os.path.abspath(path))
        else:
            folder = resolve_text_model_dir(path, revision, allow_patterns=["*.json", "*.txt", "*.model"])

        def file(name):
            p = os.path.join(folder, name)
            return p if os.path.isfile(p) else None

        config = {}
        if file(TOKENIZER_CONFIG_FILE):
            config = _read_json_file(file(TOKENIZER_CONFIG_FILE), "tokenizer config")
            if not isinstance(config, dict):
                raise ValueError(f"{file(TOKENIZER_CONFIG_FILE)}: the tokenizer config must be a JSON object")
        has_config = bool(config) or file(SPECIAL_TOKENS_MAP_FILE) is not None
        if file(SPECIAL_TOKENS_MAP_FILE) and "added_tokens_decoder" not in config:
            special_map = _read_json_file(file(SPECIAL_TOKENS_MAP_FILE), "special tokens map")
            if not isinstance(special_map, dict):
                raise ValueError(f"{file(SPECIAL_TOKENS_MAP_FILE)}: expected a JSON object")
            for key, value in special_map.items():
                if value is not None:
                    config[key] = value
        config.update(kwargs)
        tokenizer_class = config.get("tokenizer_class")
        base_class = tokenizer_class[:-4] if isinstance(tokenizer_class, str) and tokenizer_class.endswith("Fast") \
            else tokenizer_class
        tokenizer_file = tokenizer_file or file(TOKENIZER_FILE)
        class_defaults = _CLASS_SPECIALS.get(base_class, {})
        if tokenizer_file:
            try:
                backend = tk.Tokenizer.from_file(tokenizer_file)
            except Exception as e:
                raise ValueError(f"{tokenizer_file}: not a tokenizers file that this version of the tokenizers "
                                 f"library can read ({e})") from None
            defaults = class_defaults
        elif file("vocab.txt"):
            backend, defaults = _wordpiece_from_vocab(file("vocab.txt"), {**class_defaults, **config})
        elif file("vocab.json") and file("merges.txt"):
            backend, defaults = _byte_level_bpe_from_files(file("vocab.json"), file("merges.txt"),
                                                           {**class_defaults, **config}, base_class)
        else:
            spm = [n for n in ("spiece.model", "sentencepiece.bpe.model", "tokenizer.model") if file(n)]
            if spm:
                raise NotImplementedError(f"{folder} has only a SentencePiece model ({spm[0]}); zoo reads "
                                          "tokenizer.json, vocab.txt (WordPiece) or vocab.json + merges.txt "
                                          "(byte-level BPE). Save the tokenizer with transformers' "
                                          "save_pretrained to get a tokenizer.json.")
            raise FileNotFoundError(f"{folder} holds no tokenizer: expected {TOKENIZER_FILE}, vocab.txt "
                                    "(WordPiece) or vocab.json + merges.txt (byte-level BPE)")
        if file(ADDED_TOKENS_FILE) and not tokenizer_file:
            added = _read_json_file(file(ADDED_TOKENS_FILE), "added tokens file")
            for token, _index in sorted(added.items(), key=lambda kv: kv[1]):
                backend.add_tokens([token])
        decoder_entries = config.get("added_tokens_decoder") or {}
        if decoder_entries and not tokenizer_file:
            for _index, entry in sorted(decoder_entries.items(), key=lambda kv: int(kv[0])):
                entry = dict(entry)
                content = entry.pop("content")
                entry.pop("__type", None)
                token = tk.AddedToken(content, **{k: v for k, v in entry.items()
                                                  if k in ("single_word", "lstrip", "rstrip", "normalized",
                                                           "special")})
                (backend.add_special_tokens if entry.get("special") else backend.add_tokens)([token])

        special = {}
        for name in SPECIAL_TOKENS_ATTRIBUTES:
            if name in config:
                special[name] = _token_str(config[name])
            elif name in defaults:
                special[name] = defaults[name]
        if not has_config and not any(special.values()):
            special = _guess_special_tokens(backend)
        extra = config.get("additional_special_tokens") or config.get("extra_special_tokens") or []
        if isinstance(extra, dict):  # model-specific named tokens
            extra = list(extra.values())
        names = config.get("model_input_names")
        if names is None and base_class is not None:
            names = (["input_ids", "attention_mask"] if base_class in _NO_TOKEN_TYPES
                     else ["input_ids", "token_type_ids", "attention_mask"])
        max_len = config.get("model_max_length")
        if max_len is not None and max_len >= VERY_LARGE_INTEGER:
            max_len = None
        known = set(SPECIAL_TOKENS_ATTRIBUTES) | {"model_max_length", "padding_side", "truncation_side",
                                                  "model_input_names", "clean_up_tokenization_spaces",
                                                  "tokenizer_class", "added_tokens_decoder",
                                                  "additional_special_tokens", "extra_special_tokens"}
        return cls(backend, **special, additional_special_tokens=[_token_str(t) for t in extra],
                   model_max_length=max_len, padding_side=config.get("padding_side") or "right",
                   truncation_side=config.get("truncation_side") or "right", model_input_names=names,
                   clean_up_tokenization_spaces=bool(config.get("clean_up_tokenization_spaces", False)),
                   tokenizer_class=tokenizer_class, name_or_path=path,
                   init_kwargs={k: v for k, v in config.items() if k not in known})

    # ---- encoding ---------------------------------------------------------------------------------------------
    def __call__(self, text=None, text_pair=None, *, add_special_tokens=True, padding=False, truncation=None,
                 max_length=None, stride=0, is_split_into_words=False, pad_to_multiple_of=None, padding_side=None,
                 return_tensors=None, return_token_type_ids=None, return_attention_mask=None,
                 return_special_tokens_mask=False, return_offsets_mapping=False, return_length=False):
        """Tokenize a text (or a list of texts, optionally with ``text_pair``) into a :class:`BatchEncoding`.

        One text gives lists of ints (a batch of one with ``return_tensors``); a list gives lists of lists (or
        ``(batch, length)`` arrays / tensors). ``return_offsets_mapping`` adds ``offset_mapping``: the
        ``(start, end)`` characters of each token in its text ((0, 0) for special and padding tokens).
        """
        if text is None:
            raise ValueError("Tokenizer: text is required (a string or a list of strings)")
        batched, texts = self._as_batch(text, "text", is_split_into_words)
        pairs = None
        if text_pair is not None:
            pair_batched, pairs = self._as_batch(text_pair, "text_pair", is_split_into_words)
            if pair_batched != batched or len(pairs) != len(texts):
                raise ValueError(f"Tokenizer: text_pair must match text: {len(texts)} text(s) but "
                                 f"{len(pairs)} text pair(s)" if pair_batched == batched else
                                 "Tokenizer: text and text_pair must both be single texts or both be lists")
        if return_tensors not in _RETURN_TENSORS:
            raise ValueError(f"Tokenizer: return_tensors must be None, 'np' or 'zoo' ('pt' means 'zoo'), got "
                             f"{return_tensors!r}")
        kind = _RETURN_TENSORS[return_tensors]
        if padding not in _PADDING:
            raise ValueError(f"Tokenizer: padding must be True/'longest', 'max_length' or False/'do_not_pad', got "
                             f"{padding!r}")
        padding = _PADDING[padding]
        if truncation is None:
            truncation = "longest_first" if max_length is not None else "do_not_truncate"
        if truncation not in _TRUNCATION:
            raise ValueError(f"Tokenizer: truncation must be True/'longest_first', 'only_first', 'only_second' or "
                             f"False, got {truncation!r}")
        truncation = _TRUNCATION[truncation]
        if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool)
                                       or max_length < 1):
            raise ValueError(f"Tokenizer: max_length must be a positive int, got {max_length!r}")
        if max_length is None and (padding == "max_length" or truncation != "do_not_truncate"):
            if self.model_max_length >= VERY_LARGE_INTEGER:
                if padding == "max_length":
                    raise ValueError("Tokenizer: padding='max_length' needs max_length=, since this tokenizer has no "
                                     "model_max_length")
                warnings.warn("Tokenizer: truncation was asked for, but neither max_length nor the tokenizer's "
                              "model_max_length is set: the sequences are not truncated", stacklevel=2)
                truncation = "do_not_truncate"
            else:
                max_length = self.model_max_length
        side = padding_side if padding_side is not None else self.padding_side
        if side not in ("right", "left"):
            raise ValueError(f"Tokenizer: padding_side must be 'right' or 'left', got {side!r}")

        backend = self._tokenizer
        inputs = texts if pairs is None else list(zip(texts, pairs))
        try:
            if truncation != "do_not_truncate":
                if truncation == "only_second" and pairs is None:
                    raise ValueError("Tokenizer: truncation='only_second' needs text_pair")
                backend.enable_truncation(max_length, stride=stride, strategy=truncation,
                                          direction=self.truncation_side)
            else:
                backend.no_truncation()
            if padding != "do_not_pad":
                if self.pad_token is None or self.pad_token_id is None:
                    raise ValueError("Tokenizer: padding needs a pad token and this tokenizer has none; set one, "
                                     "e.g. tokenizer.pad_token = tokenizer.eos_token")
                backend.enable_padding(direction=side, pad_id=self.pad_token_id, pad_type_id=0,
                                       pad_token=self.pad_token,
                                       length=max_length if padding == "max_length" else None,
                                       pad_to_multiple_of=pad_to_multiple_of)
            else:
                backend.no_padding()
            try:
                encodings = backend.encode_batch(inputs, is_pretokenized=is_split_into_words,
                                                 add_special_tokens=add_special_tokens)
            except Exception as e:
                msg = str(e)
                if "runcat" in msg:
                    raise ValueError(f"Tokenizer: cannot truncate to max_length={max_length} with strategy "
                                     f"{truncation!r}: {msg}. Use a larger max_length (it counts the special tokens "
                                     "too) or another truncation strategy.") from None
                raise ValueError(f"Tokenizer: encoding failed: {msg}") from None
        finally:
            backend.no_padding()
            backend.no_truncation()

        if truncation == "do_not_truncate" and self.model_max_length < VERY_LARGE_INTEGER:
            longest = max((len(e.ids) for e in encodings), default=0)
            if longest > self.model_max_length:
                warnings.warn(f"Token indices sequence length is longer than the specified maximum sequence length "
                              f"for this model ({longest} > {self.model_max_length}). Running this sequence through "
                              "the model will fail; pass truncation=True to cut it to model_max_length.",
                              stacklevel=2)
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        data = {"input_ids": [list(e.ids) for e in encodings]}
        if return_token_type_ids:
            data["token_type_ids"] = [list(e.type_ids) for e in encodings]
        if return_attention_mask:
            data["attention_mask"] = [list(e.attention_mask) for e in encodings]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [list(e.special_tokens_mask) for e in encodings]
        if return_offsets_mapping:
            data["offset_mapping"] = [[tuple(o) for o in e.offsets] for e in encodings]
        if return_length:
            data["length"] = [len(e.ids) for e in encodings]
        if kind is not None:
            data = {k: self._as_array(k, v, kind) for k, v in data.items()}
        elif not batched:
            data = {k: v[0] for k, v in data.items()}
        return BatchEncoding(data, encodings)

    @staticmethod
    def _as_batch(value, what, is_split_into_words):
        if is_split_into_words:
            if isinstance(value, (list, tuple)) and all(isinstance(w, str) for w in value):
                return False, [list(value)]
            if isinstance(value, (list, tuple)) and all(isinstance(s, (list, tuple)) for s in value):
                for i, s in enumerate(value):
                    for w in s:
                        if not isinstance(w, str):
                            raise TypeError(f"Tokenizer: {what}[{i}] must hold strings (words), got a "
                                            f"{type(w).__name__}")
                return True, [list(s) for s in value]
            raise TypeError(f"Tokenizer: with is_split_into_words=True, {what} must be a list of words or a list of "
                            "lists of words")
        if isinstance(value, str):
            return False, [value]
        if isinstance(value, (list, tuple)):
            for i, s in enumerate(value):
                if not isinstance(s, str):
                    raise TypeError(f"Tokenizer: {what}[{i}] is a {type(s).__name__}; {what} must be a string or a "
                                    "list of strings")
            return True, list(value)
        raise TypeError(f"Tokenizer: {what} must be a string or a list of strings, got {type(value).__name__}")

    @staticmethod
    def _as_array(key, rows, kind):
        lengths = {1} if key == "length" else {len(r) for r in rows}
        if len(lengths) > 1:
            raise ValueError(f"Tokenizer: cannot make tensors of {key}: the sequences have different lengths "
                             f"({min(lengths)} to {max(lengths)} tokens); pass padding=True (and truncation=True "
                             "for sequences longer than the model accepts)")
        if key == "length":
            arr = np.asarray(rows, dtype=np.int64)
        elif key == "offset_mapping":
            arr = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1, 2)
        else:
            arr = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1)
        if kind == "zoo":
            from ..core.creation import from_numpy
            return from_numpy(arr)
        return arr

    def encode(self, text, text_pair=None, add_special_tokens=True, **kwargs):
        """The token ids of one text (or text pair), as a list (or a (1, length) array / tensor with
        ``return_tensors``)."""
        if not isinstance(text, str) and not kwargs.get("is_split_into_words"):
            raise TypeError(f"Tokenizer.encode takes one text (a string), got {type(text).__name__}; call the "
                            "tokenizer itself for a batch")
        return self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    def tokenize(self, text, pair=None, add_special_tokens=False):
        """The token strings of a text (special tokens only with ``add_special_tokens=True``)."""
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer.tokenize takes a string, got {type(text).__name__}")
        enc = self._tokenizer.encode(text, pair, add_special_tokens=add_special_tokens)
        return list(enc.tokens)

    # ---- ids and tokens ---------------------------------------------------------------------------------------
    def _check_ids(self, ids):
        n = len(self)
        for i in ids:
            if not 0 <= i < n:
                raise ValueError(f"token id {i} is out of range for this tokenizer's vocabulary of {n} tokens")
        return ids

    @staticmethod
    def _as_id_list(token_ids, what):
        if hasattr(token_ids, "tolist") and not isinstance(token_ids, (list, tuple)):
            token_ids = token_ids.tolist()
        if isinstance(token_ids, (int, np.integer)) and not isinstance(token_ids, bool):
            return [int(token_ids)], True
        if not isinstance(token_ids, (list, tuple)):
            raise TypeError(f"{what}: expected token ids (an int, a list of ints, an array or a tensor), got "
                            f"{type(token_ids).__name__}")
        out = []
        for t in token_ids:
            if isinstance(t, (list, tuple)):
                raise ValueError(f"{what}: expected one sequence of ids, got a nested list; use batch_decode for a "
                                 "batch")
            if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
                raise TypeError(f"{what}: token ids must be ints, got {type(t).__name__}")
            out.append(int(t))
        return out, False

    def convert_ids_to_tokens(self, ids, skip_special_tokens=False):
        """Token string(s) of an id or a list of ids."""
        id_list, single = self._as_id_list(ids, "convert_ids_to_tokens")
        self._check_ids(id_list)
        special = set(self.all_special_ids) if skip_special_tokens else set()
        tokens = [self._tokenizer.id_to_token(i) for i in id_list if i not in special]
        return tokens[0] if single else tokens

    def convert_tokens_to_ids(self, tokens):
        """Id(s) of a token string or a list of them; unknown tokens map to ``unk_token_id``."""
        if isinstance(tokens, str):
            i = self._tokenizer.token_to_id(tokens)
            return self.unk_token_id if i is None else i
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_tokens_to_string(self, tokens):
        """Join token strings into text with the tokenizer's decoder (``##`` pieces glued, byte-level decoded)."""
        decoder = self._tokenizer.decoder
        return decoder.decode(list(tokens)) if decoder is not None else " ".join(tokens)

    def decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        """The text of a sequence of ids (a list, an array or a 1-D tensor)."""
        ids, _ = self._as_id_list(token_ids, "decode")
        self._check_ids(ids)
        text = self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        if clean_up_tokenization_spaces:
            text = _clean_up_tokenization(text)
        return text

    def batch_decode(self, sequences, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        """:meth:`decode` of each sequence (a list of lists, a 2-D array or tensor)."""
        if hasattr(sequences, "tolist") and not isinstance(sequences, (list, tuple)):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens=skip_special_tokens,
                            clean_up_tokenization_spaces=clean_up_tokenization_spaces) for s in sequences]

    # ---- saving -----------------------------------------------------------------------------------------------
    def save_pretrained(self, save_directory):
        """Write ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json`` into
        ``save_directory`` (created if needed), in the layout Transformers reads. Returns the paths written."""
        from ..weights.pretrained import _write_text_atomic
        save_directory = os.fspath(save_directory)
        if os.path.isfile(save_directory):
            raise NotADirectoryError(f"save_pretrained: {save_directory} is a file, expected a directory")
        os.makedirs(save_directory, exist_ok=True)
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        paths = [os.path.join(save_directory, n) for n in (TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE,
                                                           TOKENIZER_FILE)]
        added = {}
        for index, token in sorted(self._tokenizer.get_added_tokens_decoder().items()):
            added[str(index)] = {"content": token.content, "lstrip": token.lstrip, "normalized": token.normalized,
                                 "rstrip": token.rstrip, "single_word": token.single_word, "special": token.special}
        config = dict(self.init_kwargs)
        # a BERT normalizer's settings, which Transformers' BERT tokenizers rebuild their normalizer from
        normalizer = json.loads(self._tokenizer.to_str()).get("normalizer") or {}
        if normalizer.get("type") == "BertNormalizer":
            config.update({"do_lower_case": normalizer.get("lowercase", True),
                           "tokenize_chinese_chars": normalizer.get("handle_chinese_chars", True),
                           "strip_accents": normalizer.get("strip_accents")})
        config.update(self.special_tokens_map)
        config.update({"added_tokens_decoder": added,
                       "tokenizer_class": self.tokenizer_class or "PreTrainedTokenizerFast",
                       "model_max_length": self.model_max_length, "padding_side": self.padding_side,
                       "truncation_side": self.truncation_side, "model_input_names": list(self.model_input_names),
                       "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces})
        _write_text_atomic(paths[0], json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        _write_text_atomic(paths[1], json.dumps(self.special_tokens_map, indent=2, ensure_ascii=False) + "\n")
        _write_text_atomic(paths[2], self._tokenizer.to_str(pretty=True))
        return tuple(paths)

    def __repr__(self):
        return (f"Tokenizer(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
                f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r}, "
                f"special_tokens={self.special_tokens_map})")


# ---- building backends from vocabulary files -------------------------------------------------------------------
def _clean_up_tokenization(text):
    """Transformers' ``clean_up_tokenization``: no space before punctuation and English contractions."""
    for old, new in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                     (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(old, new)
    return text


def _wordpiece_from_vocab(vocab_file, config):
    """A BERT tokenizer from vocab.txt (one token per line; the line number is the id), as Transformers' BERT
    tokenizer builds it."""
    tk = _tokenizers()
    vocab = {}
    with open(vocab_file, encoding="utf-8") as f:
        for index, line in enumerate(f):
            token = line.rstrip("\n")
            vocab.setdefault(token, index)
    if not vocab:
        raise ValueError(f"{vocab_file} is empty")
    tokens = {k: _token_str(config.get(k, v)) for k, v in _BERT_SPECIALS.items()}
    if tokens["unk_token"] not in vocab:
        raise ValueError(f"{vocab_file}: the unknown token {tokens['unk_token']!r} is not in the vocabulary")
    backend = tk.Tokenizer(tk.models.WordPiece(vocab, unk_token=tokens["unk_token"],
                                               max_input_chars_per_word=100))
    backend.normalizer = tk.normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=bool(config.get("tokenize_chinese_chars", True)),
        strip_accents=config.get("strip_accents"), lowercase=bool(config.get("do_lower_case", True)))
    backend.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    backend.decoder = tk.decoders.WordPiece(prefix="##")
    backend.add_special_tokens([tk.AddedToken(t, special=True, normalized=False) for t in tokens.values() if t])
    cls_token, sep_token = tokens["cls_token"], tokens["sep_token"]
    if cls_token and sep_token:
        backend.post_processor = tk.processors.TemplateProcessing(
            single=f"{cls_token}:0 $A:0 {sep_token}:0", pair=f"{cls_token}:0 $A:0 {sep_token}:0 $B:1 {sep_token}:1",
            special_tokens=[(cls_token, backend.token_to_id(cls_token)), (sep_token, backend.token_to_id(sep_token))])
    return backend, tokens


def _byte_level_bpe_from_files(vocab_file, merges_file, config, base_class):
    """A byte-level BPE tokenizer from vocab.json and merges.txt: GPT-2 style, or RoBERTa style for the RoBERTa
    family of tokenizer classes."""
    tk = _tokenizers()
    vocab = _read_json_file(vocab_file, "vocabulary")
    if not isinstance(vocab, dict) or not vocab:
        raise ValueError(f"{vocab_file}: expected a JSON object mapping tokens to ids")
    merges = []
    with open(merges_file, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#version"):
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{merges_file}: a merge must be two tokens separated by a space, got {line!r}")
            merges.append(tuple(parts))
    add_prefix_space = bool(config.get("add_prefix_space", False))
    backend = tk.Tokenizer(tk.models.BPE(vocab, merges, dropout=None, continuing_subword_prefix="",
                                         end_of_word_suffix="", fuse_unk=False))
    backend.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    backend.decoder = tk.decoders.ByteLevel()
    if base_class in _ROBERTA_STYLE:
        tokens = {k: _token_str(config.get(k, v)) for k, v in _ROBERTA_SPECIALS.items()}
        backend.add_special_tokens([tk.AddedToken(t, special=True, normalized=False)
                                    for t in dict.fromkeys(tokens.values()) if t])
        sep, cls_ = tokens["sep_token"], tokens["cls_token"]
        backend.post_processor = tk.processors.RobertaProcessing(
            (sep, backend.token_to_id(sep)), (cls_, backend.token_to_id(cls_)), trim_offsets=True,
            add_prefix_space=add_prefix_space)
    else:
        tokens = {k: _token_str(config.get(k, v)) for k, v in _GPT2_SPECIALS.items()}
        backend.add_special_tokens([tk.AddedToken(t, special=True, normalized=False)
                                    for t in dict.fromkeys(tokens.values()) if t and t in vocab])
    return backend, tokens


def _guess_special_tokens(backend):
    """Special tokens of a tokenizer.json with no config: its special added tokens with the usual names."""
    found = {}
    for token in backend.get_added_tokens_decoder().values():
        if token.special:
            for name in _USUAL_SPECIAL.get(token.content, ()):
                found.setdefault(name, token.content)
    return found
