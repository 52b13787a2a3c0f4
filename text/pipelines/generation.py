"""Generation pipelines, with Hugging Face's task names, options and outputs:

* ``text-generation``: a decoder-only language model continues each prompt: ``[{"generated_text": ...}]`` (one
  dict per returned sequence). Options: ``max_new_tokens`` (default 50), ``do_sample`` (default: the model's
  choice, see below), ``temperature``, ``top_k``, ``top_p``, ``repetition_penalty``, ``num_beams``,
  ``num_return_sequences``, ``return_full_text`` (default True: prompt + continuation), ``eos_token_id`` /
  ``pad_token_id``. Prompts of a batch (``batch_size``) are LEFT-padded, so each continues as it would alone.
  The default model is ``char_gpt_shakespeare``, the char-level GPT this project trained and ships: it runs
  offline. Sampling is on by default for it (greedy decoding loops on a char model) and off for other models
  unless their ``generation_config.json`` says ``do_sample``, as in Transformers.
* ``text2text-generation``: an encoder-decoder model (T5) maps each input text to an output text:
  ``[{"generated_text": ...}]``; the same decoding options (``max_new_tokens`` default 50, greedy by default).
  Default model: ``google-t5/t5-small`` (from the Hugging Face hub or its cache).

``model`` is a registered weights name (``"char_gpt_shakespeare"``), a model directory (Hugging Face layout: a
GPT-2 or T5 folder with its tokenizer files, or a char-GPT folder with ``char_tokenizer.json``), a hub repo id, or a
model object together with ``tokenizer=``.
"""
import json
import os

import numpy as np

from ...core.tensor import Tensor
from ...pipelines.base import Pipeline

__all__ = ["TextGenerationPipeline", "Text2TextGenerationPipeline"]

_GENERATE_OPTIONS = ("max_new_tokens", "max_length", "min_new_tokens", "do_sample", "temperature", "top_k", "top_p",
                     "repetition_penalty", "num_beams", "num_return_sequences", "length_penalty", "early_stopping",
                     "eos_token_id", "pad_token_id")


def _load_tokenizer(folder):
    from ..char_tokenizer import CHAR_TOKENIZER_FILE, CharTokenizer
    if os.path.isfile(os.path.join(folder, CHAR_TOKENIZER_FILE)):
        return CharTokenizer.from_pretrained(folder)
    from ..tokenization import Tokenizer
    return Tokenizer.from_pretrained(folder)


def _generation_defaults(folder):
    """Decoding defaults of a model folder's generation_config.json (as Transformers reads them)."""
    path = os.path.join(folder, "generation_config.json")
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}
    return {k: v for k, v in data.items() if k in _GENERATE_OPTIONS} if isinstance(data, dict) else {}


def load_generation_model(name, revision=None):
    """``(model, tokenizer, generation defaults)`` for a registered weights name, a directory or a hub repo id."""
    from ...weights.errors import UnknownWeightsError
    from ...weights.pretrained import from_pretrained
    from ...weights.registry import get_entry
    folder = None
    if not os.path.isdir(name):
        try:
            entry = get_entry(name)
        except UnknownWeightsError:
            entry = None
        if entry is not None:
            from ...weights.sources import resolve
            paths = {f: resolve(entry, f, revision) for f in entry.files}  # every file checked against its sha256
            folders = {os.path.dirname(p) for p in paths.values()}
            if len(folders) != 1:
                raise ValueError(f"weights {name!r}: its files are not in one folder ({sorted(folders)})")
            folder = folders.pop()
            revision = None
    if folder is None:
        from ..tokenization import resolve_text_model_dir
        folder = resolve_text_model_dir(name, revision)
    model = from_pretrained(folder)
    return model, _load_tokenizer(folder), _generation_defaults(folder)


class _GenerationPipeline(Pipeline):
    """Shared by the generation tasks: model + tokenizer loading, option routing, left-padded batches."""

    def __init__(self, model, *, tokenizer=None, task=None, device=None, batch_size=None, revision=None, **kwargs):
        self.tokenizer = None
        self._defaults = {}
        super().__init__(model, task=task, device=device, batch_size=batch_size, revision=revision, **kwargs)
        if tokenizer is not None:
            if isinstance(tokenizer, (str, os.PathLike)):
                tokenizer = os.fspath(tokenizer)
                if os.path.isdir(tokenizer):
                    tokenizer = _load_tokenizer(tokenizer)
                else:
                    from ..tokenization import Tokenizer
                    tokenizer = Tokenizer.from_pretrained(tokenizer)
            self.tokenizer = tokenizer
        if self.tokenizer is None:
            raise ValueError(f"{type(self).__name__}: a model object needs its tokenizer: pass tokenizer= (a "
                             "zoo.text.Tokenizer or CharTokenizer, a directory or a hub repo id)")
        if not hasattr(self.model, "generate"):
            raise TypeError(f"{type(self).__name__}: {type(self.model).__name__} cannot generate text (it has no "
                            "generate method)")

    def load_model(self, name, revision=None):
        model, tokenizer, defaults = load_generation_model(name, revision)
        self.tokenizer, self._defaults = tokenizer, defaults
        return model

    def _sanitize_parameters(self, return_full_text=None, clean_up_tokenization_spaces=None, prefix=None,
                             streamer=None, generator=None, **generate_kwargs):
        unknown = sorted(set(generate_kwargs) - set(_GENERATE_OPTIONS))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown option(s) {', '.join(unknown)}; it accepts: "
                            f"{', '.join(('return_full_text', 'prefix', 'streamer', 'generator') + _GENERATE_OPTIONS)}")
        pre, fwd, post = {}, dict(generate_kwargs), {}
        if prefix is not None:
            pre["prefix"] = prefix
        if streamer is not None:
            fwd["streamer"] = streamer
        if generator is not None:
            fwd["generator"] = generator
        if return_full_text is not None:
            post["return_full_text"] = bool(return_full_text)
        if clean_up_tokenization_spaces is not None:
            post["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        return pre, fwd, post

    # tokenization ----------------------------------------------------------------------------------------------
    def _encode(self, text):
        tok = self.tokenizer
        from ..char_tokenizer import CharTokenizer
        if isinstance(tok, CharTokenizer):
            ids = tok.encode(text)
        else:
            ids = tok(text, add_special_tokens=self._add_special_tokens)["input_ids"]
        return np.asarray(ids, dtype=np.int64)

    _add_special_tokens = False

    def _pad_id(self):
        for name in ("pad_token_id", "eos_token_id"):
            value = getattr(self.tokenizer, name, None)
            if isinstance(value, int):
                return value
        for name in ("pad_token_id", "eos_token_id"):
            value = getattr(self.model.config, name, None)
            if isinstance(value, int):
                return value
            if isinstance(value, (list, tuple)) and value:
                return int(value[0])
        return 0

    _pad_side = "left"

    def _collate(self, items):
        """Pad the prompts of a batch to the longest (left for decoder-only models) with an attention mask."""
        width = max(it["input_ids"].shape[1] for it in items)
        pad = self._pad_id()
        ids = np.full((len(items), width), pad, np.int64)
        mask = np.zeros((len(items), width), np.int64)
        for i, it in enumerate(items):
            n = it["input_ids"].shape[1]
            sl = slice(width - n, width) if self._pad_side == "left" else slice(0, n)
            ids[i, sl] = it["input_ids"][0]
            mask[i, sl] = 1
        rest = {k: [it[k] for it in items] for k in items[0] if k not in ("input_ids", "attention_mask")}
        return {"input_ids": Tensor._make(ids), "attention_mask": Tensor._make(mask), **rest}

    def _generate_kwargs(self, forward_params):
        kw = {"max_new_tokens": 50, **self._defaults, **forward_params}
        if "max_length" in forward_params and "max_new_tokens" not in forward_params:
            kw.pop("max_new_tokens")
        return kw

    def _decode(self, ids, clean_up_tokenization_spaces=None):
        from ..char_tokenizer import CharTokenizer
        if isinstance(self.tokenizer, CharTokenizer):
            return self.tokenizer.decode(ids)
        kw = {} if clean_up_tokenization_spaces is None else {"clean_up_tokenization_spaces":
                                                              clean_up_tokenization_spaces}
        return self.tokenizer.decode(ids, skip_special_tokens=True, **kw)


class TextGenerationPipeline(_GenerationPipeline):
    """``text-generation``: ``pipe("ROMEO:")`` -> ``[{"generated_text": "ROMEO:..."}]`` (see the module docs)."""

    def load_model(self, name, revision=None):
        model = super().load_model(name, revision)
        if getattr(model.config, "is_encoder_decoder", False):
            raise ValueError(f"text-generation needs a decoder-only language model; {name!r} is an encoder-decoder "
                             "model: use the 'text2text-generation' task")
        if getattr(model.config, "model_type", None) == "char_gpt":
            self._defaults.setdefault("do_sample", True)
        return model

    def preprocess(self, text, prefix=""):
        if not isinstance(text, str):
            raise TypeError(f"text-generation expects a str prompt (or a list of them), got {type(text).__name__}")
        full = (prefix or "") + text
        ids = self._encode(full)
        if ids.size == 0:
            bos = getattr(self.model.config, "bos_token_id", None)
            if bos is None:
                raise ValueError("text-generation: the prompt is empty and the model has no bos_token_id to start "
                                 "from; give a prompt of at least one token")
            ids = np.asarray([bos], np.int64)
        return {"input_ids": ids[None, :], "attention_mask": np.ones((1, ids.size), np.int64),
                "prompt_text": text, "prefix_len": len(prefix or "")}

    def _forward(self, model_inputs, **forward_params):
        ids, mask = model_inputs["input_ids"], model_inputs["attention_mask"]
        kw = self._generate_kwargs(forward_params)
        if getattr(self.model.config, "pad_token_id", None) is None and "pad_token_id" not in kw:
            kw["pad_token_id"] = self._pad_id()
        out = self.model.generate(ids, attention_mask=mask, **kw)
        n = ids.shape[0]
        reps = out.shape[0] // n
        width = ids.shape[1]
        new = out[:, width:].numpy()
        masks = np.repeat(mask.numpy(), reps, 0)
        prompts = np.repeat(ids.numpy(), reps, 0)
        seqs = [[(prompts[i][masks[i] == 1], new[i]) for i in range(b * reps, (b + 1) * reps)] for b in range(n)]
        return {"sequences": seqs, "prompt_text": model_inputs["prompt_text"],
                "prefix_len": model_inputs["prefix_len"]}

    def postprocess(self, model_outputs, return_full_text=True, clean_up_tokenization_spaces=None):
        results = []
        prompt_text = model_outputs["prompt_text"]
        for prompt_ids, new_ids in model_outputs["sequences"]:
            new_ids = self._strip_padding(new_ids)
            if return_full_text:
                # decode prompt + continuation together (tokens can merge across the border), minus any prefix
                text = self._decode(np.concatenate([prompt_ids, new_ids]), clean_up_tokenization_spaces)
                text = text[model_outputs["prefix_len"]:] if model_outputs["prefix_len"] else text
            else:
                full = self._decode(np.concatenate([prompt_ids, new_ids]), clean_up_tokenization_spaces)
                head = self._decode(prompt_ids, clean_up_tokenization_spaces)
                text = full[len(head):] if full.startswith(head) else self._decode(new_ids,
                                                                                   clean_up_tokenization_spaces)
            results.append({"generated_text": text})
        del prompt_text
        return results

    def _strip_padding(self, new_ids):
        """Drop what generate wrote after a sequence ended (eos and the padding that follows it)."""
        eos = getattr(self.model.config, "eos_token_id", None)
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        if not eos:
            return new_ids
        hits = np.flatnonzero(np.isin(new_ids, eos))
        return new_ids[:hits[0]] if hits.size else new_ids


class Text2TextGenerationPipeline(_GenerationPipeline):
    """``text2text-generation``: ``pipe("translate English to German: Hello")`` ->
    ``[{"generated_text": "Hallo"}]`` with an encoder-decoder model (T5)."""

    _add_special_tokens = True
    _pad_side = "right"

    def load_model(self, name, revision=None):
        model = super().load_model(name, revision)
        if not getattr(model.config, "is_encoder_decoder", False):
            raise ValueError(f"text2text-generation needs an encoder-decoder model (T5); {name!r} is decoder-only: "
                             "use the 'text-generation' task")
        return model

    def preprocess(self, text, prefix=""):
        if not isinstance(text, str):
            raise TypeError(f"text2text-generation expects a str (or a list of them), got {type(text).__name__}")
        ids = self._encode((prefix or "") + text)
        return {"input_ids": ids[None, :], "attention_mask": np.ones((1, ids.size), np.int64)}

    def _forward(self, model_inputs, **forward_params):
        kw = self._generate_kwargs(forward_params)
        out = self.model.generate(model_inputs["input_ids"], attention_mask=model_inputs["attention_mask"], **kw)
        n = model_inputs["input_ids"].shape[0]
        reps = out.shape[0] // n
        rows = out.numpy()
        return {"sequences": [[rows[i] for i in range(b * reps, (b + 1) * reps)] for b in range(n)]}

    def postprocess(self, model_outputs, return_full_text=None, clean_up_tokenization_spaces=None):
        return [{"generated_text": self._decode(seq, clean_up_tokenization_spaces)}
                for seq in model_outputs["sequences"]]
