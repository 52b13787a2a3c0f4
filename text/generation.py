"""Text generation for zoo's language models, in the style of Hugging Face Transformers' ``model.generate``.

:class:`GenerationMixin` gives a model ``generate(input_ids, attention_mask=None, max_new_tokens=..., ...)`` with
greedy search, sampling (``temperature``, ``top_k``, ``top_p``; reproducible under ``zoo.manual_seed``), beam
search (``num_beams``, ``length_penalty``, ``early_stopping``, as Transformers' defaults), the repetition penalty
of Transformers (CTRL's formula), eos / pad handling, batched generation with LEFT padding (position ids follow
the attention mask), a key/value cache so that each new token runs the model on one position, and a streaming
callback. It runs under ``zoo.inference_mode``.

The module also holds what the text models share: :class:`ModelOutput` (outputs readable as attributes, keys or
tuple items, like Transformers' outputs) and the key/value caches :class:`DynamicCache` and
:class:`EncoderDecoderCache` (``past_key_values``).

A model that mixes in :class:`GenerationMixin` is called with ``past_key_values`` / ``use_cache=True`` and returns
``.logits`` and ``.past_key_values``. Decoder-only models also take ``attention_mask`` and ``position_ids``;
encoder-decoder models (``config.is_encoder_decoder``) provide ``get_encoder()`` and take ``encoder_outputs``,
``decoder_input_ids`` and the encoder's ``attention_mask``.
"""
import math
import warnings

import numpy as np

from ..core.autograd import inference_mode, is_grad_enabled
from ..core.device import array_module
from ..core.tensor import Tensor
from ..weights.outputs import ModelOutput

__all__ = ["ModelOutput", "BaseModelOutput", "BaseModelOutputWithPastAndCrossAttentions",
           "CausalLMOutputWithCrossAttentions", "Seq2SeqLMOutput", "DynamicCache", "EncoderDecoderCache",
           "GenerationMixin", "causal_attention_mask"]


# ---- outputs ----------------------------------------------------------------------------------------------------
class BaseModelOutput(ModelOutput):
    _fields = ("last_hidden_state", "hidden_states", "attentions")


class BaseModelOutputWithPastAndCrossAttentions(ModelOutput):
    _fields = ("last_hidden_state", "past_key_values", "hidden_states", "attentions", "cross_attentions")


class CausalLMOutputWithCrossAttentions(ModelOutput):
    _fields = ("loss", "logits", "past_key_values", "hidden_states", "attentions", "cross_attentions")


class Seq2SeqLMOutput(ModelOutput):
    _fields = ("loss", "logits", "past_key_values", "decoder_hidden_states", "decoder_attentions",
               "cross_attentions", "encoder_last_hidden_state", "encoder_hidden_states", "encoder_attentions")


# ---- key / value caches -----------------------------------------------------------------------------------------
class DynamicCache:
    """The keys and values of the positions seen so far, per layer, each of shape (batch, heads, length, dim).

    ``update(key, value, layer_idx)`` appends the new positions and returns the keys and values of all of them.
    Outside autograd the arrays are kept in buffers with spare room, so appending a position copies only that
    position (amortised); when gradients are recorded it concatenates tensors instead, so the graph stays whole.
    ``reorder_cache(beam_idx)`` picks batch rows (beam search). ``cache[i]`` is layer i's ``(keys, values)``;
    :meth:`from_legacy_cache` / :meth:`to_legacy_cache` convert from / to Transformers' tuple-of-tuples format.
    """

    def __init__(self):
        self._keys, self._values, self._lengths = [], [], []

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, layer_idx):
        n = self._lengths[layer_idx]
        k, v = self._keys[layer_idx], self._values[layer_idx]
        if isinstance(k, Tensor):
            return k, v
        return Tensor._make(k[:, :, :n]), Tensor._make(v[:, :, :n])

    def get_seq_length(self, layer_idx=0):
        """How many positions layer ``layer_idx`` holds (0 for an empty cache)."""
        return self._lengths[layer_idx] if layer_idx < len(self._lengths) else 0

    def update(self, key, value, layer_idx):
        """Append ``key`` / ``value`` (batch, heads, new, dim) for layer ``layer_idx``; the layer's full keys and
        values come back. Layers must be filled in order."""
        if layer_idx > len(self._keys):
            raise IndexError(f"DynamicCache.update: layer {layer_idx} comes before layer {len(self._keys)} was filled")
        tracked = is_grad_enabled() and (key.requires_grad or value.requires_grad)
        if layer_idx == len(self._keys):
            if tracked:
                self._keys.append(key)
                self._values.append(value)
                self._lengths.append(key.shape[2])
                return key, value
            self._keys.append(None)
            self._values.append(None)
            self._lengths.append(0)
        old_k, old_v, n = self._keys[layer_idx], self._values[layer_idx], self._lengths[layer_idx]
        new = key.shape[2]
        if old_k is not None and key.shape[:2] != (old_k.shape[0], old_k.shape[1]):
            raise ValueError(f"DynamicCache.update: layer {layer_idx} holds (batch, heads) = "
                             f"{tuple(old_k.shape[:2])} but the new keys have {tuple(key.shape[:2])}")
        if tracked or isinstance(old_k, Tensor):
            from ..core import cat
            if not isinstance(old_k, Tensor):
                old_k, old_v = self[layer_idx]
            k, v = cat([old_k, key], 2), cat([old_v, value], 2)
            self._keys[layer_idx], self._values[layer_idx], self._lengths[layer_idx] = k, v, n + new
            return k, v
        kd, vd = key._data, value._data
        if old_k is None or n + new > old_k.shape[2]:
            xp = array_module(kd)
            cap = max(n + new, 2 * n, n + new + 32)
            bk = xp.empty(kd.shape[:2] + (cap,) + kd.shape[3:], kd.dtype)
            bv = xp.empty(vd.shape[:2] + (cap,) + vd.shape[3:], vd.dtype)
            if n:
                bk[:, :, :n] = old_k[:, :, :n]
                bv[:, :, :n] = old_v[:, :, :n]
            self._keys[layer_idx], self._values[layer_idx] = old_k, old_v = bk, bv
        old_k[:, :, n:n + new] = kd
        old_v[:, :, n:n + new] = vd
        self._lengths[layer_idx] = n + new
        return self[layer_idx]

    def reorder_cache(self, beam_idx):
        """Keep the batch rows ``beam_idx`` (an int array or tensor) of every layer, in that order."""
        idx = beam_idx._data if isinstance(beam_idx, Tensor) else beam_idx
        for i, (k, v) in enumerate(zip(self._keys, self._values)):
            if isinstance(k, Tensor):
                self._keys[i], self._values[i] = k[Tensor._make(idx)], v[Tensor._make(idx)]
            else:
                xp = array_module(k)
                j = xp.asarray(idx)
                n = self._lengths[i]
                self._keys[i], self._values[i] = k[j, :, :n].copy(), v[j, :, :n].copy()

    def batch_repeat_interleave(self, repeats):
        """Repeat every batch row ``repeats`` times in place (row i becomes rows i*repeats ... )."""
        if self._keys:
            rows = len(self[0][0]) if isinstance(self._keys[0], Tensor) else self._keys[0].shape[0]
            self.reorder_cache(np.repeat(np.arange(rows), repeats))

    def crop(self, max_length):
        """Forget positions from ``max_length`` on (a negative value drops that many from the end)."""
        for i, n in enumerate(self._lengths):
            keep = max_length if max_length >= 0 else max(n + max_length, 0)
            if keep < n:
                if isinstance(self._keys[i], Tensor):
                    self._keys[i] = self._keys[i][:, :, :keep]
                    self._values[i] = self._values[i][:, :, :keep]
                self._lengths[i] = keep

    def to_legacy_cache(self):
        return tuple(self[i] for i in range(len(self)))

    @classmethod
    def from_legacy_cache(cls, past_key_values):
        """A cache from Transformers' legacy ``((keys, values), ...)`` per layer (None: an empty cache)."""
        cache = cls()
        if past_key_values is None:
            return cache
        for i, layer in enumerate(past_key_values):
            if not isinstance(layer, (tuple, list)) or len(layer) < 2:
                raise TypeError("past_key_values in the legacy format is a tuple of (keys, values) per layer")
            cache.update(layer[0], layer[1], i)
        return cache

    def __repr__(self):
        return f"DynamicCache(layers={len(self)}, length={self.get_seq_length()})"


class EncoderDecoderCache:
    """The decoder's self-attention cache plus the cross-attention keys / values of the encoder output (computed
    once per layer, flagged in ``is_updated``)."""

    def __init__(self, self_attention_cache=None, cross_attention_cache=None):
        self.self_attention_cache = self_attention_cache if self_attention_cache is not None else DynamicCache()
        self.cross_attention_cache = cross_attention_cache if cross_attention_cache is not None else DynamicCache()
        self.is_updated = {i: True for i in range(len(self.cross_attention_cache))}

    def __len__(self):
        return len(self.self_attention_cache)

    def __getitem__(self, layer_idx):
        k, v = self.self_attention_cache[layer_idx]
        if layer_idx < len(self.cross_attention_cache):
            ck, cv = self.cross_attention_cache[layer_idx]
            return k, v, ck, cv
        return k, v

    def get_seq_length(self, layer_idx=0):
        return self.self_attention_cache.get_seq_length(layer_idx)

    def reorder_cache(self, beam_idx):
        self.self_attention_cache.reorder_cache(beam_idx)
        self.cross_attention_cache.reorder_cache(beam_idx)

    def batch_repeat_interleave(self, repeats):
        self.self_attention_cache.batch_repeat_interleave(repeats)
        self.cross_attention_cache.batch_repeat_interleave(repeats)

    def to_legacy_cache(self):
        return tuple(self[i] for i in range(len(self)))

    @classmethod
    def from_legacy_cache(cls, past_key_values):
        """From ``((k, v, cross_k, cross_v), ...)`` per layer."""
        cache = cls()
        if past_key_values is None:
            return cache
        for i, layer in enumerate(past_key_values):
            cache.self_attention_cache.update(layer[0], layer[1], i)
            if len(layer) == 4:
                cache.cross_attention_cache.update(layer[2], layer[3], i)
                cache.is_updated[i] = True
        return cache

    def __repr__(self):
        return f"EncoderDecoderCache(layers={len(self)}, length={self.get_seq_length()})"


def as_cache(past_key_values, encoder_decoder=False):
    """A cache object from None, a cache, or the legacy tuple format."""
    cls = EncoderDecoderCache if encoder_decoder else DynamicCache
    if past_key_values is None or isinstance(past_key_values, cls):
        return past_key_values
    if isinstance(past_key_values, (tuple, list)):
        return cls.from_legacy_cache(past_key_values)
    raise TypeError(f"past_key_values must be a {cls.__name__} or a tuple of per-layer tensors, got "
                    f"{type(past_key_values).__name__}")


# ---- masks ------------------------------------------------------------------------------------------------------
def _mask_array(attention_mask):
    if attention_mask is None:
        return None
    return attention_mask._data if isinstance(attention_mask, Tensor) else np.asarray(attention_mask)


def causal_attention_mask(attention_mask, query_length, past_length, causal=True, device=None):
    """``(mask, is_causal)`` for ``F.scaled_dot_product_attention`` over ``past_length + query_length`` keys.

    ``attention_mask`` (batch, keys) marks real tokens with 1 and padding with 0 (None: all real). The result is
    None with ``is_causal`` when plain causal attention does, None without it when every key may be seen (one new
    position, no padding), else a boolean (batch, 1, query, keys) tensor (True = may attend).
    """
    total = past_length + query_length
    m = _mask_array(attention_mask)
    if m is not None:
        if m.ndim != 2:
            raise ValueError(f"attention_mask must have shape (batch, sequence length), got {tuple(m.shape)}")
        if m.shape[1] != total:
            raise ValueError(f"attention_mask covers {m.shape[1]} positions, but there are {past_length} cached and "
                             f"{query_length} new ones ({total} in all)")
        if bool(m.all()):
            m = None
    if m is None:
        if not causal or query_length == 1:
            return None, False
        if past_length == 0:
            return None, True
    xp = np if m is None else array_module(m)
    keep = None
    if causal:
        keep = xp.arange(total)[None, :] <= (xp.arange(query_length) + past_length)[:, None]  # (query, keys)
        keep = keep[None, None]
    if m is not None:
        pad = (m != 0)[:, None, None, :]
        keep = pad if keep is None else keep & pad
    keep = Tensor._make(keep)
    return (keep if device is None else keep.to(device)), False


def position_ids_from_mask(attention_mask, query_length, past_length):
    """Positions of the new tokens counted over real tokens only (left padding), as Transformers' generate does."""
    m = _mask_array(attention_mask).astype(np.int64)
    pos = np.cumsum(m, axis=1) - 1
    pos[m == 0] = 0
    return pos[:, past_length:past_length + query_length]


# ---- logits processing (on arrays) ------------------------------------------------------------------------------
def _log_softmax(x):
    xp = array_module(x)
    m = x.max(axis=-1, keepdims=True)
    m[~xp.isfinite(m)] = 0
    s = x - m
    return s - xp.log(xp.exp(s).sum(axis=-1, keepdims=True))


def _repetition_penalty(scores, sequences, penalty):
    """Transformers' RepetitionPenaltyLogitsProcessor (CTRL): the score of every token already in the sequence
    is divided by ``penalty`` when positive and multiplied by it when negative."""
    xp = array_module(scores)
    seq = xp.asarray(sequences)
    picked = xp.take_along_axis(scores, seq, axis=1)
    picked = xp.where(picked < 0, picked * penalty, picked / penalty).astype(scores.dtype, copy=False)
    xp.put_along_axis(scores, seq, picked, axis=1)
    return scores


def _top_k(scores, k):
    k = min(max(int(k), 1), scores.shape[-1])
    xp = array_module(scores)
    kth = xp.partition(scores, -k, axis=-1)[:, -k][:, None]
    scores[scores < kth] = -math.inf
    return scores


def _top_p(scores, p):
    """Nucleus filtering as Transformers' TopPLogitsWarper: sort ascending, drop tokens whose cumulative
    probability stays <= 1 - p, always keep the most likely one."""
    xp = array_module(scores)
    order = xp.argsort(scores, axis=-1, kind="stable")
    sorted_scores = xp.take_along_axis(scores, order, axis=-1)
    probs = xp.exp(_log_softmax(sorted_scores.astype(np.float64)))
    remove = xp.cumsum(probs, axis=-1) <= (1 - p)
    remove[:, -1] = False
    mask = xp.zeros_like(remove)
    xp.put_along_axis(mask, order, remove, axis=-1)
    scores[mask] = -math.inf
    return scores


def _as_id_list(value, what):
    if value is None:
        return None
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        return [int(v) for v in value]
    raise TypeError(f"generate: {what} must be a token id or a list of token ids, got {value!r}")


def _as_ids(input_ids, what="input_ids"):
    """(ids as an int64 array (batch, length), device or None)."""
    if isinstance(input_ids, Tensor):
        arr = input_ids.cpu()._data if input_ids.device.type != "cpu" else input_ids._data
        device = input_ids.device
    else:
        arr, device = np.asarray(input_ids), None
        if arr.dtype == object:
            raise ValueError(f"generate: {what} must be a rectangular batch of token ids; pad the sequences (and "
                             "pass attention_mask) to batch prompts of different lengths")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"generate: {what} must have shape (batch, length), got {tuple(arr.shape)}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"generate: {what} must hold integer token ids, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.int64), device


def _check_positive_int(name, value, allow_zero=False):
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and (value >= 0 if allow_zero
                                                                                     else value > 0)
    if not ok:
        raise ValueError(f"generate: {name} must be a {'non-negative' if allow_zero else 'positive'} integer, "
                         f"got {value!r}")
    return int(value)


# ---- the mixin --------------------------------------------------------------------------------------------------
_DEFAULT_MAX_LENGTH = 20  # Transformers' GenerationConfig.max_length


class GenerationMixin:
    """``generate`` for zoo's language models (see the module docstring for what a model provides)."""

    # models with learned absolute positions and no way past them may set this to re-encode the most recent
    # part of the sequence once the cache reaches config.n_positions (a sliding context window, as nanoGPT)
    _sliding_window_generation = False

    def _max_positions(self):
        return getattr(self.config, "n_positions", None)

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, attention_mask=None, position_ids=None,
                                      encoder_outputs=None, **kwargs):
        """The keyword arguments of one model call during generation (override for other model signatures)."""
        if getattr(self.config, "is_encoder_decoder", False):
            return {"encoder_outputs": encoder_outputs, "attention_mask": attention_mask,
                    "decoder_input_ids": input_ids, "past_key_values": past_key_values,
                    "use_cache": past_key_values is not None, "logits_to_keep": 1}
        return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids,
                "past_key_values": past_key_values, "use_cache": past_key_values is not None, "logits_to_keep": 1}

    def _reorder_for_generation(self, cache, beam_idx):
        cache.reorder_cache(beam_idx)

    def generate(self, input_ids=None, attention_mask=None, *, max_new_tokens=None, max_length=None,
                 min_new_tokens=None, do_sample=False, temperature=None, top_k=None, top_p=None, num_beams=1,
                 num_return_sequences=1, repetition_penalty=None, length_penalty=1.0, early_stopping=False,
                 eos_token_id=None, pad_token_id=None, decoder_start_token_id=None, bos_token_id=None,
                 use_cache=True, streamer=None, generator=None, **kwargs):
        """Continue ``input_ids`` (batch, length) and return the token ids (a zoo int64 tensor).

        Decoder-only models return prompt + new tokens; encoder-decoder models return the decoder's sequence
        (starting with ``decoder_start_token_id``). Prompts of different lengths are batched with LEFT padding and
        an ``attention_mask`` (1 = token, 0 = padding); positions are counted over real tokens, so a padded prompt
        continues exactly as it would alone. Sequences that reach ``eos_token_id`` are padded with
        ``pad_token_id`` (``eos_token_id`` when no pad token is known) until all are done.

        Length: ``max_new_tokens``, else ``max_length`` (total length, as Transformers), else 20 in total.
        ``min_new_tokens`` forbids eos before that many new tokens.
        Decoding: greedy by default; ``do_sample=True`` samples, after ``temperature`` (default 1), ``top_k``
        (default 50, as Transformers) and ``top_p`` (default 1, off); draws come from zoo's generator (``zoo.
        manual_seed``) or ``generator``. ``num_beams > 1`` is beam search (``length_penalty`` 1.0 and
        ``early_stopping`` False by default; ``do_sample`` with beams samples the candidates).
        ``repetition_penalty`` > 1 discourages tokens already in the sequence (Transformers' formula).
        ``num_return_sequences``: samples (or best beams) per prompt. ``use_cache=False`` re-runs the whole prefix
        each step (slower; the result is the same).
        ``streamer``: called with the new token ids (a list, one per sequence) after every step; an object with
        Transformers' streamer interface (``put`` / ``end``) gets ``put(prompt ids)``, ``put(new ids)`` per step
        and ``end()``.
        Encoder-decoder models also accept ``encoder_outputs`` (reuse an encoding) and ``decoder_input_ids`` (a
        decoder prefix).
        """
        encoder_outputs = kwargs.pop("encoder_outputs", None)
        decoder_input_ids = kwargs.pop("decoder_input_ids", None)
        if "inputs" in kwargs:
            if input_ids is not None:
                raise TypeError("generate: pass input_ids or inputs, not both")
            input_ids = kwargs.pop("inputs")
        if kwargs:
            raise TypeError(f"generate got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        cfg = self.config
        enc_dec = bool(getattr(cfg, "is_encoder_decoder", False))
        if input_ids is None:
            if enc_dec and encoder_outputs is not None:
                input_ids = np.zeros((encoder_outputs[0].shape[0], 0), np.int64)
            else:
                bos = bos_token_id if bos_token_id is not None else getattr(cfg, "bos_token_id", None)
                if bos is None:
                    raise ValueError("generate: no input_ids and no bos_token_id to start from")
                input_ids = [[int(bos)]]
        ids, in_device = _as_ids(input_ids)
        batch = ids.shape[0]
        if batch == 0:
            raise ValueError("generate: input_ids holds no sequence (batch size 0)")

        # options ---------------------------------------------------------------------------------------------
        eos = _as_id_list(eos_token_id if eos_token_id is not None else getattr(cfg, "eos_token_id", None),
                          "eos_token_id")
        pad = pad_token_id if pad_token_id is not None else getattr(cfg, "pad_token_id", None)
        if pad is not None:
            pad = int(_as_id_list(pad, "pad_token_id")[0])
        num_beams = _check_positive_int("num_beams", num_beams)
        num_return_sequences = _check_positive_int("num_return_sequences", num_return_sequences)
        if num_beams == 1 and num_return_sequences > 1 and not do_sample:
            raise ValueError("generate: greedy search (do_sample=False, num_beams=1) gives one sequence per prompt; "
                             "use do_sample=True or num_beams >= num_return_sequences")
        if num_beams > 1 and num_return_sequences > num_beams:
            raise ValueError(f"generate: num_return_sequences ({num_return_sequences}) must be <= num_beams "
                             f"({num_beams})")
        if temperature is not None and not temperature > 0:
            raise ValueError(f"generate: temperature must be a strictly positive float, got {temperature!r}")
        if top_k is not None:
            top_k = _check_positive_int("top_k", top_k, allow_zero=True)
        if top_p is not None and not 0.0 <= float(top_p) <= 1.0:
            raise ValueError(f"generate: top_p must be a float in [0, 1], got {top_p!r}")
        if repetition_penalty is not None and not repetition_penalty > 0:
            raise ValueError(f"generate: repetition_penalty must be a strictly positive float, got "
                             f"{repetition_penalty!r}")
        if not do_sample and num_beams == 1 and any(v is not None for v in (temperature, top_k, top_p)):
            warnings.warn("generate: temperature / top_k / top_p only apply with do_sample=True; they are ignored "
                          "in greedy search", stacklevel=2)
        if early_stopping not in (True, False, "never"):
            raise ValueError(f"generate: early_stopping must be True, False or 'never', got {early_stopping!r}")

        if max_new_tokens is not None:
            max_new_tokens = _check_positive_int("max_new_tokens", max_new_tokens, allow_zero=True)

        # the attention mask ------------------------------------------------------------------------------------
        if attention_mask is not None:
            mask, _ = _as_ids(attention_mask, "attention_mask")
            if mask.shape != ids.shape:
                raise ValueError(f"generate: attention_mask has shape {tuple(mask.shape)} but input_ids has "
                                 f"{tuple(ids.shape)}")
            if not enc_dec and ids.shape[1] and bool((mask[:, -1] == 0).any()):
                warnings.warn("generate: a prompt ends with padding (attention_mask is 0 in the last column); "
                              "decoder-only models need LEFT padding (tokenizer padding_side='left') to "
                              "generate correctly", stacklevel=2)
        elif pad is not None and ids.size and bool((ids == pad).any()) and (eos is None or pad not in eos):
            mask = (ids != pad).astype(np.int64)  # as Transformers: pad tokens in the prompt are padding
        else:
            mask = np.ones_like(ids)

        if eos is not None and pad is None:
            pad = eos[0]

        device = self.device
        with inference_mode():
            if enc_dec:
                start = (decoder_start_token_id if decoder_start_token_id is not None
                         else getattr(cfg, "decoder_start_token_id", None))
                if encoder_outputs is None:
                    if ids.shape[1] == 0:
                        raise ValueError("generate: an encoder-decoder model needs input_ids to encode")
                    encoder_outputs = self.get_encoder()(input_ids=Tensor._make(ids).to(device),
                                                         attention_mask=Tensor._make(mask).to(device))
                if decoder_input_ids is not None:
                    dec, _ = _as_ids(decoder_input_ids, "decoder_input_ids")
                    if dec.shape[0] != batch:
                        raise ValueError("generate: decoder_input_ids and input_ids have different batch sizes")
                else:
                    if start is None:
                        raise ValueError("generate: the model config has no decoder_start_token_id; pass "
                                         "decoder_start_token_id=")
                    dec = np.full((batch, 1), int(start), np.int64)
                if ids.shape[1] == 0:
                    mask = np.ones(tuple(encoder_outputs[0].shape[:2]), np.int64)
                context = {"encoder_outputs": encoder_outputs, "encoder_mask": mask}
                seqs, seq_mask = dec, np.ones_like(dec)
            else:
                context = None
                seqs, seq_mask = ids, mask
            prompt_len = seqs.shape[1]
            if max_new_tokens is not None:
                total = prompt_len + max_new_tokens
            elif max_length is not None:
                total = _check_positive_int("max_length", max_length)
            else:
                total = max(_DEFAULT_MAX_LENGTH, prompt_len)
            if total <= prompt_len:
                if max_new_tokens is None:
                    warnings.warn(f"generate: the prompt already has {prompt_len} tokens, max_length={total}; "
                                  "nothing is generated (use max_new_tokens)", stacklevel=2)
                return self._finish(seqs, in_device)
            limit = self._max_positions()
            if limit is not None and total > limit and not self._sliding_window_generation:
                raise ValueError(f"generate: {total} tokens (prompt {prompt_len} + new) exceed the "
                                 f"{limit} positions the model knows (config n_positions); ask for fewer tokens")
            params = dict(do_sample=bool(do_sample), temperature=temperature, top_k=top_k, top_p=top_p,
                          repetition_penalty=repetition_penalty, eos=eos, pad=pad, generator=generator,
                          min_new_tokens=min_new_tokens or 0, use_cache=bool(use_cache), streamer=streamer,
                          total=total, prompt_len=prompt_len)
            if streamer is not None and hasattr(streamer, "put"):
                streamer.put(Tensor._make(seqs.copy()))
            if num_beams > 1:
                out = self._beam_search(seqs, seq_mask, context, num_beams, num_return_sequences,
                                        float(length_penalty), early_stopping, params)
            else:
                reps = num_return_sequences
                if reps > 1:
                    seqs, seq_mask = np.repeat(seqs, reps, 0), np.repeat(seq_mask, reps, 0)
                    if context is not None:
                        context = _repeat_context(context, reps)
                out = self._sample(seqs, seq_mask, context, params)
            if streamer is not None and hasattr(streamer, "end"):
                streamer.end()
        return self._finish(out, in_device)

    @staticmethod
    def _finish(seqs, device):
        t = Tensor._make(np.ascontiguousarray(seqs, dtype=np.int64))
        return t if device is None or device.type == "cpu" else t.to(device)

    # one model call ------------------------------------------------------------------------------------------
    def _step_logits(self, seqs, seq_mask, cache, context, new):
        """Run the model on the last ``new`` positions of ``seqs`` (all of them without a cache); returns the
        float32 logits of the last position as an array (batch, vocab)."""
        device = self.device
        n = seqs.shape[1]
        if cache is None:
            new = n
        past = n - new
        ids = Tensor._make(np.ascontiguousarray(seqs[:, past:])).to(device)
        if context is not None:
            kw = self.prepare_inputs_for_generation(
                ids, past_key_values=cache, attention_mask=Tensor._make(context["encoder_mask"]).to(device),
                encoder_outputs=context["encoder_outputs"])
        else:
            full = bool(seq_mask.all())
            mask_t = None if full else Tensor._make(np.ascontiguousarray(seq_mask)).to(device)
            pos = None if full else Tensor._make(position_ids_from_mask(seq_mask, new, past)).to(device)
            kw = self.prepare_inputs_for_generation(ids, past_key_values=cache, attention_mask=mask_t,
                                                    position_ids=pos)
        out = self(**kw)
        logits = out.logits
        if logits.ndim != 3:
            raise RuntimeError(f"{type(self).__name__} returned logits of shape {tuple(logits.shape)}; generate "
                               "expects (batch, length, vocab)")
        last = logits._data[:, -1, :]
        if not isinstance(last, np.ndarray):
            last = last.get()
        return last.astype(np.float32, copy=True)

    def _new_cache(self, context):
        return EncoderDecoderCache() if context is not None else DynamicCache()

    def _window_reset(self, seqs, cache, context):
        """With a sliding context window: when the next position would pass config.n_positions, keep only the
        most recent tokens (re-encoded from scratch). Returns (cache, positions to feed)."""
        limit = self._max_positions()
        if not self._sliding_window_generation or limit is None or context is not None:
            return cache, None
        n = seqs.shape[1] - self._window_start
        if n <= limit:
            return cache, None
        keep = max(1, limit - max(1, limit // 4))
        self._window_start = seqs.shape[1] - keep
        return (None if cache is None else self._new_cache(context)), keep

    # greedy search and sampling ------------------------------------------------------------------------------
    def _process(self, logits, seqs, params, n_new):
        """The logits processors of Transformers, in its order: repetition penalty, min length, then (sampling)
        temperature, top-k, top-p."""
        if params["repetition_penalty"] is not None and params["repetition_penalty"] != 1.0:
            logits = _repetition_penalty(logits, seqs, float(params["repetition_penalty"]))
        if params["eos"] is not None and n_new < params["min_new_tokens"]:
            logits[:, params["eos"]] = -math.inf
        if params["do_sample"]:
            t = params["temperature"]
            if t is not None and t != 1.0:
                logits = logits / np.float32(t)
            k = 50 if params["top_k"] is None else params["top_k"]
            if k and k < logits.shape[-1]:
                logits = _top_k(logits, k)
            p = params["top_p"]
            if p is not None and p < 1.0:
                logits = _top_p(logits, float(p))
        return logits

    def _draw(self, probs, n, generator):
        from ..core.random import multinomial
        return multinomial(Tensor._make(probs), n, generator=generator)._data

    def _sample(self, seqs, seq_mask, context, params):
        total, eos, pad, streamer = params["total"], params["eos"], params["pad"], params["streamer"]
        cache = self._new_cache(context) if params["use_cache"] else None
        self._window_start = 0
        unfinished = np.ones(len(seqs), bool)
        new = seqs.shape[1]
        n_new = 0
        while seqs.shape[1] < total:
            cache, keep = self._window_reset(seqs, cache, context)
            ws = self._window_start
            logits = self._step_logits(seqs[:, ws:], seq_mask[:, ws:], cache, context, new if keep is None else keep)
            scores = self._process(logits, seqs, params, n_new)
            if params["do_sample"]:
                probs = np.exp(_log_softmax(scores.astype(np.float64)))
                tokens = self._draw(probs, 1, params["generator"])[:, 0]
            else:
                tokens = scores.argmax(axis=-1)
            tokens = tokens.astype(np.int64)
            if eos is not None:
                tokens = np.where(unfinished, tokens, pad)
            seqs = np.concatenate([seqs, tokens[:, None]], 1)
            seq_mask = np.concatenate([seq_mask, np.ones((len(seqs), 1), seq_mask.dtype)], 1)
            n_new += 1
            new = 1
            _stream(streamer, tokens)
            if eos is not None:
                unfinished &= ~np.isin(tokens, eos)
                if not unfinished.any():
                    break
        return seqs

    # beam search (Transformers' vectorised algorithm) ----------------------------------------------------------
    def _beam_search(self, seqs, seq_mask, context, num_beams, num_return, length_penalty, early_stopping, params):
        total, eos, pad = params["total"], params["eos"], params["pad"]
        if params["streamer"] is not None:
            raise ValueError("generate: streaming is not supported with beam search (num_beams > 1)")
        if self._sliding_window_generation and self._max_positions() is not None and total > self._max_positions():
            raise ValueError(f"generate: beam search cannot go past the model's {self._max_positions()} positions")
        batch, prompt_len = seqs.shape
        flat = np.repeat(seqs, num_beams, 0)
        flat_mask = np.repeat(seq_mask, num_beams, 0)
        if context is not None:
            context = _repeat_context(context, num_beams)
        cache = self._new_cache(context) if params["use_cache"] else None
        self._window_start = 0
        n_eos = len(eos) if eos is not None else 0
        keep_k = max(2, 1 + n_eos) * num_beams
        fill = (pad or eos[0]) if eos is not None else -1  # as Transformers (a pad id of 0 gives eos)
        running = np.full((batch, num_beams, total), fill, np.int64)
        running[:, :, :prompt_len] = seqs[:, None, :]
        sequences = running.copy()
        running_scores = np.zeros((batch, num_beams), np.float32)
        running_scores[:, 1:] = -1e9
        beam_scores = np.full((batch, num_beams), -1e9, np.float32)
        finished = np.zeros((batch, num_beams), bool)
        improvable = np.ones((batch, 1), bool)
        hits = np.zeros((batch, num_beams), bool)
        running_idx = np.full((batch, num_beams, total - prompt_len), -1, np.int64)
        beam_idx_out = running_idx.copy()
        top_mask = np.concatenate([np.ones(num_beams, bool), np.zeros(keep_k - num_beams, bool)])
        cur = prompt_len
        new = prompt_len
        while True:
            flat = running[:, :, :cur].reshape(batch * num_beams, cur)
            logits = self._step_logits(flat, flat_mask, cache, context, new)
            flat_mask = np.concatenate([flat_mask, np.ones((len(flat_mask), 1), flat_mask.dtype)], 1)
            new = 1
            log_probs = _log_softmax(logits)
            log_probs = self._process(log_probs, flat, params, cur - prompt_len)
            vocab = log_probs.shape[-1]
            acc = (log_probs.reshape(batch, num_beams, vocab) + running_scores[:, :, None]).reshape(batch, -1)
            if params["do_sample"]:
                probs = np.exp(_log_softmax(acc.astype(np.float64)))
                top_i = self._draw(probs, keep_k, params["generator"])
                top_lp = np.take_along_axis(acc, top_i, 1)
                order = np.argsort(-top_lp, axis=1, kind="stable")
                top_lp, top_i = np.take_along_axis(top_lp, order, 1), np.take_along_axis(top_i, order, 1)
            else:
                top_i = np.argsort(-acc, axis=1, kind="stable")[:, :keep_k]
                top_lp = np.take_along_axis(acc, top_i, 1)
            src_beam = top_i // vocab
            top_ids = top_i % vocab
            top_seqs = np.take_along_axis(running, src_beam[:, :, None], 1)
            top_seqs[:, :, cur] = top_ids
            top_idx = np.take_along_axis(running_idx, src_beam[:, :, None], 1)
            top_idx[:, :, cur - prompt_len] = src_beam + (np.arange(batch) * num_beams)[:, None]
            # which candidates end here: eos, or the length limit
            if cur + 1 >= total:
                hits = np.ones_like(top_ids, bool)
            elif eos is not None:
                hits = np.isin(top_ids, eos)
            else:
                hits = np.zeros_like(top_ids, bool)
            # the best num_beams unfinished candidates run on
            run_lp = top_lp + hits.astype(np.float32) * np.float32(-1e9)
            nxt = np.argsort(-run_lp, axis=1, kind="stable")[:, :num_beams]
            running = np.take_along_axis(top_seqs, nxt[:, :, None], 1)
            running_scores = np.take_along_axis(run_lp, nxt, 1)
            running_idx = np.take_along_axis(top_idx, nxt[:, :, None], 1)
            # finished candidates among the top num_beams join the finished beams if they score better
            just_done = hits & top_mask[None, :]
            done_lp = top_lp / np.float32((cur + 1 - prompt_len) ** length_penalty)
            full = finished.all(axis=1, keepdims=True) & (early_stopping is True)
            done_lp = done_lp + full.astype(np.float32) * np.float32(-1e9)
            done_lp = done_lp + (~improvable).astype(np.float32) * np.float32(-1e9)
            done_lp = done_lp + (~just_done).astype(np.float32) * np.float32(-1e9)
            m_seqs = np.concatenate([sequences, top_seqs], 1)
            m_scores = np.concatenate([beam_scores, done_lp.astype(np.float32)], 1)
            m_idx = np.concatenate([beam_idx_out, top_idx], 1)
            m_fin = np.concatenate([finished, just_done], 1)
            best = np.argsort(-m_scores, axis=1, kind="stable")[:, :num_beams]
            sequences = np.take_along_axis(m_seqs, best[:, :, None], 1)
            beam_scores = np.take_along_axis(m_scores, best, 1)
            beam_idx_out = np.take_along_axis(m_idx, best[:, :, None], 1)
            finished = np.take_along_axis(m_fin, best, 1)
            if cache is not None:
                self._reorder_for_generation(cache, running_idx[:, :, cur - prompt_len].reshape(-1))
            cur += 1
            # can a running beam still beat the worst finished one?
            if early_stopping == "never" and length_penalty > 0.0:
                best_len = total - prompt_len
            else:
                best_len = cur - prompt_len
            best_running = running_scores[:, :1] / np.float32(best_len ** length_penalty)
            worst_done = np.where(finished, beam_scores.min(axis=1, keepdims=True), np.float32(-1e9))
            improvable = improvable & (best_running > worst_done).any(axis=-1, keepdims=True)
            go_on = improvable.any() and not (finished.all() and early_stopping is True) and not hits.all()
            if not go_on:
                break
        sequences = sequences[:, :num_return].reshape(batch * num_return, total)
        beam_idx_out = beam_idx_out[:, :num_return].reshape(batch * num_return, -1)
        generated = int((beam_idx_out + 1).astype(bool).sum(axis=1).max())
        return sequences[:, :prompt_len + generated]


def _repeat_context(context, reps):
    enc = context["encoder_outputs"]
    hidden = enc[0]
    idx = Tensor._make(np.repeat(np.arange(hidden.shape[0]), reps)).to(hidden.device)
    repeated = type(enc)(last_hidden_state=hidden[idx]) if isinstance(enc, ModelOutput) else (hidden[idx],)
    return {"encoder_outputs": repeated, "encoder_mask": np.repeat(context["encoder_mask"], reps, 0)}


def _stream(streamer, tokens):
    if streamer is None:
        return
    if hasattr(streamer, "put"):
        streamer.put(Tensor._make(tokens.copy()))
    else:
        streamer([int(t) for t in tokens])
