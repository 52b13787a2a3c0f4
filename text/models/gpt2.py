"""GPT-2 (Radford et al., 2019) with Hugging Face Transformers' class and parameter names, so hub checkpoints
(``openai-community/gpt2`` ...) load unchanged and zoo's saved models load in ``transformers``.

``GPT2Model`` (``wte``, ``wpe``, ``h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}``, ``ln_f``) and
``GPT2LMHeadModel`` (``transformer`` + ``lm_head`` tied to ``wte``). The projections are :class:`Conv1D` layers as
in the original code: their weight is stored (in_features, out_features). Attention is causal, scaled by
1/sqrt(head_dim), with an optional padding ``attention_mask`` and a key/value cache (``past_key_values``).
"""
import numpy as np

from ...core import nn
from ...core.nn import functional as F
from ...core.nn import init
from ...core.tensor import Tensor
from ...weights.pretrained import PretrainedConfig, PreTrainedModel
from ..generation import (BaseModelOutputWithPastAndCrossAttentions, CausalLMOutputWithCrossAttentions,
                          DynamicCache, GenerationMixin, as_cache, causal_attention_mask)

__all__ = ["GPT2Config", "GPT2Model", "GPT2LMHeadModel", "GPT2PreTrainedModel", "Conv1D", "get_activation"]


def _gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


_ACTIVATIONS = {"gelu_new": _gelu_tanh, "gelu_pytorch_tanh": _gelu_tanh, "gelu_fast": _gelu_tanh,
                "gelu": F.gelu, "relu": F.relu, "silu": F.silu, "swish": F.silu, "tanh": lambda x: x.tanh(),
                "sigmoid": lambda x: x.sigmoid(), "linear": lambda x: x}


def get_activation(name):
    """The activation function of a Transformers config name (``"gelu_new"``, ``"relu"`` ...)."""
    try:
        return _ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"activation function {name!r} is not supported; supported: "
                         f"{', '.join(sorted(_ACTIVATIONS))}") from None


class GPT2Config(PretrainedConfig):
    """GPT-2 hyper-parameters, with Transformers' names and defaults (GPT-2 small)."""

    model_type = "gpt2"
    attribute_map = {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
                     "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"}

    def __init__(self, vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, n_inner=None,
                 activation_function="gelu_new", resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1,
                 layer_norm_epsilon=1e-5, initializer_range=0.02, scale_attn_weights=True, use_cache=True,
                 bos_token_id=50256, eos_token_id=50256, scale_attn_by_inverse_layer_idx=False,
                 reorder_and_upcast_attn=False, tie_word_embeddings=True, **kwargs):
        self.vocab_size = vocab_size
        self.n_positions = n_positions
        self.n_embd = n_embd
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_inner = n_inner
        self.activation_function = activation_function
        self.resid_pdrop = resid_pdrop
        self.embd_pdrop = embd_pdrop
        self.attn_pdrop = attn_pdrop
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.scale_attn_weights = scale_attn_weights
        self.use_cache = use_cache
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx
        self.reorder_and_upcast_attn = reorder_and_upcast_attn
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(**kwargs)
        if n_embd % n_head:
            raise ValueError(f"{type(self).__name__}: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        get_activation(activation_function)


class Conv1D(nn.Module):
    """GPT-2's linear layer: ``x @ weight + bias`` with ``weight`` of shape (in_features, out_features)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf, self.nx = nf, nx
        self.weight = nn.Parameter(Tensor._make(np.zeros((nx, nf), np.float32)))
        self.bias = nn.Parameter(Tensor._make(np.zeros((nf,), np.float32)))

    def forward(self, x):
        return F.linear(x, self.weight.t(), self.bias)

    def extra_repr(self):
        return f"nf={self.nf}, nx={self.nx}"


class GPT2Attention(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.embed_dim = config.n_embd
        self.num_heads = config.n_head
        self.head_dim = self.embed_dim // self.num_heads
        self.layer_idx = layer_idx
        scale = self.head_dim ** -0.5 if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            scale /= float(layer_idx + 1)
        self.scaling = scale
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_pdrop = config.attn_pdrop
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x, cache=None, attn_mask=None, is_causal=False):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).reshape(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                           dropout_p=self.attn_pdrop if self.training else 0.0,
                                           is_causal=is_causal, scale=self.scaling)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class GPT2MLP(nn.Module):
    def __init__(self, inner, config):
        super().__init__()
        self.c_fc = Conv1D(inner, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.act = get_activation(config.activation_function)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner, config)

    def forward(self, x, cache=None, attn_mask=None, is_causal=False):
        x = x + self.attn(self.ln_1(x), cache, attn_mask, is_causal)
        return x + self.mlp(self.ln_2(x))


def _unsupported(output_attentions, kwargs, name):
    if output_attentions:
        raise NotImplementedError(f"{name}: output_attentions is not supported (attention runs as one fused op "
                                  "that does not keep its weights)")
    for key in ("head_mask", "encoder_hidden_states", "encoder_attention_mask", "cache_position"):
        if kwargs.pop(key, None) is not None:
            raise NotImplementedError(f"{name}: {key} is not supported")
    kwargs.pop("return_dict", None)
    if kwargs:
        raise TypeError(f"{name}.forward got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")


def _int_tensor(x, name):
    if x is None:
        return None
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x, dtype=np.int64))
    if x.dtype.is_floating_point:
        raise TypeError(f"{name} must hold integer ids, got dtype {x.dtype.name}")
    return x


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # buffers of old checkpoints (the causal mask), not parameters
    _keys_to_ignore_on_load_unexpected = [r"(^|\.)attn\.masked_bias$", r"(^|\.)attn\.bias$"]

    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, Conv1D)):
            init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, 0.0, std)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        # GPT-2's scaled init of the residual projections: std / sqrt(2 * n_layer)
        if isinstance(module, (GPT2Attention, GPT2MLP)):
            init.normal_(module.c_proj.weight, 0.0, std / (2 * self.config.n_layer) ** 0.5)

    def post_init(self):
        """Initialise the weights as Transformers does (children before parents, so the scaled init of the
        residual projections is the last word)."""
        self.apply(lambda m: None if m is self else self._init_weights(m))


class GPT2Model(GPT2PreTrainedModel):
    """The bare GPT-2 transformer: token + position embeddings, ``n_layer`` blocks and the final LayerNorm."""

    def __init__(self, config):
        super().__init__(config)
        self.embed_dim = config.n_embd
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList([GPT2Block(config, i) for i in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        if type(self) is GPT2Model:
            self.post_init()

    def get_input_embeddings(self):
        return self.wte

    def forward(self, input_ids=None, past_key_values=None, attention_mask=None, token_type_ids=None,
                position_ids=None, inputs_embeds=None, use_cache=None, output_attentions=False,
                output_hidden_states=False, **kwargs):
        name = type(self).__name__
        _unsupported(output_attentions, kwargs, name)
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError(f"{name}: pass exactly one of input_ids and inputs_embeds")
        input_ids = _int_tensor(input_ids, "input_ids")
        if input_ids is not None:
            if input_ids.ndim == 1:
                input_ids = input_ids.unsqueeze(0)
            if input_ids.ndim != 2:
                raise ValueError(f"{name}: input_ids must have shape (batch, length), got {tuple(input_ids.shape)}")
            B, T = input_ids.shape
        else:
            B, T = inputs_embeds.shape[:2]
        if use_cache is None:
            use_cache = bool(getattr(self.config, "use_cache", True)) and not self.training
        cache = as_cache(past_key_values)
        if use_cache and cache is None:
            cache = DynamicCache()
        past = cache.get_seq_length() if cache is not None else 0
        n_pos = self.config.n_positions
        if position_ids is None:
            if past + T > n_pos:
                raise ValueError(f"{name}: {past + T} positions ({past} cached + {T} new) exceed n_positions="
                                 f"{n_pos}, the longest sequence this model has position embeddings for")
            position_ids = Tensor._make(np.arange(past, past + T, dtype=np.int64)[None, :]).to(self.wpe.weight.device)
        else:
            position_ids = _int_tensor(position_ids, "position_ids")
            if position_ids.numel() and int(position_ids.max().item()) >= n_pos:
                raise ValueError(f"{name}: position id {int(position_ids.max().item())} is out of range for "
                                 f"n_positions={n_pos}")
        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)
        x = inputs_embeds + self.wpe(position_ids)
        if token_type_ids is not None:
            x = x + self.wte(_int_tensor(token_type_ids, "token_type_ids"))
        x = self.drop(x)
        mask, is_causal = causal_attention_mask(attention_mask, T, past, device=x.device)
        hidden = [] if output_hidden_states else None
        for block in self.h:
            if hidden is not None:
                hidden.append(x)
            x = block(x, cache, mask, is_causal)
        x = self.ln_f(x)
        if hidden is not None:
            hidden.append(x)
        return BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=x, past_key_values=cache if use_cache else None,
            hidden_states=tuple(hidden) if hidden is not None else None)


class GPT2LMHeadModel(GPT2PreTrainedModel, GenerationMixin):
    """GPT-2 with its language-modelling head (``lm_head``, tied to ``transformer.wte``): next-token logits,
    the loss of ``labels`` (shifted inside, -100 ignored) and :meth:`generate`."""

    def __init__(self, config):
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()
        self.tie_weights()

    def tie_weights(self):
        if getattr(self.config, "tie_word_embeddings", True):
            self.lm_head.weight = self.transformer.wte.weight

    def get_input_embeddings(self):
        return self.transformer.wte

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, past_key_values=None, attention_mask=None, token_type_ids=None,
                position_ids=None, inputs_embeds=None, labels=None, use_cache=None, output_attentions=False,
                output_hidden_states=False, logits_to_keep=0, **kwargs):
        """``logits_to_keep``: compute the logits of only the last that many positions (0: all), as Transformers;
        generation asks for 1. The loss needs all of them."""
        out = self.transformer(input_ids=input_ids, past_key_values=past_key_values, attention_mask=attention_mask,
                               token_type_ids=token_type_ids, position_ids=position_ids, inputs_embeds=inputs_embeds,
                               use_cache=use_cache, output_attentions=output_attentions,
                               output_hidden_states=output_hidden_states, **kwargs)
        hidden = out.last_hidden_state
        if logits_to_keep and labels is None:
            hidden = hidden[:, -int(logits_to_keep):, :]
        logits = self.lm_head(hidden)
        loss = None if labels is None else causal_lm_loss(logits, labels)
        return CausalLMOutputWithCrossAttentions(loss=loss, logits=logits, past_key_values=out.past_key_values,
                                                 hidden_states=out.hidden_states)


def causal_lm_loss(logits, labels, ignore_index=-100):
    """Mean cross entropy of ``logits[:, :-1]`` against ``labels[:, 1:]`` (-100 ignored), as Transformers."""
    labels = _int_tensor(labels, "labels")
    if tuple(labels.shape) != tuple(logits.shape[:2]):
        raise ValueError(f"labels have shape {tuple(labels.shape)} but the logits are {tuple(logits.shape)}: "
                         "labels must be (batch, length), the shape of input_ids")
    V = logits.shape[-1]
    shifted = logits[:, :-1, :].reshape(-1, V)
    target = labels[:, 1:].reshape(-1).to(logits.device)
    return F.cross_entropy(shifted, target, ignore_index=ignore_index)
