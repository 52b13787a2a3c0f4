"""``zoo.text.CharTokenizer``: a character-level tokenizer (one token per Unicode character), as in nanoGPT's
Shakespeare example.

The vocabulary is the sorted set of characters of a training text (:meth:`CharTokenizer.from_text`); it is saved as
JSON (``char_tokenizer.json``: ``{"type": "char", "chars": [...]}``) next to the model it belongs to. Calls follow
the conventions of zoo's :class:`~zoo.text.Tokenizer` (and Transformers'): ``tok(texts, padding=True,
padding_side="left", return_tensors="zoo")`` gives ``{"input_ids", "attention_mask"}``.
"""
import json
import os

import numpy as np

__all__ = ["CharTokenizer", "CHAR_TOKENIZER_FILE"]

CHAR_TOKENIZER_FILE = "char_tokenizer.json"
_FORMAT_VERSION = 1


class CharTokenizer:
    """Maps each character of its vocabulary to an id (its index in ``chars``) and back.

    ``pad_token_id`` is the id written into padding positions of a batch (they are masked out by
    ``attention_mask`` and never read); it defaults to 0. A character outside the vocabulary is an error naming
    it, unless ``unknown="skip"`` drops such characters.
    """

    padding_side = "left"

    def __init__(self, chars, *, pad_token_id=0, unknown="error", padding_side="left"):
        chars = list(chars)
        if not chars:
            raise ValueError("CharTokenizer: the vocabulary is empty")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: every vocabulary entry must be one character, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"CharTokenizer: the vocabulary repeats characters {dup!r}")
        if unknown not in ("error", "skip"):
            raise ValueError(f"CharTokenizer: unknown must be 'error' or 'skip', got {unknown!r}")
        if not isinstance(pad_token_id, int) or not 0 <= pad_token_id < len(chars):
            raise ValueError(f"CharTokenizer: pad_token_id must be an id in [0, {len(chars)}), got {pad_token_id!r}")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.pad_token_id = pad_token_id
        self.unknown = unknown
        self.padding_side = self._side(padding_side)

    @classmethod
    def from_text(cls, text, **kwargs):
        """The tokenizer whose vocabulary is the sorted set of characters of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.from_text expects a str, got {type(text).__name__}")
        return cls(sorted(set(text)), **kwargs)

    # vocabulary ------------------------------------------------------------------------------------------------
    @property
    def vocab_size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def get_vocab(self):
        return dict(self.stoi)

    # ids <-> text ----------------------------------------------------------------------------------------------
    def encode(self, text):
        """The ids of the characters of ``text`` (a list of ints)."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode expects a str, got {type(text).__name__}")
        stoi = self.stoi
        try:
            return [stoi[c] for c in text]
        except KeyError:
            if self.unknown == "skip":
                return [stoi[c] for c in text if c in stoi]
            bad = sorted({c for c in text if c not in stoi})
            raise ValueError(f"CharTokenizer: character(s) {bad!r} are not in the vocabulary of {len(self)} "
                             f"characters (pass unknown='skip' to drop them)") from None

    def decode(self, ids, skip_special_tokens=False):
        """The text of a sequence of ids (a list, an array or a 1-D tensor)."""
        ids = _id_list(ids)
        n = len(self.chars)
        bad = [i for i in ids if not 0 <= i < n]
        if bad:
            raise ValueError(f"CharTokenizer.decode: id(s) {bad[:5]} are outside the vocabulary [0, {n})")
        return "".join(self.chars[i] for i in ids)

    def batch_decode(self, sequences, skip_special_tokens=False):
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(s) for s in sequences]

    @staticmethod
    def _side(side):
        if side not in ("left", "right"):
            raise ValueError(f"CharTokenizer: padding_side must be 'left' or 'right', got {side!r}")
        return side

    def __call__(self, text, padding=False, padding_side=None, truncation=False, max_length=None,
                 return_tensors=None):
        """Encode one text or a list: ``{"input_ids", "attention_mask"}``, as lists, ``"np"`` arrays or ``"zoo"``
        tensors (``"pt"`` accepted). ``padding=True`` pads to the longest on ``padding_side`` (default: the
        tokenizer's, "left", what decoder-only generation needs). ``truncation`` with ``max_length`` keeps the
        LAST ``max_length`` characters (the context a language model continues)."""
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("CharTokenizer: the input must be a str or a non-empty list of str")
        rows = [self.encode(t) for t in texts]
        if truncation or (max_length is not None and truncation is not False):
            if max_length is None:
                raise ValueError("CharTokenizer: truncation needs max_length")
            rows = [r[-max_length:] if len(r) > max_length else r for r in rows]
        side = self._side(padding_side or self.padding_side)
        masks = [[1] * len(r) for r in rows]
        if padding in (True, "longest", "max_length"):
            width = max_length if padding == "max_length" and max_length else max(len(r) for r in rows)
            for i, r in enumerate(rows):
                extra = width - len(r)
                if extra > 0:
                    pad = [self.pad_token_id] * extra
                    rows[i] = pad + r if side == "left" else r + pad
                    masks[i] = [0] * extra + masks[i] if side == "left" else masks[i] + [0] * extra
        elif padding not in (False, None, "do_not_pad"):
            raise ValueError(f"CharTokenizer: padding must be True, False, 'longest' or 'max_length', got "
                             f"{padding!r}")
        out = {"input_ids": rows, "attention_mask": masks}
        if return_tensors is not None:
            if return_tensors not in ("np", "zoo", "pt"):
                raise ValueError(f"CharTokenizer: return_tensors must be None, 'np' or 'zoo', got {return_tensors!r}")
            if len({len(r) for r in rows}) > 1:
                raise ValueError("CharTokenizer: texts of different lengths cannot become one array; pass "
                                 "padding=True")
            arrays = {k: np.asarray(v, dtype=np.int64).reshape(len(rows), -1) for k, v in out.items()}
            if return_tensors == "np":
                out = arrays
            else:
                from ..core.tensor import Tensor
                out = {k: Tensor._make(v) for k, v in arrays.items()}
        elif single:
            out = {k: v[0] for k, v in out.items()}
        return out

    # files -----------------------------------------------------------------------------------------------------
    def to_dict(self):
        return {"type": "char", "version": _FORMAT_VERSION, "chars": self.chars, "pad_token_id": self.pad_token_id,
                "padding_side": self.padding_side}

    def save(self, path):
        """Write the tokenizer as JSON to ``path`` (a file name)."""
        from ..weights.pretrained import _write_text_atomic
        _write_text_atomic(os.fspath(path), json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    def save_pretrained(self, save_directory):
        """Write ``char_tokenizer.json`` into ``save_directory`` (created if needed); returns the file's path."""
        os.makedirs(save_directory, exist_ok=True)
        path = os.path.join(save_directory, CHAR_TOKENIZER_FILE)
        self.save(path)
        return path

    @classmethod
    def load(cls, path):
        """Read a tokenizer written by :meth:`save`."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not a valid CharTokenizer file ({e})") from None
        if not isinstance(data, dict) or data.get("type") != "char" or not isinstance(data.get("chars"), list):
            raise ValueError(f"{path}: not a CharTokenizer file (expected a JSON object with \"type\": \"char\" and "
                             "a \"chars\" list)")
        if data.get("version", 1) > _FORMAT_VERSION:
            raise ValueError(f"{path}: CharTokenizer format version {data['version']} is newer than this zoo "
                             f"understands ({_FORMAT_VERSION})")
        return cls(data["chars"], pad_token_id=data.get("pad_token_id", 0),
                   padding_side=data.get("padding_side", "left"))

    @classmethod
    def from_pretrained(cls, path):
        """From a directory holding ``char_tokenizer.json`` or from the file itself."""
        path = os.fspath(path)
        if os.path.isdir(path):
            file = os.path.join(path, CHAR_TOKENIZER_FILE)
            if not os.path.isfile(file):
                raise FileNotFoundError(f"{path} has no {CHAR_TOKENIZER_FILE}")
            path = file
        elif not os.path.isfile(path):
            raise FileNotFoundError(f"no CharTokenizer file or directory {path}")
        return cls.load(path)

    def __eq__(self, other):
        return isinstance(other, CharTokenizer) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"CharTokenizer(vocab_size={len(self)}, padding_side={self.padding_side!r})"


def _id_list(ids):
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, int):
        return [ids]
    out = []
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"CharTokenizer.decode expects integer ids, got {i!r}")
        out.append(int(i))
    return out
