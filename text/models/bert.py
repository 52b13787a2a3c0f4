"""BERT (Devlin et al., 2018) with Hugging Face Transformers' class, parameter and config names, so hub checkpoints
load as they are and zoo's ``save_pretrained`` output loads in ``transformers``.

Classes: :class:`BertConfig`, :class:`BertModel` (embeddings with token types, encoder, pooler),
:class:`BertForMaskedLM` (``cls.predictions.*``, the decoder tied to the word embeddings),
:class:`BertForSequenceClassification` and :class:`BertForTokenClassification`; the output classes
(:class:`ModelOutput` and its subclasses) that all zoo.text encoders return.

Attention masks are handled as Transformers does: a ``(batch, keys)`` or ``(batch, queries, keys)`` mask of 1
(attend) / 0 (ignore) becomes the additive mask ``(1 - mask) * finfo(dtype).min`` over ``(batch, heads, queries,
keys)``. Attention runs through ``F.scaled_dot_product_attention``; with ``output_attentions=True`` the
probabilities are computed explicitly so they can be returned.
"""
import math
import threading

import numpy as np

from ...core import nn
from ...core.creation import empty, zeros
from ...core.nn import functional as F
from ...core.tensor import Tensor
from ...weights.outputs import ModelOutput
from ...weights.pretrained import PretrainedConfig, PreTrainedModel

__all__ = ["ModelOutput", "BaseModelOutput", "BaseModelOutputWithPooling", "MaskedLMOutput",
           "SequenceClassifierOutput", "TokenClassifierOutput", "BertConfig", "BertPreTrainedModel", "BertModel",
           "BertForMaskedLM", "BertForSequenceClassification", "BertForTokenClassification", "get_activation",
           "extended_attention_mask", "classification_loss"]


# ---- outputs ---------------------------------------------------------------------------------------------------
class BaseModelOutput(ModelOutput):
    _fields = ("last_hidden_state", "hidden_states", "attentions")


class BaseModelOutputWithPooling(ModelOutput):
    _fields = ("last_hidden_state", "pooler_output", "hidden_states", "attentions")


class MaskedLMOutput(ModelOutput):
    _fields = ("loss", "logits", "hidden_states", "attentions")


class SequenceClassifierOutput(ModelOutput):
    _fields = ("loss", "logits", "hidden_states", "attentions")


class TokenClassifierOutput(ModelOutput):
    _fields = ("loss", "logits", "hidden_states", "attentions")


# ---- shared pieces ---------------------------------------------------------------------------------------------
class _GELUTanh(nn.Module):
    def forward(self, x):
        return F.gelu(x, approximate="tanh")


class _QuickGELU(nn.Module):
    def forward(self, x):
        return x * F.sigmoid(1.702 * x)


_ACTIVATIONS = {"gelu": lambda: nn.GELU(), "gelu_new": _GELUTanh, "gelu_pytorch_tanh": _GELUTanh,
                "gelu_fast": _GELUTanh, "quick_gelu": _QuickGELU, "relu": lambda: nn.ReLU(),
                "silu": lambda: nn.SiLU(), "swish": lambda: nn.SiLU(), "tanh": lambda: nn.Tanh()}


def get_activation(name):
    """The activation module for a config's ``hidden_act`` / ``activation`` (``"gelu"`` is the exact, erf form)."""
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise NotImplementedError(f"activation {name!r} is not supported; supported: {', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[name]()


def extended_attention_mask(attention_mask, dtype, batch, length, what="attention_mask"):
    """Transformers' additive mask ``(1 - mask) * finfo(dtype).min`` of shape (batch, 1, 1 or queries, keys) from a
    (batch, keys) or (batch, queries, keys) mask of 1 / 0; None when every position is attended (nothing to add)."""
    if not isinstance(attention_mask, Tensor):
        raise TypeError(f"{what} must be a zoo tensor, got {type(attention_mask).__name__}")
    if attention_mask.ndim == 2:
        if tuple(attention_mask.shape) != (batch, length):
            raise ValueError(f"{what} of shape {tuple(attention_mask.shape)} does not match the input's "
                             f"(batch, length) = {(batch, length)}")
        mask = attention_mask[:, None, None, :]
    elif attention_mask.ndim == 3:
        if attention_mask.shape[0] != batch or attention_mask.shape[-1] != length:
            raise ValueError(f"{what} of shape {tuple(attention_mask.shape)} does not match the input's "
                             f"(batch, length) = {(batch, length)}")
        mask = attention_mask[:, None, :, :]
    else:
        raise ValueError(f"{what} must have 2 (batch, keys) or 3 (batch, queries, keys) dimensions, got shape "
                         f"{tuple(attention_mask.shape)}")
    if bool((mask != 0).all()):
        return None
    mask = mask.to(dtype)
    return (1.0 - mask) * float(np.finfo(dtype.name).min)


def classification_loss(config, logits, labels):
    """Transformers' sequence-classification loss, by ``config.problem_type`` (set from the labels when unset):
    regression (MSE), single-label (cross entropy) or multi-label classification (BCE with logits)."""
    num_labels = logits.shape[-1]
    problem = getattr(config, "problem_type", None)
    if problem is None:
        if num_labels == 1:
            problem = "regression"
        elif not labels.is_floating_point():
            problem = "single_label_classification"
        else:
            problem = "multi_label_classification"
    if problem == "regression":
        if num_labels == 1:
            return F.mse_loss(logits.reshape(-1), labels.reshape(-1).to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    if problem == "single_label_classification":
        if labels.is_floating_point():
            raise TypeError("single-label classification needs integer class labels, got floating point labels")
        return F.cross_entropy(logits.reshape(-1, num_labels), labels.reshape(-1))
    if problem == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    raise ValueError(f"unknown problem_type {problem!r}: expected 'regression', 'single_label_classification' or "
                     "'multi_label_classification'")


def _check_ids(input_ids, vocab_size, what="input_ids"):
    if not isinstance(input_ids, Tensor):
        raise TypeError(f"{what} must be a zoo tensor of token ids, got {type(input_ids).__name__}")
    if input_ids.is_floating_point():
        raise TypeError(f"{what} must hold integer token ids, got {input_ids.dtype}")
    if input_ids.ndim != 2:
        raise ValueError(f"{what} must have shape (batch, length), got {tuple(input_ids.shape)}; add a batch "
                         "dimension with unsqueeze(0) for one sequence")
    if input_ids.numel():
        low, high = int(input_ids.min()), int(input_ids.max())
        if low < 0 or high >= vocab_size:
            raise IndexError(f"{what} holds token id {high if high >= vocab_size else low}, outside this model's "
                             f"vocabulary of {vocab_size} tokens (was the input made by another model's tokenizer?)")


def _check_length(length, max_positions):
    if length > max_positions:
        raise ValueError(f"the input has {length} tokens but the model accepts at most {max_positions} "
                         "(max_position_embeddings); truncate it, e.g. tokenizer(text, truncation=True)")


def _as_output(output, return_dict):
    return output if return_dict is None or return_dict else output.to_tuple()


_LOADING = threading.local()  # set while from_pretrained builds a model whose weights are about to be loaded


def _embedding(num, dim, padding_idx=None):
    """An nn.Embedding left uninitialized: ``post_init`` initializes it (or the checkpoint fills it)."""
    return nn.Embedding(num, dim, padding_idx=padding_idx, _weight=empty(num, dim))


class _EncoderPreTrainedModel(PreTrainedModel):
    """Weight initialization as Transformers does it for BERT-like models: normal(0, initializer_range) weights,
    zero biases, the padding embedding zeroed, LayerNorm to identity. ``from_pretrained`` skips it for the weights
    the checkpoint provides (they would be overwritten) and runs it for the modules whose weights are missing."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, output_loading_info=False, **kwargs):
        depth = getattr(_LOADING, "depth", 0)
        _LOADING.depth = depth + 1
        try:
            model, info = super().from_pretrained(pretrained_model_name_or_path, *model_args,
                                                  output_loading_info=True, **kwargs)
        finally:
            _LOADING.depth = depth
        fresh = set(info["missing_keys"]) | {k for k, _, _ in info["mismatched_keys"]}
        if fresh:
            for name, module in model.named_modules():
                own = {f"{name}.{p}" if name else p for p, _ in module.named_parameters(recurse=False)}
                if own & fresh:
                    model._init_weights(module)
            model.tie_weights()
        return (model, info) if output_loading_info else model

    def _init_weights(self, module):
        std = getattr(self.config, "initializer_range", 0.02)
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            if not getattr(module, "_fixed", False):
                nn.init.normal_(module.weight, 0.0, std)
                if module.padding_idx is not None:
                    module.weight.data[module.padding_idx] = 0.0
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def post_init(self):
        """Initialize every weight (called at the end of ``__init__``); tied weights are tied again after."""
        if getattr(_LOADING, "depth", 0):
            self.tie_weights()
            return
        base = getattr(self, self.base_model_prefix, None) if self.base_model_prefix else None
        done = set()
        if isinstance(base, _EncoderPreTrainedModel) and base is not self:
            done = {id(m) for m in base.modules()}  # the bare model initialized itself when it was built
        for module in self.modules():
            if id(module) not in done:
                self._init_weights(module)
        self.tie_weights()

    def tie_weights(self):
        """Tie the output embeddings to the input ones (masked-LM heads) when ``tie_word_embeddings`` is on."""

    def get_input_embeddings(self):
        base = getattr(self, self.base_model_prefix, self)
        return base.embeddings.word_embeddings

    # output embeddings of masked-LM heads, for Transformers-style code
    def get_output_embeddings(self):
        return None


def _dropout(p):
    return nn.Dropout(float(p or 0.0))


# ---- configuration ---------------------------------------------------------------------------------------------
class BertConfig(PretrainedConfig):
    """BERT's hyper-parameters, with Transformers' names and defaults (bert-base-uncased)."""

    model_type = "bert"

    def __init__(self, vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                 max_position_embeddings=512, type_vocab_size=2, initializer_range=0.02, layer_norm_eps=1e-12,
                 pad_token_id=0, position_embedding_type="absolute", classifier_dropout=None,
                 tie_word_embeddings=True, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.pad_token_id = pad_token_id
        self.position_embedding_type = position_embedding_type
        self.classifier_dropout = classifier_dropout
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(**kwargs)


# ---- modules ---------------------------------------------------------------------------------------------------
class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = _embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = _embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = _embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = _dropout(config.hidden_dropout_prob)
        self.max_positions = config.max_position_embeddings
        self.type_vocab_size = config.type_vocab_size

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None):
        embeds = self.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = embeds.shape[0], embeds.shape[1]
        _check_length(length, self.max_positions)
        if position_ids is None:
            pos = self.position_embeddings.weight[:length][None]  # (1, L, H): rows 0..L-1, broadcast over the batch
        else:
            pos = self.position_embeddings(position_ids)
        if token_type_ids is None:
            types = self.token_type_embeddings.weight[0]  # all zeros: type 0 everywhere
        else:
            if tuple(token_type_ids.shape) != (batch, length):
                raise ValueError(f"token_type_ids of shape {tuple(token_type_ids.shape)} does not match the input's "
                                 f"(batch, length) = {(batch, length)}")
            if token_type_ids.numel() and int(token_type_ids.max()) >= self.type_vocab_size:
                raise IndexError(f"token_type_ids holds {int(token_type_ids.max())}, but the model has "
                                 f"{self.type_vocab_size} token types")
            types = self.token_type_embeddings(token_type_ids)
        x = embeds + types + pos
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"hidden_size {config.hidden_size} is not a multiple of num_attention_heads "
                             f"{config.num_attention_heads}")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = config.hidden_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = _dropout(config.attention_probs_dropout_prob)

    def _heads(self, x, batch, length):
        return x.view(batch, length, self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        batch, length = hidden_states.shape[0], hidden_states.shape[1]
        q = self._heads(self.query(hidden_states), batch, length)
        k = self._heads(self.key(hidden_states), batch, length)
        v = self._heads(self.value(hidden_states), batch, length)
        probs = None
        if output_attentions:
            scores = q.matmul(k.transpose(-1, -2)) * (1.0 / math.sqrt(self.attention_head_size))
            if attention_mask is not None:
                scores = scores + attention_mask
            probs = F.softmax(scores, dim=-1)
            context = self.dropout(probs).matmul(v)
        else:
            p = self.dropout.p if self.training else 0.0
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask, dropout_p=p)
        context = context.transpose(1, 2).reshape(batch, length, self.all_head_size)
        return context, probs


class BertSelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = _dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        context, probs = self.self(hidden_states, attention_mask, output_attentions)
        return self.output(context, hidden_states), probs


class BertIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act)

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = _dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        attended, probs = self.attention(hidden_states, attention_mask, output_attentions)
        return self.output(self.intermediate(attended), attended), probs


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask=None, output_attentions=False, output_hidden_states=False):
        all_hidden = (hidden_states,) if output_hidden_states else None
        all_attn = () if output_attentions else None
        for layer in self.layer:
            hidden_states, probs = layer(hidden_states, attention_mask, output_attentions)
            if output_hidden_states:
                all_hidden += (hidden_states,)
            if output_attentions:
                all_attn += (probs,)
        return BaseModelOutput(last_hidden_state=hidden_states, hidden_states=all_hidden, attentions=all_attn)


class BertPooler(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = get_activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states):
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.bias = nn.Parameter(zeros(config.vocab_size))
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.bias = self.bias

    def forward(self, hidden_states):
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, sequence_output):
        return self.predictions(sequence_output)


# ---- models ----------------------------------------------------------------------------------------------------
class BertPreTrainedModel(_EncoderPreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"
    # buffers of older checkpoints, and the pre-training heads of BERT's original checkpoints
    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^cls\.seq_relationship\."]

    def _check_config(self):
        c = self.config
        if getattr(c, "position_embedding_type", "absolute") not in (None, "absolute"):
            raise NotImplementedError(f"BERT with position_embedding_type={c.position_embedding_type!r} is not "
                                      "supported (only 'absolute')")
        if getattr(c, "is_decoder", False) or getattr(c, "add_cross_attention", False):
            raise NotImplementedError("BERT as a decoder (is_decoder / add_cross_attention) is not supported")


class BertModel(BertPreTrainedModel):
    """The bare BERT encoder: ``model(input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
    inputs_embeds=None, output_attentions=False, output_hidden_states=False, return_dict=True)`` returns
    ``last_hidden_state`` (batch, length, hidden) and ``pooler_output`` (batch, hidden; tanh(dense(first token)),
    None without the pooler), plus ``hidden_states`` (embeddings and each layer) and ``attentions`` when asked."""

    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^cls\."]

    def __init__(self, config, add_pooling_layer=True):
        super().__init__(config)
        self._check_config()
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, output_attentions=False, output_hidden_states=False, return_dict=None):
        if head_mask is not None:
            raise NotImplementedError("head_mask is not supported by zoo's BERT")
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("BertModel: pass exactly one of input_ids and inputs_embeds")
        if input_ids is not None:
            _check_ids(input_ids, self.config.vocab_size)
            batch, length = input_ids.shape
        else:
            batch, length = inputs_embeds.shape[0], inputs_embeds.shape[1]
        hidden = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)
        mask = None if attention_mask is None else extended_attention_mask(attention_mask, hidden.dtype, batch, length)
        enc = self.encoder(hidden, mask, output_attentions, output_hidden_states)
        pooled = self.pooler(enc.last_hidden_state) if self.pooler is not None else None
        out = BaseModelOutputWithPooling(last_hidden_state=enc.last_hidden_state, pooler_output=pooled,
                                         hidden_states=enc.hidden_states, attentions=enc.attentions)
        return _as_output(out, return_dict)


class BertForMaskedLM(BertPreTrainedModel):
    """BERT with its masked-language-model head: ``logits`` (batch, length, vocab); ``loss`` (cross entropy over
    the positions whose ``labels`` are not -100) when ``labels`` are given. The decoder's weight is the word
    embedding matrix (``tie_word_embeddings``, on by default) and its bias is ``cls.predictions.bias``."""

    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^cls\.seq_relationship\.", r"^bert\.pooler\."]
    _keys_to_ignore_on_load_missing = [r"^cls\.predictions\.decoder\.weight$"]

    def __init__(self, config):
        super().__init__(config)
        self._check_config()
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def tie_weights(self):
        if getattr(self.config, "tie_word_embeddings", True):
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight
        self.cls.predictions.decoder.bias = self.cls.predictions.bias

    def get_output_embeddings(self):
        return self.cls.predictions.decoder

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False,
                return_dict=None):
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                        output_attentions, output_hidden_states)
        logits = self.cls(out.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return _as_output(MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                         attentions=out.attentions), return_dict)


class BertForSequenceClassification(BertPreTrainedModel):
    """BERT with a linear classifier on the pooled output: ``logits`` (batch, num_labels); ``loss`` by
    ``config.problem_type`` (regression, single- or multi-label classification) when ``labels`` are given."""

    def __init__(self, config):
        super().__init__(config)
        self._check_config()
        self.num_labels = config.num_labels if config.num_labels is not None else 2
        if config.num_labels is None:
            config.num_labels = self.num_labels
        self.bert = BertModel(config)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = _dropout(p)
        self.classifier = nn.Linear(config.hidden_size, self.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False,
                return_dict=None):
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                        output_attentions, output_hidden_states)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = None if labels is None else classification_loss(self.config, logits, labels)
        return _as_output(SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                                   attentions=out.attentions), return_dict)


class BertForTokenClassification(BertPreTrainedModel):
    """BERT with a linear classifier on every token: ``logits`` (batch, length, num_labels); ``loss`` (cross
    entropy, labels of -100 ignored) when ``labels`` are given."""

    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^bert\.pooler\."]

    def __init__(self, config):
        super().__init__(config)
        self._check_config()
        self.num_labels = config.num_labels if config.num_labels is not None else 2
        if config.num_labels is None:
            config.num_labels = self.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = _dropout(p)
        self.classifier = nn.Linear(config.hidden_size, self.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False,
                return_dict=None):
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                        output_attentions, output_hidden_states)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1), ignore_index=-100)
        return _as_output(TokenClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                                attentions=out.attentions), return_dict)
