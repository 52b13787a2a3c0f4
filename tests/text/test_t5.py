"""T5: zoo's model against transformers' (oracle tier, T5 and the gated-gelu v1.1 variant) and its own contract."""
import numpy as np
import pytest

import zoo
from zoo.text.generation import EncoderDecoderCache
from zoo.text.models.t5 import (T5Config, T5EncoderModel, T5ForConditionalGeneration, T5Model,
                                relative_position_bucket)

TINY = dict(vocab_size=60, d_model=16, d_kv=4, d_ff=32, num_layers=2, num_decoder_layers=2, num_heads=4,
            relative_attention_num_buckets=8, relative_attention_max_distance=20, decoder_start_token_id=0)
VARIANTS = {"t5": dict(feed_forward_proj="relu"),
            "v1_1": dict(feed_forward_proj="gated-gelu", tie_word_embeddings=False)}


def inputs(seed=0, batch=2, length=23, dec_len=6):
    rs = np.random.RandomState(seed)
    ids = rs.randint(2, 60, (batch, length))
    mask = np.ones_like(ids)
    mask[-1, length - 5:] = 0  # right padding in the encoder
    ids[mask == 0] = 0
    dec = rs.randint(2, 60, (batch, dec_len))
    dec[:, 0] = 0
    return ids, mask, dec


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def hf_t5(request, tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    hf = transformers.T5ForConditionalGeneration(transformers.T5Config(**TINY, **VARIANTS[request.param])).eval()
    folder = tmp_path_factory.mktemp(f"t5_{request.param}")
    hf.save_pretrained(folder)
    return torch, transformers, hf, folder


@pytest.mark.oracle
def test_logits_and_loss_match_transformers(hf_t5):
    torch, _, hf, folder = hf_t5
    model = zoo.from_pretrained(folder)
    assert type(model).__name__ == "T5ForConditionalGeneration"
    ids, mask, dec = inputs()
    labels = dec.copy()
    labels[0, 4:] = -100
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), decoder_input_ids=torch.tensor(dec))
        ref_loss = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                      labels=torch.tensor(labels)).loss.item()
    with zoo.no_grad():
        out = model(input_ids=zoo.tensor(ids), attention_mask=zoo.tensor(mask), decoder_input_ids=zoo.tensor(dec))
        loss = model(input_ids=zoo.tensor(ids), attention_mask=zoo.tensor(mask), labels=zoo.tensor(labels)).loss
    np.testing.assert_allclose(out.logits.numpy(), ref.logits.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(out.encoder_last_hidden_state.numpy(), ref.encoder_last_hidden_state.numpy(),
                               atol=1e-4, rtol=0)
    assert abs(loss.item() - ref_loss) < 1e-4


@pytest.mark.oracle
def test_greedy_and_beam_generation_match_transformers(hf_t5):
    torch, _, hf, folder = hf_t5
    model = T5ForConditionalGeneration.from_pretrained(folder)
    ids, mask, _ = inputs(1)
    for kw in (dict(), dict(num_beams=3), dict(num_beams=3, num_return_sequences=2, eos_token_id=[1, 7])):
        with torch.no_grad():
            ref = hf.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=9,
                              do_sample=False, **kw).numpy()
        out = model.generate(zoo.tensor(ids), attention_mask=zoo.tensor(mask), max_new_tokens=9, **kw).numpy()
        np.testing.assert_array_equal(out, ref, err_msg=str(kw))


@pytest.mark.oracle
def test_zoo_save_pretrained_loads_in_transformers(hf_t5, tmp_path):
    torch, transformers, _, folder = hf_t5
    model = T5ForConditionalGeneration.from_pretrained(folder)
    model.save_pretrained(tmp_path)
    hf = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path).eval()
    ids, mask, dec = inputs(2)
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                 decoder_input_ids=torch.tensor(dec)).logits.numpy()
    with zoo.no_grad():
        out = model(input_ids=zoo.tensor(ids), attention_mask=zoo.tensor(mask),
                    decoder_input_ids=zoo.tensor(dec)).logits.numpy()
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0)


@pytest.mark.oracle
def test_relative_position_buckets_match_transformers():
    pytest.importorskip("torch")
    import torch
    from transformers.models.t5.modeling_t5 import T5Attention
    rel = np.arange(-300, 300)[None, :] - np.arange(0, 7)[:, None]
    for bidirectional in (True, False):
        for buckets, dist in ((32, 128), (8, 20)):
            ref = T5Attention._relative_position_bucket(torch.tensor(rel), bidirectional, buckets, dist).numpy()
            np.testing.assert_array_equal(relative_position_bucket(rel, bidirectional, buckets, dist), ref)


# ---- default tier ----------------------------------------------------------------------------------------------
def tiny(**over):
    zoo.manual_seed(0)
    return T5ForConditionalGeneration(T5Config(**{**TINY, **over})).eval()


def test_parameter_names_tying_and_scaling():
    model = tiny()
    keys = set(model.state_dict())
    for key in ("shared.weight", "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                "encoder.block.1.layer.1.DenseReluDense.wi.weight", "encoder.final_layer_norm.weight",
                "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                "decoder.block.1.layer.1.EncDecAttention.o.weight", "decoder.block.1.layer.2.DenseReluDense.wo.weight",
                "decoder.block.1.layer.2.layer_norm.weight", "lm_head.weight"):
        assert key in keys, key
    assert "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight" not in keys  # first block only
    assert model.lm_head.weight is model.shared.weight and model.config.scale_decoder_outputs
    gated = tiny(feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    assert gated.lm_head.weight is not gated.shared.weight and not gated.config.scale_decoder_outputs
    assert "encoder.block.0.layer.1.DenseReluDense.wi_1.weight" in gated.state_dict()
    assert gated.config.dense_act_fn == "gelu_new" and gated.config.is_gated_act


def test_layer_norm_is_rms_without_mean():
    from zoo.text.models.t5 import T5LayerNorm
    ln = T5LayerNorm(5, eps=1e-6)
    x = np.random.RandomState(0).randn(2, 3, 5).astype(np.float32) + 3.0
    with zoo.no_grad():
        y = ln(zoo.tensor(x)).numpy()
    np.testing.assert_allclose(y, x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6), rtol=1e-5)


def test_labels_are_shifted_right_into_decoder_inputs():
    model = tiny()
    labels = np.array([[5, 6, -100, -100]])
    shifted = model._shift_right(zoo.tensor(labels)).numpy()
    np.testing.assert_array_equal(shifted, [[0, 5, 6, 0]])
    ids = zoo.tensor([[3, 4, 5, 1]])
    with zoo.no_grad():
        a = model(input_ids=ids, labels=zoo.tensor(labels)).logits.numpy()
        b = model(input_ids=ids, decoder_input_ids=zoo.tensor(shifted)).logits.numpy()
    np.testing.assert_array_equal(a, b)


def test_decoder_cache_logits_equal_full_logits():
    model = tiny(num_decoder_layers=3)  # a decoder deeper than the encoder
    ids, mask, dec = inputs(3, dec_len=8)
    x, m = zoo.tensor(ids), zoo.tensor(mask)
    with zoo.no_grad():
        full = model(input_ids=x, attention_mask=m, decoder_input_ids=zoo.tensor(dec)).logits.numpy()
        enc = model.get_encoder()(input_ids=x, attention_mask=m)
        out = model(encoder_outputs=enc, attention_mask=m, decoder_input_ids=zoo.tensor(dec[:, :3]), use_cache=True)
        cache = out.past_key_values
        assert isinstance(cache, EncoderDecoderCache) and cache.get_seq_length() == 3
        steps = [out.logits.numpy()]
        for t in range(3, 8):
            out = model(encoder_outputs=enc, attention_mask=m, decoder_input_ids=zoo.tensor(dec[:, t:t + 1]),
                        past_key_values=cache, use_cache=True)
            steps.append(out.logits.numpy())
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5, rtol=0)


def test_bare_and_encoder_models_share_the_checkpoint(tmp_path):
    model = tiny()
    model.save_pretrained(tmp_path)
    ids = zoo.tensor([[3, 4, 5, 6, 1]])
    with zoo.no_grad():
        enc = T5EncoderModel.from_pretrained(tmp_path)(input_ids=ids).last_hidden_state.numpy()
        ref = model.encoder(input_ids=ids).last_hidden_state.numpy()
        bare = T5Model.from_pretrained(tmp_path)(input_ids=ids, decoder_input_ids=zoo.tensor([[0, 4]]))
    np.testing.assert_array_equal(enc, ref)
    assert tuple(bare.last_hidden_state.shape) == (1, 2, 16)


def test_bad_inputs_raise_clear_errors():
    model = tiny()
    with pytest.raises(ValueError, match="feed_forward_proj"):
        T5Config(feed_forward_proj="gelu-gated-x")
    with pytest.raises(ValueError, match="attention_mask must have shape"):
        model(input_ids=zoo.tensor([[3, 4, 5]]), attention_mask=zoo.tensor([[1, 1]]),
              decoder_input_ids=zoo.tensor([[0]]))
    with pytest.raises(NotImplementedError, match="output_attentions"):
        model(input_ids=zoo.tensor([[3, 4, 5]]), decoder_input_ids=zoo.tensor([[0]]), output_attentions=True)
    with pytest.raises(ValueError, match="exactly one"):
        model.encoder()


def test_a_training_step_learns_a_copy_task():
    model = tiny(dropout_rate=0.0).train()
    opt = zoo.optim.AdamW(model.parameters(), lr=1e-2)
    ids = zoo.tensor(np.random.RandomState(4).randint(2, 60, (8, 6)))
    losses = []
    for _ in range(10):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.3


def test_checkpoints_with_the_tied_copies_load(tmp_path):
    """Older hub files store the tied embedding under every name (shared, encoder/decoder.embed_tokens, lm_head)."""
    from safetensors.numpy import load_file, save_file
    model = tiny()
    model.save_pretrained(tmp_path)
    state = load_file(str(tmp_path / "model.safetensors"))
    assert "lm_head.weight" not in state and "encoder.embed_tokens.weight" not in state  # written once
    for name in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"):
        state[name] = state["shared.weight"]
    save_file(state, str(tmp_path / "model.safetensors"))
    again = T5ForConditionalGeneration.from_pretrained(tmp_path)
    ids = zoo.tensor([[3, 4, 5, 1]])
    with zoo.no_grad():
        np.testing.assert_array_equal(again(input_ids=ids, decoder_input_ids=zoo.tensor([[0, 3]])).logits.numpy(),
                                      model(input_ids=ids, decoder_input_ids=zoo.tensor([[0, 3]])).logits.numpy())
