"""GPT-2: zoo's model against transformers' (oracle tier) and its own contract (default tier)."""
import json

import numpy as np
import pytest

import zoo
from zoo.text.generation import DynamicCache
from zoo.text.models.gpt2 import Conv1D, GPT2Config, GPT2LMHeadModel, GPT2Model

TINY = dict(vocab_size=97, n_positions=48, n_embd=32, n_layer=2, n_head=4, bos_token_id=96, eos_token_id=96)


def tiny_zoo(**over):
    zoo.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(**{**TINY, **over})).eval()


def left_padded(rs, batch=3, length=9):
    ids = rs.randint(0, 96, (batch, length))
    mask = np.ones_like(ids)
    for b in range(1, batch):
        mask[b, :2 * b] = 0
        ids[b, :2 * b] = 96  # padding tokens (any id: they are masked)
    pos = np.cumsum(mask, 1) - 1
    pos[mask == 0] = 0
    return ids, mask, pos


# ---- oracle: transformers' tiny random GPT-2 -------------------------------------------------------------------
@pytest.fixture(scope="module")
def hf_gpt2(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**TINY)).eval()
    folder = tmp_path_factory.mktemp("gpt2")
    hf.save_pretrained(folder)
    return torch, transformers, hf, folder


@pytest.mark.oracle
def test_logits_and_loss_match_transformers(hf_gpt2):
    torch, _, hf, folder = hf_gpt2
    model = zoo.from_pretrained(folder)
    assert type(model).__name__ == "GPT2LMHeadModel"
    ids = np.random.RandomState(1).randint(0, 97, (2, 11))
    with torch.no_grad():
        ref = hf(torch.tensor(ids), labels=torch.tensor(ids))
    with zoo.no_grad():
        out = model(zoo.tensor(ids), labels=zoo.tensor(ids))
    np.testing.assert_allclose(out.logits.numpy(), ref.logits.numpy(), atol=1e-4, rtol=0)
    assert abs(out.loss.item() - ref.loss.item()) < 1e-5


@pytest.mark.oracle
def test_left_padded_batch_matches_transformers(hf_gpt2):
    torch, _, hf, folder = hf_gpt2
    model = GPT2LMHeadModel.from_pretrained(folder)
    ids, mask, pos = left_padded(np.random.RandomState(2))
    with torch.no_grad():
        ref = hf(torch.tensor(ids), attention_mask=torch.tensor(mask), position_ids=torch.tensor(pos)).logits.numpy()
    with zoo.no_grad():
        out = model(zoo.tensor(ids), attention_mask=zoo.tensor(mask), position_ids=zoo.tensor(pos)).logits.numpy()
    real = mask == 1  # padded positions attend to nothing; their outputs are unspecified in both libraries
    np.testing.assert_allclose(out[real], ref[real], atol=1e-4, rtol=0)


@pytest.mark.oracle
def test_greedy_generation_gives_transformers_tokens(hf_gpt2):
    torch, _, hf, folder = hf_gpt2
    model = GPT2LMHeadModel.from_pretrained(folder)
    ids, mask, _ = left_padded(np.random.RandomState(3))
    with torch.no_grad():
        ref = hf.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=12,
                          do_sample=False).numpy()
    out = model.generate(zoo.tensor(ids), attention_mask=zoo.tensor(mask), max_new_tokens=12).numpy()
    np.testing.assert_array_equal(out, ref)


@pytest.mark.oracle
def test_beam_search_gives_transformers_beams(hf_gpt2):
    torch, _, hf, folder = hf_gpt2
    model = GPT2LMHeadModel.from_pretrained(folder)
    ids, mask, _ = left_padded(np.random.RandomState(4), batch=2)
    for kw in (dict(num_beams=3), dict(num_beams=4, num_return_sequences=2, length_penalty=0.5),
               dict(num_beams=3, early_stopping=True, eos_token_id=[5, 7, 11])):
        with torch.no_grad():
            ref = hf.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=10,
                              do_sample=False, **kw).numpy()
        out = model.generate(zoo.tensor(ids), attention_mask=zoo.tensor(mask), max_new_tokens=10, **kw).numpy()
        np.testing.assert_array_equal(out, ref, err_msg=str(kw))


@pytest.mark.oracle
def test_repetition_penalty_matches_transformers(hf_gpt2):
    torch, _, hf, folder = hf_gpt2
    model = GPT2LMHeadModel.from_pretrained(folder)
    ids = np.random.RandomState(5).randint(0, 96, (1, 6))
    with torch.no_grad():
        ref = hf.generate(torch.tensor(ids), max_new_tokens=15, do_sample=False, repetition_penalty=1.7).numpy()
    out = model.generate(zoo.tensor(ids), max_new_tokens=15, repetition_penalty=1.7).numpy()
    np.testing.assert_array_equal(out, ref)


@pytest.mark.oracle
def test_zoo_save_pretrained_loads_in_transformers(hf_gpt2, tmp_path):
    torch, transformers, _, _ = hf_gpt2
    model = tiny_zoo()
    model.save_pretrained(tmp_path)
    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    ids = np.random.RandomState(6).randint(0, 97, (2, 7))
    with torch.no_grad():
        ref = hf(torch.tensor(ids)).logits.numpy()
    with zoo.no_grad():
        out = model(zoo.tensor(ids)).logits.numpy()
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0)


# ---- default tier ----------------------------------------------------------------------------------------------
def test_parameter_names_and_conv1d_layout():
    model = tiny_zoo()
    names = set(model.state_dict())
    for key in ("transformer.wte.weight", "transformer.wpe.weight", "transformer.h.1.ln_1.weight",
                "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.bias",
                "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight", "transformer.ln_f.bias",
                "lm_head.weight"):
        assert key in names, key
    assert tuple(model.transformer.h[0].attn.c_attn.weight.shape) == (32, 96)  # (in, out), as Conv1D stores it
    assert tuple(model.transformer.h[0].mlp.c_fc.weight.shape) == (32, 128)
    assert model.lm_head.weight is model.transformer.wte.weight


def test_conv1d_is_x_at_weight_plus_bias():
    layer = Conv1D(5, 3)
    zoo.nn.init.normal_(layer.weight)
    zoo.nn.init.normal_(layer.bias)
    x = np.random.RandomState(0).randn(2, 4, 3).astype(np.float32)
    with zoo.no_grad():
        y = layer(zoo.tensor(x)).numpy()
    np.testing.assert_allclose(y, x @ layer.weight.detach().numpy() + layer.bias.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_config_aliases_and_round_trip(tmp_path):
    config = GPT2Config(**TINY)
    assert config.hidden_size == 32 and config.num_attention_heads == 4 and config.max_position_embeddings == 48
    config.save_pretrained(tmp_path)
    again = GPT2Config.from_pretrained(tmp_path)
    assert again == config and again.model_type == "gpt2"
    with pytest.raises(ValueError, match="divisible"):
        GPT2Config(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="activation function"):
        GPT2Config(activation_function="nope")


def test_loss_is_shifted_cross_entropy_with_ignore_index():
    model = tiny_zoo()
    ids = np.random.RandomState(1).randint(0, 97, (2, 8))
    labels = ids.copy()
    labels[0, 5:] = -100
    with zoo.no_grad():
        out = model(zoo.tensor(ids), labels=zoo.tensor(labels))
    logits = out.logits.numpy().astype(np.float64)
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    terms = [-logp[b, t, labels[b, t + 1]] for b in range(2) for t in range(7) if labels[b, t + 1] != -100]
    assert abs(out.loss.item() - np.mean(terms)) < 1e-5
    assert out[0] is out.loss and out["logits"] is out.logits


def test_save_and_load_round_trip_and_old_buffers_ignored(tmp_path):
    from safetensors.numpy import load_file, save_file
    model = tiny_zoo()
    model.save_pretrained(tmp_path)
    keys = set(load_file(str(tmp_path / "model.safetensors")))
    assert "lm_head.weight" not in keys and "transformer.wte.weight" in keys  # tied: written once
    # the hub's gpt2 files name tensors without "transformer." and carry the old attention-mask buffers
    state = {k[len("transformer."):]: v for k, v in load_file(str(tmp_path / "model.safetensors")).items()}
    state["h.0.attn.bias"] = np.tril(np.ones((48, 48), np.float32))[None, None]
    state["h.0.attn.masked_bias"] = np.array(-1e4, np.float32)
    save_file(state, str(tmp_path / "model.safetensors"))
    again = zoo.from_pretrained(tmp_path)
    ids = zoo.tensor([[1, 2, 3, 4]])
    with zoo.no_grad():
        np.testing.assert_array_equal(again(ids).logits.numpy(), model(ids).logits.numpy())
    assert json.loads((tmp_path / "config.json").read_text())["architectures"] == ["GPT2LMHeadModel"]
    bare = GPT2Model.from_pretrained(tmp_path)
    with zoo.no_grad():
        np.testing.assert_allclose(bare(ids).last_hidden_state.numpy(),
                                   model.transformer(ids).last_hidden_state.numpy(), atol=0)


def test_kv_cache_logits_equal_full_prefix_logits():
    model = tiny_zoo()
    ids = np.random.RandomState(2).randint(0, 97, (2, 12))
    with zoo.no_grad():
        full = model(zoo.tensor(ids)).logits.numpy()
        out = model(zoo.tensor(ids[:, :5]), use_cache=True)
        cache = out.past_key_values
        assert isinstance(cache, DynamicCache) and cache.get_seq_length() == 5
        steps = [out.logits.numpy()]
        for t in range(5, 12):
            out = model(zoo.tensor(ids[:, t:t + 1]), past_key_values=cache, use_cache=True)
            steps.append(out.logits.numpy())
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5, rtol=0)
    # the legacy tuple format works too
    legacy = cache.to_legacy_cache()
    assert len(legacy) == 2 and tuple(legacy[0][0].shape) == (2, 4, 12, 8)


def test_bad_inputs_raise_clear_errors():
    model = tiny_zoo()
    with pytest.raises(ValueError, match="n_positions"):
        model(zoo.tensor(np.zeros((1, 49), np.int64)))
    with pytest.raises(NotImplementedError, match="output_attentions"):
        model(zoo.tensor([[1, 2]]), output_attentions=True)
    with pytest.raises(ValueError, match="exactly one"):
        model()
    with pytest.raises(TypeError, match="integer"):
        model(zoo.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="attention_mask covers"):
        model(zoo.tensor([[1, 2, 3]]), attention_mask=zoo.tensor([[1, 1]]))
    with pytest.raises(ValueError, match="labels have shape"):
        model(zoo.tensor([[1, 2, 3]]), labels=zoo.tensor([[1, 2]]))


def test_training_step_reduces_the_loss():
    model = tiny_zoo(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0).train()
    opt = zoo.optim.AdamW(model.parameters(), lr=3e-3)
    ids = zoo.tensor(np.random.RandomState(3).randint(0, 97, (4, 16)))
    losses = []
    for _ in range(8):
        loss = model(ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.2
    assert model.transformer.wte.weight.grad is not None
