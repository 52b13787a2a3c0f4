"""BERT and DistilBERT (zoo.text.models): outputs, attention masks and padding, tied weights, losses, loading and
saving Hugging Face model folders, errors; and logits / hidden states against transformers (oracle tier)."""
import os
import warnings

import numpy as np
import pytest

import zoo
from zoo.text.models import (BertConfig, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification,
                             BertModel, DistilBertConfig, DistilBertForMaskedLM, DistilBertForSequenceClassification,
                             DistilBertForTokenClassification, DistilBertModel, ModelOutput)
from zoo.weights.pretrained import list_architectures

V = 99
TINY_BERT = dict(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                 max_position_embeddings=64, type_vocab_size=2)
TINY_DISTIL = dict(vocab_size=V, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64)


def _inputs(batch=3, length=10, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, V, (batch, length))
    mask = np.ones((batch, length), dtype=np.int64)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    types = np.zeros_like(ids)
    types[:, 5:] = 1
    return ids, mask, types


def _t(a):
    return zoo.tensor(a)


# ---- outputs -----------------------------------------------------------------------------------------------------
def test_bert_model_outputs():
    model = BertModel(BertConfig(**TINY_BERT)).eval()
    ids, mask, types = _inputs()
    with zoo.no_grad():
        out = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types), output_hidden_states=True,
                    output_attentions=True)
    assert isinstance(out, ModelOutput) and list(out) == ["last_hidden_state", "pooler_output", "hidden_states",
                                                          "attentions"]
    assert tuple(out.last_hidden_state.shape) == (3, 10, 32) and tuple(out.pooler_output.shape) == (3, 32)
    assert out[0] is out.last_hidden_state and out["pooler_output"] is out[1]
    assert len(out.hidden_states) == 3 and len(out.attentions) == 2
    probs = out.attentions[0].numpy()
    assert probs.shape == (3, 4, 10, 10)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert np.abs(probs[2, :, :, 3:]).max() < 1e-6  # padded keys get no attention
    dense = model.pooler.dense
    expected = np.tanh(out.last_hidden_state.numpy()[:, 0] @ dense.weight.detach().numpy().T
                       + dense.bias.detach().numpy())
    np.testing.assert_allclose(out.pooler_output.numpy(), expected, atol=1e-5)
    with zoo.no_grad():
        plain = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types))
        as_tuple = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types), return_dict=False)
    # the explicit-probabilities path (output_attentions) and the fused attention agree
    np.testing.assert_allclose(plain.last_hidden_state.numpy(), out.last_hidden_state.numpy(), atol=1e-5)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    assert plain.hidden_states is None and "hidden_states" not in plain


@pytest.mark.parametrize("make", [lambda: BertModel(BertConfig(**TINY_BERT)),
                                  lambda: DistilBertModel(DistilBertConfig(**TINY_DISTIL))], ids=["bert", "distilbert"])
def test_padding_does_not_change_real_tokens(make):
    model = make().eval()
    rng = np.random.default_rng(1)
    short = rng.integers(1, V, (1, 6))
    padded = np.concatenate([short, np.zeros((1, 5), dtype=short.dtype)], 1)
    mask = np.array([[1] * 6 + [0] * 5])
    with zoo.no_grad():
        alone = model(_t(short)).last_hidden_state.numpy()
        with_pad = model(_t(padded), attention_mask=_t(mask)).last_hidden_state.numpy()
        all_ones = model(_t(short), attention_mask=_t(np.ones((1, 6), dtype=np.int64))).last_hidden_state.numpy()
        # a 3-d mask (batch, queries, keys) works like the 2-d one it broadcasts
        three_d = model(_t(padded), attention_mask=_t(np.broadcast_to(mask[:, None, :], (1, 11, 11)).copy()))
    np.testing.assert_allclose(with_pad[:, :6], alone, atol=1e-5)
    np.testing.assert_allclose(three_d.last_hidden_state.numpy(), with_pad, atol=1e-6)
    np.testing.assert_array_equal(all_ones, alone)


def test_heads_shapes_and_losses():
    ids, mask, types = _inputs()
    config = BertConfig(**TINY_BERT, num_labels=3)
    mlm = BertForMaskedLM(config).eval()
    labels = np.full_like(ids, -100)
    labels[0, 2], labels[1, 4] = 5, 7
    out = mlm(_t(ids), attention_mask=_t(mask), labels=_t(labels))
    assert tuple(out.logits.shape) == (3, 10, V) and list(out) == ["loss", "logits"]
    logits = out.logits.detach().numpy()
    expect = np.mean([-np.log(_softmax(logits[0, 2])[5]), -np.log(_softmax(logits[1, 4])[7])])
    assert abs(out.loss.item() - expect) < 1e-5

    cls = BertForSequenceClassification(config).eval()
    out = cls(_t(ids), attention_mask=_t(mask), labels=_t(np.array([0, 2, 1])))
    assert tuple(out.logits.shape) == (3, 3)
    p = _softmax(out.logits.detach().numpy())
    assert abs(out.loss.item() + np.mean(np.log(p[[0, 1, 2], [0, 2, 1]]))) < 1e-5
    multi = cls(_t(ids), labels=_t(np.array([[1.0, 0, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float32)))
    x = multi.logits.detach().numpy()
    y = np.array([[1.0, 0, 1], [0, 0, 1], [1, 1, 1]])
    bce = np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))))
    assert abs(multi.loss.item() - bce) < 1e-5
    reg = BertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=1)).eval()
    out = reg(_t(ids), labels=_t(np.array([0.5, -1.0, 2.0], dtype=np.float32)))
    assert abs(out.loss.item() - np.mean((out.logits.detach().numpy()[:, 0] - [0.5, -1.0, 2.0]) ** 2)) < 1e-5

    tok = BertForTokenClassification(BertConfig(**TINY_BERT, num_labels=5)).eval()
    tl = np.where(mask == 1, 1, -100)
    out = tok(_t(ids), attention_mask=_t(mask), labels=_t(tl))
    lp = np.log(_softmax(out.logits.detach().numpy()))
    assert abs(out.loss.item() + lp[..., 1][mask == 1].mean()) < 1e-5


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_distilbert_heads():
    ids, mask, _ = _inputs()
    config = DistilBertConfig(**TINY_DISTIL, num_labels=2)
    for cls, shape in ((DistilBertForMaskedLM, (3, 10, V)), (DistilBertForSequenceClassification, (3, 2)),
                       (DistilBertForTokenClassification, (3, 10, 2))):
        model = cls(config).eval()
        with zoo.no_grad():
            assert tuple(model(_t(ids), attention_mask=_t(mask)).logits.shape) == shape
    model = DistilBertForSequenceClassification(config).eval()
    with zoo.no_grad():  # one segment (all zeros, what BERT tokenizers give) is accepted and changes nothing
        np.testing.assert_array_equal(model(_t(ids), token_type_ids=_t(ids * 0)).logits.numpy(),
                                      model(_t(ids)).logits.numpy())
    with pytest.raises(TypeError, match="token_type_ids"):
        model(_t(ids), token_type_ids=_t(np.ones_like(ids)))
    sinus = DistilBertModel(DistilBertConfig(**TINY_DISTIL, sinusoidal_pos_embds=True))
    table = sinus.embeddings.position_embeddings.weight.detach().numpy()
    assert not sinus.embeddings.position_embeddings.weight.requires_grad
    np.testing.assert_allclose(table[3, 0], np.sin(3.0), atol=1e-6)
    np.testing.assert_allclose(table[3, 1], np.cos(3.0), atol=1e-6)
    np.testing.assert_allclose(table[5, 4], np.sin(5 / 10000 ** (4 / 32)), atol=1e-6)


def test_training_step_updates_and_gradients_reach_every_weight():
    ids, mask, types = _inputs()
    model = BertForSequenceClassification(BertConfig(**TINY_BERT, num_labels=2, hidden_dropout_prob=0.0,
                                                     attention_probs_dropout_prob=0.0))
    model.train()
    opt = zoo.optim.AdamW(model.parameters(), lr=1e-2)
    labels = _t(np.array([0, 1, 1]))
    losses = []
    for _ in range(15):
        out = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types), labels=labels)
        opt.zero_grad()
        out.loss.backward()
        if not losses:
            for name, p in model.named_parameters():
                assert p.grad is not None, name
        opt.step()
        losses.append(out.loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_init_follows_transformers():
    model = BertForSequenceClassification(BertConfig(**TINY_BERT, initializer_range=0.02))
    w = model.bert.embeddings.word_embeddings.weight.detach().numpy()
    assert abs(w[1:].std() - 0.02) < 0.002 and not w[0].any()  # padding row zero
    # normal(0, 0.02), not PyTorch's default uniform(±1/sqrt(fan_in)) (std 0.1 here)
    assert 0.01 < model.classifier.weight.detach().numpy().std() < 0.03
    assert not model.classifier.bias.detach().numpy().any()
    ln = model.bert.encoder.layer[0].output.LayerNorm
    assert (ln.weight.detach().numpy() == 1).all() and not ln.bias.detach().numpy().any()


# ---- tied weights, saving and loading ------------------------------------------------------------------------------
def test_masked_lm_ties_and_round_trip(tmp_path):
    from zoo.core.serialization import load as load_file
    model = BertForMaskedLM(BertConfig(**TINY_BERT)).eval()
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    assert model.cls.predictions.decoder.bias is model.cls.predictions.bias
    assert model.get_output_embeddings() is model.cls.predictions.decoder
    model.save_pretrained(tmp_path)
    keys = set(load_file(str(tmp_path / "model.safetensors")))
    assert "cls.predictions.bias" in keys and "cls.predictions.decoder.weight" not in keys
    assert "bert.pooler.dense.weight" not in keys
    back = zoo.from_pretrained(tmp_path)
    assert type(back) is BertForMaskedLM and not back.training
    assert back.cls.predictions.decoder.weight is back.bert.embeddings.word_embeddings.weight
    ids, mask, types = _inputs()
    with zoo.no_grad():
        a = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types)).logits.numpy()
        b = back(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types)).logits.numpy()
    np.testing.assert_array_equal(a, b)
    back.to(zoo.float64)
    assert back.cls.predictions.decoder.weight is back.bert.embeddings.word_embeddings.weight
    assert back.cls.predictions.decoder.weight.dtype == zoo.float64
    # the bare model from the head checkpoint (the head is ignored)
    with pytest.warns(UserWarning, match="pooler"):
        bare = zoo.from_pretrained(tmp_path, architecture="BertModel", strict=False)
    assert type(bare) is BertModel


def test_loading_bert_pretraining_style_checkpoints(tmp_path):
    """BERT's original checkpoints: LayerNorm gamma/beta, a position_ids buffer, the pooler and the
    next-sentence head next to the MLM head; zoo loads them into BertForMaskedLM."""
    from zoo.core.serialization import save as save_file
    src = BertForMaskedLM(BertConfig(**TINY_BERT)).eval()
    state = {}
    for k, v in src.state_dict().items():
        if k == "cls.predictions.decoder.bias":
            continue
        k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        state[k] = v
    state["bert.embeddings.position_ids"] = zoo.arange(64)[None]
    state["bert.pooler.dense.weight"] = zoo.zeros(32, 32)
    state["bert.pooler.dense.bias"] = zoo.zeros(32)
    state["cls.seq_relationship.weight"] = zoo.zeros(2, 32)
    state["cls.seq_relationship.bias"] = zoo.zeros(2)
    os.makedirs(tmp_path / "ckpt")
    save_file(state, str(tmp_path / "ckpt" / "model.safetensors"))
    BertConfig(**TINY_BERT, architectures=["BertForPreTraining"]).save_pretrained(tmp_path / "ckpt")
    model = BertForMaskedLM.from_pretrained(tmp_path / "ckpt")
    ids, mask, _ = _inputs()
    with zoo.no_grad():
        np.testing.assert_array_equal(model(_t(ids), attention_mask=_t(mask)).logits.numpy(),
                                      src(_t(ids), attention_mask=_t(mask)).logits.numpy())
    # a classifier fine-tuned from it: the new head gets Transformers' initialization, the rest is loaded
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf, info = BertForSequenceClassification.from_pretrained(tmp_path / "ckpt", num_labels=4, strict=False,
                                                                  output_loading_info=True)
    messages = " ".join(str(w.message) for w in caught)
    assert "newly initialized: classifier" in messages and "were not used" in messages  # the MLM head, unused
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    assert 0.01 < clf.classifier.weight.detach().numpy().std() < 0.03 and not clf.classifier.bias.detach().numpy().any()
    np.testing.assert_array_equal(clf.bert.embeddings.word_embeddings.weight.detach().numpy(),
                                  src.bert.embeddings.word_embeddings.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="missing keys"):
        BertForSequenceClassification.from_pretrained(tmp_path / "ckpt")


def test_registered_architectures():
    archs = list_architectures()
    for name in ("BertModel", "BertForMaskedLM", "BertForSequenceClassification", "BertForTokenClassification"):
        assert archs[name] == "bert"
    for name in ("DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification"):
        assert archs[name] == "distilbert"
    from zoo.weights.pretrained import get_model_class
    assert get_model_class(model_type="bert") is BertModel
    assert get_model_class(model_type="distilbert") is DistilBertModel


def test_distilbert_config_aliases():
    c = DistilBertConfig(**TINY_DISTIL)
    assert c.hidden_size == 32 and c.num_hidden_layers == 2 and c.num_attention_heads == 4
    assert DistilBertConfig.from_dict(c.to_dict()) == c


# ---- errors --------------------------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    model = BertModel(BertConfig(**TINY_BERT)).eval()
    with pytest.raises(IndexError, match="vocabulary of 99"):
        model(_t(np.array([[1, 99]])))
    with pytest.raises(ValueError, match="at most 64"):
        model(_t(np.ones((1, 65), dtype=np.int64)))
    with pytest.raises(ValueError, match="does not match"):
        model(_t(np.ones((2, 5), dtype=np.int64)), attention_mask=_t(np.ones((2, 4), dtype=np.int64)))
    with pytest.raises(ValueError, match="batch, length"):
        model(_t(np.ones(5, dtype=np.int64)))
    with pytest.raises(TypeError, match="integer token ids"):
        model(zoo.ones(1, 4))
    with pytest.raises(IndexError, match="token types"):
        model(_t(np.ones((1, 4), dtype=np.int64)), token_type_ids=_t(np.full((1, 4), 2)))
    with pytest.raises(ValueError, match="exactly one"):
        model()
    with pytest.raises(NotImplementedError, match="head_mask"):
        model(_t(np.ones((1, 4), dtype=np.int64)), head_mask=zoo.ones(2, 4))
    with pytest.raises(NotImplementedError, match="position_embedding_type"):
        BertModel(BertConfig(**TINY_BERT, position_embedding_type="relative_key"))
    with pytest.raises(NotImplementedError, match="decoder"):
        BertModel(BertConfig(**TINY_BERT, is_decoder=True))
    with pytest.raises(NotImplementedError, match="activation"):
        BertModel(BertConfig(**TINY_BERT, hidden_act="swiglu"))
    with pytest.raises(ValueError, match="multiple"):
        BertModel(BertConfig(**{**TINY_BERT, "num_attention_heads": 5}))


def test_inputs_embeds_equal_input_ids():
    model = BertModel(BertConfig(**TINY_BERT)).eval()
    ids, mask, types = _inputs()
    with zoo.no_grad():
        a = model(_t(ids), attention_mask=_t(mask)).last_hidden_state.numpy()
        emb = model.embeddings.word_embeddings(_t(ids))
        b = model(inputs_embeds=emb, attention_mask=_t(mask)).last_hidden_state.numpy()
    np.testing.assert_array_equal(a, b)


# ---- oracle: transformers ------------------------------------------------------------------------------------------
def _torch_and_transformers():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    return torch, transformers


def _close(a, b, atol=1e-4):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=1e-4)


@pytest.mark.oracle
def test_bert_masked_lm_matches_transformers(tmp_path):
    torch, transformers = _torch_and_transformers()
    ref = transformers.BertForMaskedLM(transformers.BertConfig(**TINY_BERT, hidden_act="gelu")).eval()
    ref.save_pretrained(tmp_path / "hf")
    model = zoo.from_pretrained(tmp_path / "hf")
    assert type(model) is BertForMaskedLM
    ids, mask, types = _inputs()
    labels = np.where(mask == 1, ids, -100)
    with torch.no_grad():
        r = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(types),
                labels=torch.tensor(labels), output_hidden_states=True, output_attentions=True)
    with zoo.no_grad():
        z = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types), labels=_t(labels),
                  output_hidden_states=True, output_attentions=True)
        plain = model(_t(ids), attention_mask=_t(mask), token_type_ids=_t(types))
    _close(z.logits.numpy(), r.logits.numpy())
    _close(plain.logits.numpy(), r.logits.numpy())
    assert abs(z.loss.item() - r.loss.item()) < 1e-4
    for a, b in zip(z.hidden_states, r.hidden_states):
        _close(a.numpy(), b.numpy())
    for a, b in zip(z.attentions, r.attentions):
        _close(a.numpy(), b.numpy(), atol=1e-5)
    # zoo's save_pretrained output loads back in transformers with the same logits
    model.save_pretrained(tmp_path / "zoo")
    again = transformers.BertForMaskedLM.from_pretrained(tmp_path / "zoo").eval()
    with torch.no_grad():
        r2 = again(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(types))
    _close(r2.logits.numpy(), r.logits.numpy(), atol=1e-6)


@pytest.mark.oracle
def test_distilbert_classifier_matches_transformers(tmp_path):
    torch, transformers = _torch_and_transformers()
    config = transformers.DistilBertConfig(**TINY_DISTIL, id2label={0: "NEG", 1: "POS", 2: "MID"},
                                           label2id={"NEG": 0, "POS": 1, "MID": 2})
    ref = transformers.DistilBertForSequenceClassification(config).eval()
    ref.save_pretrained(tmp_path / "hf")
    model = zoo.from_pretrained(tmp_path / "hf")
    assert type(model) is DistilBertForSequenceClassification and model.config.id2label[2] == "MID"
    ids, mask, _ = _inputs()
    with torch.no_grad():
        r = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), labels=torch.tensor([0, 2, 1]),
                output_hidden_states=True)
    with zoo.no_grad():
        z = model(_t(ids), attention_mask=_t(mask), labels=_t(np.array([0, 2, 1])), output_hidden_states=True)
    _close(z.logits.numpy(), r.logits.numpy())
    assert abs(z.loss.item() - r.loss.item()) < 1e-4
    for a, b in zip(z.hidden_states, r.hidden_states):
        _close(a.numpy(), b.numpy())
    model.save_pretrained(tmp_path / "zoo")
    again = transformers.DistilBertForSequenceClassification.from_pretrained(tmp_path / "zoo").eval()
    with torch.no_grad():
        _close(again(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy(),
               r.logits.numpy(), atol=1e-6)


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["BertForSequenceClassification", "BertForTokenClassification", "BertModel",
                                  "DistilBertForMaskedLM", "DistilBertForTokenClassification", "DistilBertModel"])
def test_other_heads_match_transformers(name, tmp_path):
    torch, transformers = _torch_and_transformers()
    distil = name.startswith("Distil")
    config = (transformers.DistilBertConfig(**TINY_DISTIL, num_labels=3) if distil
              else transformers.BertConfig(**TINY_BERT, num_labels=3))
    ref = getattr(transformers, name)(config).eval()
    ref.save_pretrained(tmp_path)
    model = zoo.from_pretrained(tmp_path)
    assert type(model).__name__ == name
    ids, mask, types = _inputs(seed=3)
    kwargs = {} if distil else {"token_type_ids": types}
    with torch.no_grad():
        r = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                **{k: torch.tensor(v) for k, v in kwargs.items()})
    with zoo.no_grad():
        z = model(_t(ids), attention_mask=_t(mask), **{k: _t(v) for k, v in kwargs.items()})
    for key in r.keys():
        _close(z[key].numpy(), r[key].numpy())


@pytest.mark.oracle
def test_pytorch_bin_checkpoint_loads_without_torch_at_run_time(tmp_path):
    """A pytorch_model.bin (zip + pickle, with old LayerNorm names and a position_ids buffer) loads through zoo's
    restricted unpickler and gives transformers' logits."""
    torch, transformers = _torch_and_transformers()
    ref = transformers.BertForMaskedLM(transformers.BertConfig(**TINY_BERT)).eval()
    state = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
             for k, v in ref.state_dict().items()}
    state["bert.embeddings.position_ids"] = torch.arange(64)[None]
    os.makedirs(tmp_path / "bin")
    torch.save(state, tmp_path / "bin" / "pytorch_model.bin")
    ref.config.save_pretrained(tmp_path / "bin")
    model = BertForMaskedLM.from_pretrained(tmp_path / "bin")
    ids, mask, types = _inputs()
    with torch.no_grad():
        r = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    with zoo.no_grad():
        _close(model(_t(ids), attention_mask=_t(mask)).logits.numpy(), r)
