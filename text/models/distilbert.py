"""DistilBERT (Sanh et al., 2019) with Hugging Face Transformers' class, parameter and config names.

Classes: :class:`DistilBertConfig` (``dim``, ``n_layers``, ``n_heads``, ``hidden_dim`` ..., with the aliases
``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``), :class:`DistilBertModel`,
:class:`DistilBertForMaskedLM` (``vocab_transform``, ``vocab_layer_norm``, ``vocab_projector`` tied to the word
embeddings), :class:`DistilBertForSequenceClassification` (``pre_classifier`` + ReLU + ``classifier`` on the first
token) and :class:`DistilBertForTokenClassification`. No token types; LayerNorm epsilon is 1e-12 throughout.
"""
import numpy as np

from ...core import nn
from ...core.nn import functional as F
from ...weights.pretrained import PretrainedConfig
from .bert import (BaseModelOutput, MaskedLMOutput, SequenceClassifierOutput, TokenClassifierOutput, _as_output,
                   _check_ids, _check_length, _dropout, _embedding, _EncoderPreTrainedModel, classification_loss,
                   extended_attention_mask, get_activation)

__all__ = ["DistilBertConfig", "DistilBertPreTrainedModel", "DistilBertModel", "DistilBertForMaskedLM",
           "DistilBertForSequenceClassification", "DistilBertForTokenClassification"]

_EPS = 1e-12


class DistilBertConfig(PretrainedConfig):
    """DistilBERT's hyper-parameters, with Transformers' names and defaults (distilbert-base-uncased)."""

    model_type = "distilbert"
    attribute_map = {"hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"}

    def __init__(self, vocab_size=30522, max_position_embeddings=512, sinusoidal_pos_embds=False, n_layers=6,
                 n_heads=12, dim=768, hidden_dim=4 * 768, dropout=0.1, attention_dropout=0.1, activation="gelu",
                 initializer_range=0.02, qa_dropout=0.1, seq_classif_dropout=0.2, pad_token_id=0,
                 tie_word_embeddings=True, **kwargs):
        self.vocab_size = vocab_size
        self.max_position_embeddings = max_position_embeddings
        self.sinusoidal_pos_embds = sinusoidal_pos_embds
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self.initializer_range = initializer_range
        self.qa_dropout = qa_dropout
        self.seq_classif_dropout = seq_classif_dropout
        self.pad_token_id = pad_token_id
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(**kwargs)


def sinusoidal_embeddings(n_pos, dim):
    """The fixed sinusoidal position table of ``sinusoidal_pos_embds``: sin on even features, cos on odd ones."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim)
    angles = pos / np.power(10000.0, 2 * (j // 2) / dim)[None, :]
    out = np.empty((n_pos, dim), dtype=np.float32)
    out[:, 0::2] = np.sin(angles[:, 0::2])
    out[:, 1::2] = np.cos(angles[:, 1::2])
    return out


class Embeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = _embedding(config.vocab_size, config.dim, padding_idx=config.pad_token_id)
        self.position_embeddings = _embedding(config.max_position_embeddings, config.dim)
        if config.sinusoidal_pos_embds:
            from ...core import no_grad
            from ...core.creation import from_numpy
            with no_grad():
                self.position_embeddings.weight.copy_(from_numpy(sinusoidal_embeddings(config.max_position_embeddings,
                                                                                       config.dim)))
            self.position_embeddings.weight.requires_grad_(False)
            self.position_embeddings._fixed = True
        self.LayerNorm = nn.LayerNorm(config.dim, eps=_EPS)
        self.dropout = _dropout(config.dropout)
        self.max_positions = config.max_position_embeddings

    def forward(self, input_ids=None, inputs_embeds=None, position_ids=None):
        embeds = self.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        length = embeds.shape[1]
        _check_length(length, self.max_positions)
        pos = (self.position_embeddings.weight[:length][None] if position_ids is None
               else self.position_embeddings(position_ids))
        return self.dropout(self.LayerNorm(embeds + pos))


class DistilBertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        if config.dim % config.n_heads:
            raise ValueError(f"n_heads {config.n_heads} must divide dim {config.dim}")
        self.n_heads = config.n_heads
        self.dim = config.dim
        self.attention_head_size = config.dim // config.n_heads
        self.q_lin = nn.Linear(config.dim, config.dim)
        self.k_lin = nn.Linear(config.dim, config.dim)
        self.v_lin = nn.Linear(config.dim, config.dim)
        self.out_lin = nn.Linear(config.dim, config.dim)
        self.dropout = _dropout(config.attention_dropout)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        batch, length = hidden_states.shape[0], hidden_states.shape[1]

        def heads(x):
            return x.view(batch, length, self.n_heads, self.attention_head_size).transpose(1, 2)

        q, k, v = heads(self.q_lin(hidden_states)), heads(self.k_lin(hidden_states)), heads(self.v_lin(hidden_states))
        probs = None
        if output_attentions:
            scores = q.matmul(k.transpose(-1, -2)) * (self.attention_head_size ** -0.5)
            if attention_mask is not None:
                scores = scores + attention_mask
            probs = F.softmax(scores, dim=-1)
            context = self.dropout(probs).matmul(v)
        else:
            p = self.dropout.p if self.training else 0.0
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask, dropout_p=p)
        context = context.transpose(1, 2).reshape(batch, length, self.dim)
        return self.out_lin(context), probs


class FFN(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dropout = _dropout(config.dropout)
        self.lin1 = nn.Linear(config.dim, config.hidden_dim)
        self.lin2 = nn.Linear(config.hidden_dim, config.dim)
        self.activation = get_activation(config.activation)

    def forward(self, x):
        return self.dropout(self.lin2(self.activation(self.lin1(x))))


class TransformerBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = DistilBertSelfAttention(config)
        self.sa_layer_norm = nn.LayerNorm(config.dim, eps=_EPS)
        self.ffn = FFN(config)
        self.output_layer_norm = nn.LayerNorm(config.dim, eps=_EPS)

    def forward(self, hidden_states, attention_mask=None, output_attentions=False):
        attended, probs = self.attention(hidden_states, attention_mask, output_attentions)
        attended = self.sa_layer_norm(attended + hidden_states)
        return self.output_layer_norm(self.ffn(attended) + attended), probs


class Transformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_layers = config.n_layers
        self.layer = nn.ModuleList([TransformerBlock(config) for _ in range(config.n_layers)])

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


class DistilBertPreTrainedModel(_EncoderPreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"
    _keys_to_ignore_on_load_unexpected = [r"position_ids$"]


class DistilBertModel(DistilBertPreTrainedModel):
    """The bare DistilBERT encoder: ``model(input_ids, attention_mask=None, ...)`` returns ``last_hidden_state``
    (batch, length, dim), plus ``hidden_states`` / ``attentions`` when asked."""

    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^vocab_", r"^pre_classifier\.", r"^classifier\.",
                                          r"^qa_outputs\."]

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.transformer = Transformer(config)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None,
                output_attentions=False, output_hidden_states=False, return_dict=None, position_ids=None):
        if head_mask is not None:
            raise NotImplementedError("head_mask is not supported by zoo's DistilBERT")
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("DistilBertModel: pass exactly one of input_ids and inputs_embeds")
        if input_ids is not None:
            _check_ids(input_ids, self.config.vocab_size)
            batch, length = input_ids.shape
        else:
            batch, length = inputs_embeds.shape[0], inputs_embeds.shape[1]
        hidden = self.embeddings(input_ids, inputs_embeds, position_ids)
        mask = None if attention_mask is None else extended_attention_mask(attention_mask, hidden.dtype, batch, length)
        out = self.transformer(hidden, mask, output_attentions, output_hidden_states)
        return _as_output(out, return_dict)


def _check_no_token_types(kwargs, name):
    types = kwargs.pop("token_type_ids", None)
    if types is not None and types.numel() and bool((types != 0).any()):  # all zeros (one segment) is harmless
        raise TypeError(f"{name} has no token types, but token_type_ids mark a second segment; DistilBERT separates "
                        "text pairs with [SEP] only: call the tokenizer with return_token_type_ids=False")
    if kwargs:
        raise TypeError(f"{name}.forward got unexpected argument(s): {', '.join(sorted(kwargs))}")


class DistilBertForMaskedLM(DistilBertPreTrainedModel):
    """DistilBERT with its masked-language-model head: ``vocab_transform`` → activation → ``vocab_layer_norm``
    → ``vocab_projector`` (its weight tied to the word embeddings). ``loss`` ignores labels of -100."""

    _keys_to_ignore_on_load_missing = [r"^vocab_projector\.weight$"]

    def __init__(self, config):
        super().__init__(config)
        self.activation = get_activation(config.activation)
        self.distilbert = DistilBertModel(config)
        self.vocab_transform = nn.Linear(config.dim, config.dim)
        self.vocab_layer_norm = nn.LayerNorm(config.dim, eps=_EPS)
        self.vocab_projector = nn.Linear(config.dim, config.vocab_size)
        self.post_init()

    def tie_weights(self):
        if getattr(self.config, "tie_word_embeddings", True):
            self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight

    def get_output_embeddings(self):
        return self.vocab_projector

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=False, output_hidden_states=False, return_dict=None, position_ids=None, **kwargs):
        _check_no_token_types(kwargs, type(self).__name__)
        out = self.distilbert(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                              output_hidden_states, position_ids=position_ids)
        x = self.vocab_layer_norm(self.activation(self.vocab_transform(out.last_hidden_state)))
        logits = self.vocab_projector(x)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return _as_output(MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                         attentions=out.attentions), return_dict)


class DistilBertForSequenceClassification(DistilBertPreTrainedModel):
    """DistilBERT with a classifier on the first token: ``pre_classifier`` → ReLU → dropout → ``classifier``.
    ``loss`` by ``config.problem_type`` when ``labels`` are given."""

    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^vocab_"]

    def __init__(self, config):
        super().__init__(config)
        if config.num_labels is None:
            config.num_labels = 2
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = nn.Linear(config.dim, config.dim)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.dropout = _dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=False, output_hidden_states=False, return_dict=None, position_ids=None, **kwargs):
        _check_no_token_types(kwargs, type(self).__name__)
        out = self.distilbert(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                              output_hidden_states, position_ids=position_ids)
        pooled = F.relu(self.pre_classifier(out.last_hidden_state[:, 0]))
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else classification_loss(self.config, logits, labels)
        return _as_output(SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                                   attentions=out.attentions), return_dict)


class DistilBertForTokenClassification(DistilBertPreTrainedModel):
    """DistilBERT with a linear classifier on every token; ``loss`` ignores labels of -100."""

    _keys_to_ignore_on_load_unexpected = [r"position_ids$", r"^vocab_"]

    def __init__(self, config):
        super().__init__(config)
        if config.num_labels is None:
            config.num_labels = 2
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.dropout = _dropout(config.dropout)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=False, output_hidden_states=False, return_dict=None, position_ids=None, **kwargs):
        _check_no_token_types(kwargs, type(self).__name__)
        out = self.distilbert(input_ids, attention_mask, head_mask, inputs_embeds, output_attentions,
                              output_hidden_states, position_ids=position_ids)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1), ignore_index=-100)
        return _as_output(TokenClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                                attentions=out.attentions), return_dict)
