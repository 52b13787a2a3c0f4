"""Wav2Vec2 (Baevski et al., 2020) with Hugging Face Transformers' classes, config and parameter names, so hub
checkpoints such as ``facebook/wav2vec2-base-960h`` load as they are:

* ``wav2vec2.feature_extractor.conv_layers.N.conv`` (+ ``.layer_norm``: a GroupNorm in layer 0 for
  ``feat_extract_norm="group"``, a LayerNorm in every layer for ``"layer"``);
* ``wav2vec2.feature_projection.{layer_norm,projection}``;
* ``wav2vec2.encoder.pos_conv_embed.conv`` with weight norm over dim 2 (``weight_g`` / ``weight_v``; newer files
  store them as ``parametrizations.weight.original0`` / ``original1`` and are renamed on load);
* ``wav2vec2.encoder.layers.N.attention.{q,k,v,out}_proj``, ``.layer_norm``, ``.feed_forward.
  {intermediate,output}_dense``, ``.final_layer_norm``; ``wav2vec2.encoder.layer_norm``; ``lm_head``.

Both encoder variants are supported: post-norm (``do_stable_layer_norm=False``, the base models) and pre-norm
(``True``, the large "lv60" models). ``attention_mask`` (1 = real sample) masks padding as Transformers does.
In training mode SpecAugment time / feature masking (``mask_time_prob`` ...) and LayerDrop apply, as in
Transformers. Not supported: the adapter (``add_adapter``), attention adapters (``adapter_attn_dim``) and the
pre-training quantizer; a config asking for them is refused.
"""
import math

import numpy as np

from ...core import nn
from ...core.nn import functional as F
from ...core.tensor import Tensor
from ...weights.outputs import ModelOutput
from ...weights.pretrained import PretrainedConfig, PreTrainedModel

__all__ = ["Wav2Vec2Config", "Wav2Vec2Model", "Wav2Vec2ForCTC", "Wav2Vec2BaseModelOutput", "CausalLMOutput"]


class Wav2Vec2Config(PretrainedConfig):
    """Transformers' Wav2Vec2Config keys and defaults (those of facebook/wav2vec2-base)."""
    model_type = "wav2vec2"

    def __init__(self, vocab_size=32, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, hidden_act="gelu", hidden_dropout=0.1, activation_dropout=0.1,
                 attention_dropout=0.1, feat_proj_dropout=0.0, feat_quantizer_dropout=0.0, final_dropout=0.1,
                 layerdrop=0.1, initializer_range=0.02, layer_norm_eps=1e-5, feat_extract_norm="group",
                 feat_extract_activation="gelu", conv_dim=(512,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2),
                 conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_bias=False, num_conv_pos_embeddings=128,
                 num_conv_pos_embedding_groups=16, do_stable_layer_norm=False, apply_spec_augment=True,
                 mask_time_prob=0.05, mask_time_length=10, mask_time_min_masks=2, mask_feature_prob=0.0,
                 mask_feature_length=10, mask_feature_min_masks=0, ctc_loss_reduction="sum", ctc_zero_infinity=False,
                 pad_token_id=0, bos_token_id=1, eos_token_id=2, add_adapter=False, adapter_attn_dim=None,
                 output_hidden_size=None, **kwargs):
        for key, value in list(locals().items()):
            if key not in ("self", "kwargs", "__class__"):
                setattr(self, key, list(value) if isinstance(value, tuple) else value)
        if not (len(self.conv_dim) == len(self.conv_stride) == len(self.conv_kernel)):
            raise ValueError(f"Wav2Vec2Config: conv_dim ({len(self.conv_dim)}), conv_stride ({len(self.conv_stride)}) "
                             f"and conv_kernel ({len(self.conv_kernel)}) must have the same length")
        if feat_extract_norm not in ("group", "layer"):
            raise ValueError(f"Wav2Vec2Config: feat_extract_norm must be 'group' or 'layer', got {feat_extract_norm!r}")
        if hidden_size % num_attention_heads:
            raise ValueError(f"Wav2Vec2Config: hidden_size ({hidden_size}) is not a multiple of num_attention_heads "
                             f"({num_attention_heads})")
        self.num_feat_extract_layers = len(self.conv_dim)
        self.output_hidden_size = output_hidden_size or hidden_size
        kwargs.pop("num_feat_extract_layers", None)
        super().__init__(**kwargs)

    @property
    def inputs_to_logits_ratio(self):
        return math.prod(self.conv_stride)


class Wav2Vec2BaseModelOutput(ModelOutput):
    """``last_hidden_state`` [batch, frames, hidden], ``extract_features`` [batch, frames, conv_dim[-1]],
    ``hidden_states`` (a tuple, with ``output_hidden_states``)."""
    _fields = ("last_hidden_state", "extract_features", "hidden_states")


class CausalLMOutput(ModelOutput):
    """``logits`` [batch, frames, vocab], ``loss`` (with labels), ``hidden_states``."""
    _fields = ("loss", "logits", "hidden_states")


def _act(name):
    acts = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu, "swish": F.silu, "tanh": lambda x: x.tanh(),
            "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "gelu_pytorch_tanh":
            lambda x: F.gelu(x, approximate="tanh")}
    if name not in acts:
        raise NotImplementedError(f"Wav2Vec2: activation {name!r} is not supported by zoo (supported: "
                                  f"{', '.join(acts)})")
    return acts[name]


class Wav2Vec2ConvLayer(nn.Module):
    """One feature-encoder layer: conv -> (group norm | layer norm over channels | nothing) -> activation."""

    def __init__(self, config, layer_id, norm):
        super().__init__()
        cin = config.conv_dim[layer_id - 1] if layer_id > 0 else 1
        cout = config.conv_dim[layer_id]
        self.conv = nn.Conv1d(cin, cout, kernel_size=config.conv_kernel[layer_id],
                              stride=config.conv_stride[layer_id], bias=config.conv_bias)
        self.norm = norm
        if norm == "group":
            self.layer_norm = nn.GroupNorm(num_groups=cout, num_channels=cout, affine=True)
        elif norm == "layer":
            self.layer_norm = nn.LayerNorm(cout, elementwise_affine=True)
        self.activation = _act(config.feat_extract_activation)

    def forward(self, x):
        x = self.conv(x)
        if self.norm == "group":
            x = self.layer_norm(x)
        elif self.norm == "layer":
            x = self.layer_norm(x.transpose(-2, -1)).transpose(-2, -1)
        return self.activation(x)


class Wav2Vec2FeatureEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        n = config.num_feat_extract_layers
        if config.feat_extract_norm == "group":
            norms = ["group"] + [None] * (n - 1)
        else:
            norms = ["layer"] * n
        self.conv_layers = nn.ModuleList([Wav2Vec2ConvLayer(config, i, norms[i]) for i in range(n)])

    def forward(self, input_values):
        h = input_values.unsqueeze(1)
        for layer in self.conv_layers:
            h = layer(h)
        return h


class Wav2Vec2FeatureProjection(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer_norm = nn.LayerNorm(config.conv_dim[-1], eps=config.layer_norm_eps)
        self.projection = nn.Linear(config.conv_dim[-1], config.hidden_size)
        self.dropout = nn.Dropout(config.feat_proj_dropout)

    def forward(self, h):
        normed = self.layer_norm(h)
        return self.dropout(self.projection(normed)), normed


class WeightNormConv1d(nn.Module):
    """Conv1d whose weight is ``weight_g * weight_v / ||weight_v||`` with the norm taken over every dim but
    ``dim`` (``torch.nn.utils.weight_norm``); parameters ``weight_g``, ``weight_v`` and ``bias``."""

    def __init__(self, in_channels, out_channels, kernel_size, padding, groups, dim=2):
        super().__init__()
        self.padding, self.groups, self.dim = padding, groups, dim
        shape = (out_channels, in_channels // groups, kernel_size)
        bound = 1.0 / math.sqrt(shape[1] * kernel_size)
        from ...core import empty
        self.weight_v = nn.Parameter(empty(*shape).uniform_(-bound, bound))
        g_shape = [1, 1, 1]
        g_shape[dim] = shape[dim]
        norm = self.weight_v.detach().pow(2).sum(dim=[d for d in range(3) if d != dim], keepdim=True).sqrt()
        self.weight_g = nn.Parameter(norm.clone())
        self.bias = nn.Parameter(empty(out_channels).uniform_(-bound, bound))

    @property
    def weight(self):
        v = self.weight_v
        norm = v.pow(2).sum(dim=[d for d in range(3) if d != self.dim], keepdim=True).sqrt()
        return v * (self.weight_g / norm)

    def forward(self, x):
        return F.conv1d(x, self.weight, self.bias, padding=self.padding, groups=self.groups)


class Wav2Vec2PositionalConvEmbedding(nn.Module):
    def __init__(self, config):
        super().__init__()
        k = config.num_conv_pos_embeddings
        self.conv = WeightNormConv1d(config.hidden_size, config.hidden_size, k, padding=k // 2,
                                     groups=config.num_conv_pos_embedding_groups, dim=2)
        self.num_pad_remove = 1 if k % 2 == 0 else 0
        self.activation = _act(config.feat_extract_activation)

    def forward(self, h):
        x = self.conv(h.transpose(1, 2))
        if self.num_pad_remove:
            x = x[:, :, :-self.num_pad_remove]
        return self.activation(x).transpose(1, 2)


class Wav2Vec2Attention(nn.Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0):
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.scaling = self.head_dim ** -0.5
        self.dropout = dropout
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, h, attention_mask=None):
        B, T, _ = h.shape
        shape = (B, T, self.num_heads, self.head_dim)
        q = self.q_proj(h).reshape(shape).transpose(1, 2)
        k = self.k_proj(h).reshape(shape).transpose(1, 2)
        v = self.v_proj(h).reshape(shape).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask,
                                             dropout_p=self.dropout if self.training else 0.0, scale=self.scaling)
        return self.out_proj(out.transpose(1, 2).reshape(B, T, self.embed_dim))


class Wav2Vec2FeedForward(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.intermediate_dropout = nn.Dropout(config.activation_dropout)
        self.intermediate_dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _act(config.hidden_act)
        self.output_dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output_dropout = nn.Dropout(config.hidden_dropout)

    def forward(self, h):
        h = self.intermediate_dropout(self.intermediate_act_fn(self.intermediate_dense(h)))
        return self.output_dropout(self.output_dense(h))


class Wav2Vec2EncoderLayer(nn.Module):
    """Post-norm (``stable=False``) or pre-norm (``stable=True``) transformer layer."""

    def __init__(self, config, stable):
        super().__init__()
        self.stable = stable
        self.attention = Wav2Vec2Attention(config.hidden_size, config.num_attention_heads, config.attention_dropout)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = Wav2Vec2FeedForward(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, h, attention_mask=None):
        if self.stable:
            h = h + self.dropout(self.attention(self.layer_norm(h), attention_mask))
            return h + self.feed_forward(self.final_layer_norm(h))
        h = self.layer_norm(h + self.dropout(self.attention(h, attention_mask)))
        return self.final_layer_norm(h + self.feed_forward(h))


class Wav2Vec2Encoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.stable = bool(config.do_stable_layer_norm)
        self.layerdrop = config.layerdrop
        self.pos_conv_embed = Wav2Vec2PositionalConvEmbedding(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.layers = nn.ModuleList([Wav2Vec2EncoderLayer(config, self.stable)
                                     for _ in range(config.num_hidden_layers)])

    def forward(self, h, attention_mask=None, output_hidden_states=False):
        additive = None
        if attention_mask is not None:
            keep = attention_mask.to(h.dtype)
            h = h * keep.unsqueeze(-1)  # padded frames are zero, as in Transformers
            additive = ((1.0 - keep) * float(np.finfo(np.dtype(h.dtype.name)).min)).reshape(
                h.shape[0], 1, 1, h.shape[1])
        h = h + self.pos_conv_embed(h)
        if not self.stable:
            h = self.layer_norm(h)
        h = self.dropout(h)
        states = [h] if output_hidden_states else None
        for layer in self.layers:
            if self.training and self.layerdrop > 0 and float(np.random.random()) < self.layerdrop:
                if states is not None:
                    states.append(h)
                continue
            h = layer(h, additive)
            if states is not None:
                states.append(h)
        if self.stable:
            h = self.layer_norm(h)
            if states is not None:
                states[-1] = h
        return h, states


def _conv_out_length(length, kernel, stride):
    return (length - kernel) // stride + 1


def _span_mask(rng, batch, length, prob, span, min_masks, valid_lengths):
    """SpecAugment spans as Transformers' ``_compute_mask_indices``: per example ``prob * length / span`` spans
    (rounded with a random offset, at least ``min_masks``) of ``span`` steps each, at random starts."""
    mask = np.zeros((batch, length), dtype=bool)
    if span < 1 or prob <= 0:
        return mask
    for b in range(batch):
        n = int(valid_lengths[b])
        if n < span:
            continue
        count = int(prob * n / span + rng.random())
        count = max(count, min_masks)
        count = min(count, n // span)
        if count <= 0:
            continue
        starts = rng.choice(n - span + 1, size=count, replace=False)
        for s in starts:
            mask[b, s:s + span] = True
    return mask


class Wav2Vec2PreTrainedModel(PreTrainedModel):
    config_class = Wav2Vec2Config
    base_model_prefix = "wav2vec2"
    main_input_name = "input_values"

    def _get_feat_extract_output_lengths(self, input_lengths):
        """Frames the feature encoder makes from ``input_lengths`` samples (an int or an int array/tensor)."""
        lengths = input_lengths
        for k, s in zip(self.config.conv_kernel, self.config.conv_stride):
            lengths = _conv_out_length(lengths, k, s)
        return lengths

    def _check_supported(self, config):
        if getattr(config, "add_adapter", False):
            raise NotImplementedError("Wav2Vec2: add_adapter=True (the output adapter) is not supported by zoo")
        if getattr(config, "adapter_attn_dim", None) is not None:
            raise NotImplementedError("Wav2Vec2: attention adapters (adapter_attn_dim) are not supported by zoo")

    def _convert_state_dict(self, state_dict):
        renamed = {}
        for key, value in state_dict.items():
            key = key.replace("pos_conv_embed.conv.parametrizations.weight.original0", "pos_conv_embed.conv.weight_g")
            key = key.replace("pos_conv_embed.conv.parametrizations.weight.original1", "pos_conv_embed.conv.weight_v")
            renamed[key] = value
        return super()._convert_state_dict(renamed)


class Wav2Vec2Model(Wav2Vec2PreTrainedModel):
    """The bare encoder: ``forward(input_values [batch, samples], attention_mask=None)`` ->
    :class:`Wav2Vec2BaseModelOutput`. Loads from head checkpoints too (a CTC head or the pre-training quantizer
    and projections are skipped, as Transformers does)."""

    _keys_to_ignore_on_load_unexpected = [r"^lm_head\.", r"^quantizer\.", r"^project_q\.", r"^project_hid\."]

    def __init__(self, config):
        super().__init__(config)
        self._check_supported(config)
        self.feature_extractor = Wav2Vec2FeatureExtractorNet(config)
        self.feature_projection = Wav2Vec2FeatureProjection(config)
        if config.mask_time_prob > 0.0 or config.mask_feature_prob > 0.0:
            from ...core import empty
            self.masked_spec_embed = nn.Parameter(empty(config.hidden_size).uniform_())
        self.encoder = Wav2Vec2Encoder(config)

    def freeze_feature_encoder(self):
        for p in self.feature_extractor.parameters():
            p.requires_grad_(False)

    def feature_vector_attention_mask(self, frames, attention_mask):
        """The frame-level mask (bool [batch, frames]) of a sample-level ``attention_mask``."""
        from ...core import tensor as make
        lengths = attention_mask.detach().cpu().numpy().astype(np.int64).sum(-1)
        out = self._get_feat_extract_output_lengths(lengths)
        mask = np.arange(frames)[None, :] < out[:, None]
        return make(mask, device=attention_mask.device)

    def _mask_hidden_states(self, h, frame_mask):
        c = self.config
        if not (self.training and getattr(c, "apply_spec_augment", True)):
            return h
        B, T, H = h.shape
        rng = np.random.default_rng(int(np.random.randint(0, 2 ** 31)))
        lengths = (frame_mask.detach().cpu().numpy().sum(-1) if frame_mask is not None else np.full(B, T))
        from ...core import tensor as make
        if c.mask_time_prob > 0:
            m = _span_mask(rng, B, T, c.mask_time_prob, c.mask_time_length, c.mask_time_min_masks, lengths)
            if m.any():
                tm = make(m, device=h.device).unsqueeze(-1)
                h = h.where(~tm, self.masked_spec_embed.to(h.dtype).reshape(1, 1, H).expand(B, T, H))
        if c.mask_feature_prob > 0:
            m = _span_mask(rng, B, H, c.mask_feature_prob, c.mask_feature_length, c.mask_feature_min_masks,
                           np.full(B, H))
            if m.any():
                h = h.masked_fill(make(m, device=h.device).unsqueeze(1), 0.0)
        return h

    def forward(self, input_values, attention_mask=None, output_hidden_states=False):
        if not isinstance(input_values, Tensor) or input_values.ndim != 2:
            raise ValueError("Wav2Vec2Model expects input_values as a [batch, samples] tensor, got "
                             f"{getattr(input_values, 'shape', type(input_values).__name__)}")
        min_len = self.config.conv_kernel[0]
        if input_values.shape[1] < min_len or self._get_feat_extract_output_lengths(input_values.shape[1]) < 1:
            raise ValueError(f"Wav2Vec2Model: the input ({input_values.shape[1]} samples) is too short to make one "
                             f"frame")
        feats = self.feature_extractor(input_values).transpose(1, 2)  # [B, T, C]
        frame_mask = None
        if attention_mask is not None:
            frame_mask = self.feature_vector_attention_mask(feats.shape[1], attention_mask)
        h, normed = self.feature_projection(feats)
        h = self._mask_hidden_states(h, frame_mask)
        h, states = self.encoder(h, frame_mask, output_hidden_states)
        return Wav2Vec2BaseModelOutput(last_hidden_state=h, extract_features=normed,
                                       hidden_states=tuple(states) if states is not None else None)


# the conv stack is Transformers' "Wav2Vec2FeatureEncoder" held under the attribute "feature_extractor"
Wav2Vec2FeatureExtractorNet = Wav2Vec2FeatureEncoder


class Wav2Vec2ForCTC(Wav2Vec2PreTrainedModel):
    """Wav2Vec2Model + dropout + ``lm_head`` (Linear hidden -> vocab): per-frame CTC logits. With ``labels``
    ([batch, target_len], -100 = padding) also the CTC loss (blank = ``pad_token_id``, reduction
    ``ctc_loss_reduction``), as Transformers computes it."""

    def __init__(self, config):
        super().__init__(config)
        if config.vocab_size is None:
            raise ValueError("Wav2Vec2ForCTC needs config.vocab_size (the size of the CTC vocabulary)")
        self.wav2vec2 = Wav2Vec2Model(config)
        self.dropout = nn.Dropout(config.final_dropout)
        self.lm_head = nn.Linear(config.output_hidden_size, config.vocab_size)

    def freeze_feature_encoder(self):
        self.wav2vec2.freeze_feature_encoder()

    def forward(self, input_values, attention_mask=None, labels=None, output_hidden_states=False):
        out = self.wav2vec2(input_values, attention_mask=attention_mask, output_hidden_states=output_hidden_states)
        logits = self.lm_head(self.dropout(out.last_hidden_state))
        result = CausalLMOutput(logits=logits, hidden_states=out.hidden_states)
        if labels is not None:
            result["loss"] = self._ctc_loss(logits, labels, attention_mask, input_values)
        return result

    def _ctc_loss(self, logits, labels, attention_mask, input_values):
        raise NotImplementedError("Wav2Vec2ForCTC: training with labels needs the CTC loss, which zoo does not "
                                  "support yet (zoo.nn.CTCLoss); call the model without labels for logits")
