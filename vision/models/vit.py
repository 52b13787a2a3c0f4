"""Vision Transformer (Dosovitskiy et al., 2020) as Hugging Face Transformers' ``ViTModel`` and
``ViTForImageClassification``, with its parameter names, so ``google/vit-base-patch16-224`` style directories
load (and zoo's ``save_pretrained`` output loads in Transformers).

Names: ``vit.embeddings.cls_token`` / ``position_embeddings`` / ``patch_embeddings.projection``,
``vit.encoder.layer.N.layernorm_before`` / ``attention.attention.query|key|value`` / ``attention.output.dense`` /
``layernorm_after`` / ``intermediate.dense`` / ``output.dense``, ``vit.layernorm``, ``vit.pooler.dense`` (bare
model only) and ``classifier``. Pre-norm blocks: ``h = h + attn(ln_before(h))``, ``h = h + mlp(ln_after(h))``.
"""
import math

from ...core import cat, nn
from ...core.nn import functional as F
from ...weights.pretrained import PretrainedConfig, PreTrainedModel
from ._outputs import BaseModelOutputWithPooling, ImageClassifierOutput

__all__ = ["ViTConfig", "ViTModel", "ViTForImageClassification", "ViTPreTrainedModel"]

_ACT = {"gelu": lambda: nn.GELU(), "gelu_new": lambda: nn.GELU(approximate="tanh"),
        "gelu_pytorch_tanh": lambda: nn.GELU(approximate="tanh"), "relu": lambda: nn.ReLU(),
        "silu": lambda: nn.SiLU(), "swish": lambda: nn.SiLU(), "tanh": lambda: nn.Tanh(),
        "sigmoid": lambda: nn.Sigmoid()}


def activation(name):
    """The activation module Transformers' ``ACT2FN[name]`` names (the supported subset)."""
    try:
        return _ACT[name]()
    except KeyError:
        raise NotImplementedError(f"activation {name!r} is not supported; supported: {', '.join(sorted(_ACT))}") \
            from None


class ViTConfig(PretrainedConfig):
    """Hugging Face's ``ViTConfig`` (same fields and defaults: ViT-Base/16 at 224)."""
    model_type = "vit"

    def __init__(self, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                 hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                 initializer_range=0.02, layer_norm_eps=1e-12, image_size=224, patch_size=16, num_channels=3,
                 qkv_bias=True, encoder_stride=16, pooler_output_size=None, pooler_act="tanh", **kwargs):
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.qkv_bias = qkv_bias
        self.encoder_stride = encoder_stride
        self.pooler_output_size = pooler_output_size if pooler_output_size else hidden_size
        self.pooler_act = pooler_act
        super().__init__(**kwargs)


def _pair(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x, x)


class ViTPatchEmbeddings(nn.Module):
    """Non-overlapping patches projected by a strided convolution, flattened to a sequence."""

    def __init__(self, config):
        super().__init__()
        self.image_size, self.patch_size = _pair(config.image_size), _pair(config.patch_size)
        self.num_channels = config.num_channels
        self.num_patches = (self.image_size[0] // self.patch_size[0]) * (self.image_size[1] // self.patch_size[1])
        self.projection = nn.Conv2d(config.num_channels, config.hidden_size, kernel_size=self.patch_size,
                                    stride=self.patch_size)

    def forward(self, pixel_values, interpolate_pos_encoding=False):
        if pixel_values.ndim != 4 or pixel_values.shape[1] != self.num_channels:
            raise ValueError(f"ViT expects pixel_values of shape (batch, {self.num_channels}, height, width), got "
                             f"{tuple(pixel_values.shape)}")
        if not interpolate_pos_encoding and tuple(pixel_values.shape[-2:]) != self.image_size:
            raise ValueError(f"Input image size ({pixel_values.shape[-2]}*{pixel_values.shape[-1]}) doesn't match "
                             f"model ({self.image_size[0]}*{self.image_size[1]}); pass interpolate_pos_encoding=True "
                             "to run at another size")
        return self.projection(pixel_values).flatten(2).transpose(1, 2)


class ViTEmbeddings(nn.Module):
    """[CLS] token + patch embeddings + learned position embeddings."""

    def __init__(self, config):
        super().__init__()
        self.cls_token = nn.Parameter(_empty(1, 1, config.hidden_size))
        self.patch_embeddings = ViTPatchEmbeddings(config)
        num_patches = self.patch_embeddings.num_patches
        self.position_embeddings = nn.Parameter(_empty(1, num_patches + 1, config.hidden_size))
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.patch_size = self.patch_embeddings.patch_size

    def interpolate_pos_encoding(self, embeddings, height, width):
        """Position embeddings resized (bicubic) from the training grid to this image's patch grid."""
        num_patches = embeddings.shape[1] - 1
        num_positions = self.position_embeddings.shape[1] - 1
        new_h, new_w = height // self.patch_size[0], width // self.patch_size[1]
        if num_patches == num_positions and new_h == new_w:
            return self.position_embeddings
        class_pos = self.position_embeddings[:, :1]
        patch_pos = self.position_embeddings[:, 1:]
        dim = embeddings.shape[-1]
        side = int(math.sqrt(num_positions))
        patch_pos = patch_pos.reshape(1, side, side, dim).permute(0, 3, 1, 2)
        patch_pos = F.interpolate(patch_pos, size=(new_h, new_w), mode="bicubic", align_corners=False)
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return cat([class_pos, patch_pos], 1)

    def forward(self, pixel_values, interpolate_pos_encoding=False):
        batch, _, height, width = pixel_values.shape
        embeddings = self.patch_embeddings(pixel_values, interpolate_pos_encoding=interpolate_pos_encoding)
        cls = self.cls_token.expand(batch, -1, -1)
        embeddings = cat([cls.to(embeddings.dtype), embeddings], 1)
        if interpolate_pos_encoding:
            embeddings = embeddings + self.interpolate_pos_encoding(embeddings, height, width)
        else:
            embeddings = embeddings + self.position_embeddings
        return self.dropout(embeddings)


def _empty(*shape):
    from ...core import zeros
    return zeros(*shape)


class ViTSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"hidden_size {config.hidden_size} is not a multiple of num_attention_heads "
                             f"{config.num_attention_heads}")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size, bias=config.qkv_bias)
        self.key = nn.Linear(config.hidden_size, self.all_head_size, bias=config.qkv_bias)
        self.value = nn.Linear(config.hidden_size, self.all_head_size, bias=config.qkv_bias)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x):
        b, n, _ = x.shape
        return x.reshape(b, n, self.num_attention_heads, self.attention_head_size).permute(0, 2, 1, 3)

    def forward(self, hidden_states, output_attentions=False):
        b, n, _ = hidden_states.shape
        q = self._heads(self.query(hidden_states))
        k = self._heads(self.key(hidden_states))
        v = self._heads(self.value(hidden_states))
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.attention_head_size))
        probs = self.dropout(F.softmax(scores, dim=-1))
        context = (probs @ v).permute(0, 2, 1, 3).reshape(b, n, self.all_head_size)
        return context, (probs if output_attentions else None)


class ViTSelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor=None):
        return self.dropout(self.dense(hidden_states))  # the residual is added in ViTLayer


class ViTAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = ViTSelfAttention(config)
        self.output = ViTSelfOutput(config)

    def forward(self, hidden_states, output_attentions=False):
        context, probs = self.attention(hidden_states, output_attentions)
        return self.output(context, hidden_states), probs


class ViTIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = activation(config.hidden_act)

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class ViTOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.dropout(self.dense(hidden_states)) + input_tensor


class ViTLayer(nn.Module):
    """One pre-norm transformer block."""

    def __init__(self, config):
        super().__init__()
        self.attention = ViTAttention(config)
        self.intermediate = ViTIntermediate(config)
        self.output = ViTOutput(config)
        self.layernorm_before = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states, output_attentions=False):
        attn, probs = self.attention(self.layernorm_before(hidden_states), output_attentions)
        hidden_states = attn + hidden_states
        out = self.output(self.intermediate(self.layernorm_after(hidden_states)), hidden_states)
        return out, probs


class ViTEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([ViTLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, output_attentions=False, output_hidden_states=False):
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attn = [] if output_attentions else None
        for layer in self.layer:
            hidden_states, probs = layer(hidden_states, output_attentions)
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if output_attentions:
                all_attn.append(probs)
        return hidden_states, (tuple(all_hidden) if all_hidden is not None else None), \
            (tuple(all_attn) if all_attn is not None else None)


class ViTPooler(nn.Module):
    """dense + activation on the [CLS] token (``pooler_output``)."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.pooler_output_size)
        self.activation = activation(config.pooler_act)

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


class ViTPreTrainedModel(PreTrainedModel):
    """Weight initialization and loading shared by the ViT classes (``base_model_prefix = "vit"``)."""
    config_class = ViTConfig
    base_model_prefix = "vit"
    main_input_name = "pixel_values"

    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.trunc_normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, ViTEmbeddings):
            nn.init.trunc_normal_(module.position_embeddings, mean=0.0, std=std)
            nn.init.trunc_normal_(module.cls_token, mean=0.0, std=std)

    def post_init(self):
        self.apply(self._init_weights)


class ViTModel(ViTPreTrainedModel):
    """The bare ViT: ``last_hidden_state`` (batch, 1 + patches, hidden) after the final LayerNorm, and
    ``pooler_output`` (dense + tanh on [CLS]) when ``add_pooling_layer``."""

    def __init__(self, config, add_pooling_layer=True, use_mask_token=False, _init_weights=True):
        super().__init__(config)
        if use_mask_token:
            raise NotImplementedError("ViTModel(use_mask_token=True) (masked image modeling) is not supported")
        self.embeddings = ViTEmbeddings(config)
        self.encoder = ViTEncoder(config)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pooler = ViTPooler(config) if add_pooling_layer else None
        if _init_weights:  # a head model initializes everything once, itself
            self.post_init()

    def forward(self, pixel_values=None, bool_masked_pos=None, output_attentions=None, output_hidden_states=None,
                interpolate_pos_encoding=None, return_dict=None):
        if pixel_values is None:
            raise ValueError("You have to specify pixel_values")
        if bool_masked_pos is not None:
            raise NotImplementedError("ViTModel: bool_masked_pos (masked image modeling) is not supported")
        dtype = self.embeddings.patch_embeddings.projection.weight.dtype
        if pixel_values.dtype != dtype:
            pixel_values = pixel_values.to(dtype)
        x = self.embeddings(pixel_values, interpolate_pos_encoding=bool(interpolate_pos_encoding))
        x, hidden, attn = self.encoder(x, bool(output_attentions), bool(output_hidden_states))
        sequence_output = self.layernorm(x)
        pooled = self.pooler(sequence_output) if self.pooler is not None else None
        out = BaseModelOutputWithPooling(last_hidden_state=sequence_output, pooler_output=pooled,
                                         hidden_states=hidden, attentions=attn)
        return out if return_dict is not False else out.to_tuple()


class ViTForImageClassification(ViTPreTrainedModel):
    """ViT with a linear ``classifier`` on the final [CLS] token; ``labels`` give a loss as in Transformers
    (regression for one label, cross-entropy for integer labels, BCE-with-logits for multi-label)."""

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels or 0
        self.vit = ViTModel(config, add_pooling_layer=False, _init_weights=False)
        self.classifier = nn.Linear(config.hidden_size, self.num_labels) if self.num_labels > 0 else nn.Identity()
        self.post_init()

    def forward(self, pixel_values=None, labels=None, output_attentions=None, output_hidden_states=None,
                interpolate_pos_encoding=None, return_dict=None):
        out = self.vit(pixel_values, output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                       interpolate_pos_encoding=interpolate_pos_encoding)
        logits = self.classifier(out.last_hidden_state[:, 0, :])
        loss = classification_loss(self.config, logits, labels) if labels is not None else None
        result = ImageClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                       attentions=out.attentions)
        return result if return_dict is not False else result.to_tuple()


def classification_loss(config, logits, labels):
    """Transformers' loss choice for sequence/image classification heads (``config.problem_type``)."""
    num_labels = logits.shape[-1]
    problem = getattr(config, "problem_type", None)
    if problem is None:
        if num_labels == 1:
            problem = "regression"
        elif labels.dtype.is_floating_point:
            problem = "multi_label_classification"
        else:
            problem = "single_label_classification"
    if problem == "regression":
        return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype)) if num_labels == 1 else \
            F.mse_loss(logits, labels.to(logits.dtype))
    if problem == "single_label_classification":
        return F.cross_entropy(logits.reshape(-1, num_labels), labels.reshape(-1))
    if problem == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    raise ValueError(f"unknown problem_type {problem!r}")
