"""T5 (Raffel et al., 2020) with Hugging Face Transformers' class and parameter names: ``T5Model``,
``T5EncoderModel`` and ``T5ForConditionalGeneration`` load hub checkpoints (``google-t5/t5-small``,
``google/flan-t5-*``, ``google/t5-v1_1-*``) and save files that ``transformers`` loads.

The pieces, named as in Transformers: ``shared`` (the token embedding of encoder, decoder and, tied, the LM head);
``encoder`` / ``decoder`` stacks of ``block.N.layer.{0: SelfAttention, 1: EncDecAttention (decoder), -1:
DenseReluDense}`` with ``layer_norm`` before each (T5LayerNorm: RMS, no mean, no bias) and ``final_layer_norm``;
attention without the 1/sqrt(d) scaling, with a learned relative position bias (``relative_attention_bias``) in
the first block of each stack, shared by the others; the feed-forward ``DenseReluDense`` is ``wi`` / ``wo`` (T5,
``feed_forward_proj="relu"``) or the gated ``wi_0`` / ``wi_1`` / ``wo`` (T5 v1.1 / Flan-T5, ``"gated-gelu"``).

The LM head: when ``tie_word_embeddings`` (T5) it is ``shared`` and the decoder output is scaled by
``d_model ** -0.5`` first; v1.1 checkpoints (``tie_word_embeddings: false``) have their own ``lm_head`` and no
scaling. Transformers 5 writes ``scale_decoder_outputs`` into config.json; it is honoured when present.
"""
import math

import numpy as np

from ...core import nn
from ...core.nn import functional as F
from ...core.device import array_module
from ...core.nn import init
from ...core.tensor import Tensor
from ...weights.pretrained import PretrainedConfig, PreTrainedModel
from ..generation import (BaseModelOutput, BaseModelOutputWithPastAndCrossAttentions, EncoderDecoderCache,
                          GenerationMixin, ModelOutput, Seq2SeqLMOutput, as_cache)
from .gpt2 import _int_tensor, get_activation

__all__ = ["T5Config", "T5Model", "T5EncoderModel", "T5ForConditionalGeneration", "T5PreTrainedModel",
           "T5LayerNorm", "relative_position_bucket"]


class T5Config(PretrainedConfig):
    """T5 hyper-parameters, with Transformers' names and defaults (t5-small)."""

    model_type = "t5"
    attribute_map = {"hidden_size": "d_model", "num_attention_heads": "num_heads", "num_hidden_layers": "num_layers",
                     "head_dim": "d_kv"}

    def __init__(self, vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=None,
                 num_heads=8, relative_attention_num_buckets=32, relative_attention_max_distance=128,
                 dropout_rate=0.1, layer_norm_epsilon=1e-6, initializer_factor=1.0, feed_forward_proj="relu",
                 is_encoder_decoder=True, use_cache=True, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                 tie_word_embeddings=True, **kwargs):
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.d_kv = d_kv
        self.d_ff = d_ff
        self.num_layers = num_layers
        self.num_decoder_layers = num_decoder_layers if num_decoder_layers is not None else num_layers
        self.num_heads = num_heads
        self.relative_attention_num_buckets = relative_attention_num_buckets
        self.relative_attention_max_distance = relative_attention_max_distance
        self.dropout_rate = dropout_rate
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_factor = initializer_factor
        self.feed_forward_proj = feed_forward_proj
        self.is_encoder_decoder = is_encoder_decoder
        self.use_cache = use_cache
        self.pad_token_id = pad_token_id
        self.eos_token_id = eos_token_id
        self.decoder_start_token_id = decoder_start_token_id
        self.tie_word_embeddings = tie_word_embeddings
        parts = str(feed_forward_proj).split("-")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
            raise ValueError(f"T5Config: feed_forward_proj {feed_forward_proj!r} is not valid; use 'ACT' or "
                             "'gated-ACT', e.g. 'relu' or 'gated-gelu'")
        kwargs.pop("dense_act_fn", None)  # derived from feed_forward_proj, as Transformers does
        kwargs.pop("is_gated_act", None)
        self.dense_act_fn = "gelu_new" if feed_forward_proj == "gated-gelu" else parts[-1]
        self.is_gated_act = parts[0] == "gated"
        scale = kwargs.pop("scale_decoder_outputs", None)
        self.scale_decoder_outputs = bool(tie_word_embeddings) if scale is None else bool(scale)
        super().__init__(**kwargs)
        get_activation(self.dense_act_fn)


class T5LayerNorm(nn.Module):
    """RMS normalisation without mean subtraction or bias: ``weight * x / sqrt(mean(x**2) + eps)``."""

    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(Tensor._make(np.ones((hidden_size,), np.float32)))
        self.variance_epsilon = eps

    def forward(self, x):
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.variance_epsilon)


class T5DenseActDense(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wi = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)

    def forward(self, x):
        return self.wo(self.dropout(self.act(self.wi(x))))


class T5DenseGatedActDense(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wi_0 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wi_1 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)

    def forward(self, x):
        return self.wo(self.dropout(self.act(self.wi_0(x)) * self.wi_1(x)))


class T5LayerFF(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(config) if config.is_gated_act else T5DenseActDense(config)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x):
        return x + self.dropout(self.DenseReluDense(self.layer_norm(x)))


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    """T5's bucket of each relative position (key - query), an int array: exact buckets for small distances,
    logarithmic ones up to ``max_distance``, and (``bidirectional``) separate halves for the two directions."""
    rel = np.asarray(relative_position, dtype=np.int64)
    buckets = np.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).astype(np.int64) * num_buckets
        rel = np.abs(rel)
    else:
        rel = -np.minimum(rel, 0)
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    # float32 as in the reference, then truncation toward zero
    with np.errstate(divide="ignore"):
        scaled = (np.log(np.maximum(rel, 1).astype(np.float32) / np.float32(max_exact))
                  / np.float32(math.log(max_distance / max_exact)) * np.float32(num_buckets - max_exact))
    large = np.minimum(max_exact + scaled.astype(np.int64), num_buckets - 1)
    return buckets + np.where(is_small, rel, large)


class T5Attention(nn.Module):
    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, layer_idx=None):
        super().__init__()
        self.is_decoder = is_decoder
        self.has_relative_attention_bias = has_relative_attention_bias
        self.relative_attention_num_buckets = config.relative_attention_num_buckets
        self.relative_attention_max_distance = config.relative_attention_max_distance
        self.d_model = config.d_model
        self.key_value_proj_dim = config.d_kv
        self.n_heads = config.num_heads
        self.dropout = config.dropout_rate
        self.inner_dim = self.n_heads * self.key_value_proj_dim
        self.layer_idx = layer_idx
        self.q = nn.Linear(self.d_model, self.inner_dim, bias=False)
        self.k = nn.Linear(self.d_model, self.inner_dim, bias=False)
        self.v = nn.Linear(self.d_model, self.inner_dim, bias=False)
        self.o = nn.Linear(self.inner_dim, self.d_model, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(self.relative_attention_num_buckets, self.n_heads)

    def compute_bias(self, query_length, key_length, offset=0):
        """The position bias (1, heads, query_length, key_length) for queries at positions ``offset ...``."""
        context = np.arange(offset, offset + query_length, dtype=np.int64)[:, None]
        memory = np.arange(key_length, dtype=np.int64)[None, :]
        buckets = relative_position_bucket(memory - context, bidirectional=not self.is_decoder,
                                           num_buckets=self.relative_attention_num_buckets,
                                           max_distance=self.relative_attention_max_distance)
        idx = Tensor._make(buckets).to(self.relative_attention_bias.weight.device)
        return self.relative_attention_bias(idx).permute(2, 0, 1).unsqueeze(0)

    def _heads(self, x):
        B, T = x.shape[:2]
        return x.reshape(B, T, self.n_heads, self.key_value_proj_dim).transpose(1, 2)

    def forward(self, x, bias, key_value_states=None, cache=None):
        B, T = x.shape[:2]
        q = self._heads(self.q(x))
        if key_value_states is not None:  # cross-attention: keys / values of the encoder output, computed once
            cross = cache.cross_attention_cache if cache is not None else None
            if cross is not None and cache.is_updated.get(self.layer_idx):
                k, v = cross[self.layer_idx]
            else:
                k, v = self._heads(self.k(key_value_states)), self._heads(self.v(key_value_states))
                if cross is not None:
                    k, v = cross.update(k, v, self.layer_idx)
                    cache.is_updated[self.layer_idx] = True
        else:
            k, v = self._heads(self.k(x)), self._heads(self.v(x))
            if cache is not None:
                k, v = cache.self_attention_cache.update(k, v, self.layer_idx)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0,
                                           scale=1.0)
        return self.o(y.transpose(1, 2).reshape(B, T, self.inner_dim))


class T5LayerSelfAttention(nn.Module):
    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, layer_idx=None):
        super().__init__()
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, is_decoder, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x, bias, cache=None):
        return x + self.dropout(self.SelfAttention(self.layer_norm(x), bias, cache=cache))


class T5LayerCrossAttention(nn.Module):
    def __init__(self, config, layer_idx=None):
        super().__init__()
        self.EncDecAttention = T5Attention(config, False, True, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x, encoder_states, bias, cache=None):
        return x + self.dropout(self.EncDecAttention(self.layer_norm(x), bias, key_value_states=encoder_states,
                                                     cache=cache))


class T5Block(nn.Module):
    def __init__(self, config, has_relative_attention_bias=False, is_decoder=False, layer_idx=None):
        super().__init__()
        self.is_decoder = is_decoder
        layers = [T5LayerSelfAttention(config, has_relative_attention_bias, is_decoder, layer_idx)]
        if is_decoder:
            layers.append(T5LayerCrossAttention(config, layer_idx))
        layers.append(T5LayerFF(config))
        self.layer = nn.ModuleList(layers)

    def forward(self, x, self_bias, encoder_states=None, cross_bias=None, cache=None):
        x = self.layer[0](x, self_bias, cache)
        if self.is_decoder:
            x = self.layer[1](x, encoder_states, cross_bias, cache)
        return self.layer[-1](x)


def _additive_mask(keep, dtype):
    """0 where ``keep``, the dtype's most negative value elsewhere (Transformers' convention)."""
    np_dtype = np.dtype(dtype.name)
    return np.where(keep, np_dtype.type(0), np.finfo(np_dtype).min).astype(np_dtype)


def _mask_data(mask, name, shape):
    if mask is None:
        return None
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if not isinstance(m, np.ndarray):
        m = m.get()
    if m.ndim != 2 or tuple(m.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape (batch, length) = {tuple(shape)}, got {tuple(m.shape)}")
    return m


class T5Stack(nn.Module):
    """The encoder or the decoder: embedding (shared), blocks, final layer norm."""

    def __init__(self, config, embed_tokens, is_decoder):
        super().__init__()
        self.is_decoder = is_decoder
        self.embed_tokens = embed_tokens
        n = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = nn.ModuleList([T5Block(config, i == 0, is_decoder, i) for i in range(n)])
        self.final_layer_norm = T5LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.use_cache_default = bool(getattr(config, "use_cache", True))

    def forward(self, input_ids=None, attention_mask=None, encoder_hidden_states=None, encoder_attention_mask=None,
                inputs_embeds=None, past_key_values=None, use_cache=None, output_hidden_states=False,
                output_attentions=False, **kwargs):
        name = "T5Stack (decoder)" if self.is_decoder else "T5Stack (encoder)"
        if output_attentions:
            raise NotImplementedError(f"{name}: output_attentions is not supported (attention runs as one fused op)")
        kwargs.pop("return_dict", None)
        if kwargs:
            raise TypeError(f"{name}.forward got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError(f"{name}: pass exactly one of input_ids and inputs_embeds")
        if inputs_embeds is None:
            input_ids = _int_tensor(input_ids, "input_ids")
            if input_ids.ndim != 2:
                raise ValueError(f"{name}: input_ids must have shape (batch, length), got {tuple(input_ids.shape)}")
            inputs_embeds = self.embed_tokens(input_ids)
        B, T = inputs_embeds.shape[:2]
        cache = None
        if self.is_decoder:
            if use_cache is None:
                use_cache = self.use_cache_default and not self.training
            cache = as_cache(past_key_values, encoder_decoder=True)
            if use_cache and cache is None:
                cache = EncoderDecoderCache()
            if encoder_hidden_states is None:
                raise ValueError(f"{name}: the decoder needs encoder_hidden_states")
        past = cache.get_seq_length() if cache is not None else 0
        dtype = inputs_embeds.dtype
        x = self.dropout(inputs_embeds)

        bias = self.block[0].layer[0].SelfAttention.compute_bias(T, past + T, past).to(dtype)
        m = _mask_data(attention_mask, "attention_mask", (B, past + T))
        keep = None if m is None or m.all() else (m != 0)[:, None, None, :]
        if self.is_decoder and T > 1:
            causal = np.arange(past + T)[None, :] <= (np.arange(T) + past)[:, None]
            keep = causal[None, None] if keep is None else keep & causal[None, None]
        if keep is not None:
            bias = bias + Tensor._make(_additive_mask(keep, dtype)).to(bias.device)
        cross_bias = None
        if self.is_decoder:
            S = encoder_hidden_states.shape[1]
            em = _mask_data(encoder_attention_mask, "encoder attention_mask", (B, S))
            if em is not None and not em.all():
                cross_bias = Tensor._make(_additive_mask((em != 0)[:, None, None, :], dtype)).to(x.device)

        hidden = [] if output_hidden_states else None
        for block in self.block:
            if hidden is not None:
                hidden.append(x)
            x = block(x, bias, encoder_hidden_states, cross_bias, cache)
        x = self.dropout(self.final_layer_norm(x))
        if hidden is not None:
            hidden.append(x)
        return BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=x, past_key_values=cache if use_cache else None,
            hidden_states=tuple(hidden) if hidden is not None else None)


class T5PreTrainedModel(PreTrainedModel):
    config_class = T5Config
    base_model_prefix = "transformer"
    _keys_to_ignore_on_load_unexpected = [r"^decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias"]

    def _init_weights(self, module):
        """Transformers' T5 initialisation (Mesh TensorFlow's), scaled by ``initializer_factor``."""
        c, f = self.config, self.config.initializer_factor
        if isinstance(module, T5LayerNorm):
            init.constant_(module.weight, f)
        elif isinstance(module, T5DenseActDense):
            init.normal_(module.wi.weight, 0.0, f * c.d_model ** -0.5)
            init.normal_(module.wo.weight, 0.0, f * c.d_ff ** -0.5)
        elif isinstance(module, T5DenseGatedActDense):
            init.normal_(module.wi_0.weight, 0.0, f * c.d_model ** -0.5)
            init.normal_(module.wi_1.weight, 0.0, f * c.d_model ** -0.5)
            init.normal_(module.wo.weight, 0.0, f * c.d_ff ** -0.5)
        elif isinstance(module, T5Attention):
            init.normal_(module.q.weight, 0.0, f * (c.d_model * c.d_kv) ** -0.5)
            init.normal_(module.k.weight, 0.0, f * c.d_model ** -0.5)
            init.normal_(module.v.weight, 0.0, f * c.d_model ** -0.5)
            init.normal_(module.o.weight, 0.0, f * (c.num_heads * c.d_kv) ** -0.5)
            if module.has_relative_attention_bias:
                init.normal_(module.relative_attention_bias.weight, 0.0, f * c.d_model ** -0.5)

    def post_init(self):
        self.apply(lambda m: None if m is self else self._init_weights(m))
        if hasattr(self, "shared"):
            init.normal_(self.shared.weight, 0.0, self.config.initializer_factor)
        lm_head = getattr(self, "lm_head", None)
        if lm_head is not None and lm_head.weight is not self.shared.weight:
            init.normal_(lm_head.weight, 0.0, self.config.initializer_factor)

    def get_input_embeddings(self):
        return self.shared

    def get_encoder(self):
        return self.encoder

    def _shift_right(self, input_ids):
        """Decoder inputs from labels: ``decoder_start_token_id`` then the labels but the last, -100 -> pad."""
        start, pad = self.config.decoder_start_token_id, self.config.pad_token_id
        if start is None or pad is None:
            raise ValueError("T5: config.decoder_start_token_id and config.pad_token_id must be set to build "
                             "decoder inputs from labels")
        labels = _int_tensor(input_ids, "labels")
        data = labels._data
        shifted = array_module(data).empty_like(data)
        shifted[..., 1:] = data[..., :-1]
        shifted[..., 0] = start
        shifted[shifted == -100] = pad
        return Tensor._make(shifted)


def _encoder_outputs(encoder_outputs):
    if isinstance(encoder_outputs, ModelOutput):
        return encoder_outputs
    if isinstance(encoder_outputs, Tensor):
        return BaseModelOutput(last_hidden_state=encoder_outputs)
    if isinstance(encoder_outputs, (tuple, list)) and encoder_outputs:
        return BaseModelOutput(*encoder_outputs[:3])
    raise TypeError(f"encoder_outputs must be a model output, a tuple or a tensor, got "
                    f"{type(encoder_outputs).__name__}")


class Seq2SeqModelOutput(ModelOutput):
    _fields = ("last_hidden_state", "past_key_values", "decoder_hidden_states", "encoder_last_hidden_state",
               "encoder_hidden_states")


class T5EncoderModel(T5PreTrainedModel):
    """The T5 encoder alone (``shared`` + ``encoder``): ``last_hidden_state`` of the input."""

    _keys_to_ignore_on_load_unexpected = [r"^decoder\.", r"^lm_head\."]

    def __init__(self, config):
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, output_hidden_states=False, **kwargs):
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds,
                           output_hidden_states=output_hidden_states, **kwargs)
        return BaseModelOutput(last_hidden_state=out.last_hidden_state, hidden_states=out.hidden_states)


class T5Model(T5PreTrainedModel):
    """The bare encoder-decoder: the decoder's ``last_hidden_state`` (and the encoder's)."""

    _keys_to_ignore_on_load_unexpected = T5PreTrainedModel._keys_to_ignore_on_load_unexpected + [r"^lm_head\."]

    def __init__(self, config):
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, past_key_values=None, use_cache=None, **kwargs):
        if encoder_outputs is None:
            encoder_outputs = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        encoder_outputs = _encoder_outputs(encoder_outputs)
        dec = self.decoder(input_ids=decoder_input_ids, attention_mask=decoder_attention_mask,
                           encoder_hidden_states=encoder_outputs.last_hidden_state,
                           encoder_attention_mask=attention_mask, past_key_values=past_key_values,
                           use_cache=use_cache, **kwargs)
        return Seq2SeqModelOutput(last_hidden_state=dec.last_hidden_state, past_key_values=dec.past_key_values,
                                  encoder_last_hidden_state=encoder_outputs.last_hidden_state)


class T5ForConditionalGeneration(T5PreTrainedModel, GenerationMixin):
    """T5 with its language-modelling head: logits of the decoder, the loss of ``labels`` (decoder inputs are the
    labels shifted right when not given) and :meth:`generate` (starting from ``decoder_start_token_id``)."""

    def __init__(self, config):
        super().__init__(config)
        self.model_dim = config.d_model
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.shared.weight
        self.post_init()

    def get_output_embeddings(self):
        return self.lm_head

    def _max_positions(self):
        return None  # relative positions: no limit

    def _convert_state_dict(self, state_dict):
        state = super()._convert_state_dict(state_dict)
        # Transformers 5 always ties the head and does not save it; an untied model then starts from `shared`
        if (self.lm_head.weight is not self.shared.weight and "lm_head.weight" not in state
                and "shared.weight" in state):
            state["lm_head.weight"] = state["shared.weight"]
        return state

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, past_key_values=None, inputs_embeds=None, decoder_inputs_embeds=None,
                labels=None, use_cache=None, output_hidden_states=False, output_attentions=False, logits_to_keep=0,
                **kwargs):
        if encoder_outputs is None:
            encoder_outputs = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                           inputs_embeds=inputs_embeds, output_hidden_states=output_hidden_states,
                                           output_attentions=output_attentions)
        encoder_outputs = _encoder_outputs(encoder_outputs)
        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self._shift_right(labels).to(self.shared.weight.device)
        dec = self.decoder(input_ids=decoder_input_ids, attention_mask=decoder_attention_mask,
                           inputs_embeds=decoder_inputs_embeds,
                           encoder_hidden_states=encoder_outputs.last_hidden_state,
                           encoder_attention_mask=attention_mask, past_key_values=past_key_values,
                           use_cache=use_cache, output_hidden_states=output_hidden_states,
                           output_attentions=output_attentions, **kwargs)
        seq = dec.last_hidden_state
        if logits_to_keep and labels is None:  # generation needs only the last position's logits
            seq = seq[:, -int(logits_to_keep):, :]
        if self.config.scale_decoder_outputs:
            seq = seq * (self.model_dim ** -0.5)
        logits = self.lm_head(seq)
        loss = None
        if labels is not None:
            labels = _int_tensor(labels, "labels").to(logits.device)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return Seq2SeqLMOutput(loss=loss, logits=logits, past_key_values=dec.past_key_values,
                               decoder_hidden_states=dec.hidden_states,
                               encoder_last_hidden_state=encoder_outputs.last_hidden_state,
                               encoder_hidden_states=encoder_outputs.hidden_states)
