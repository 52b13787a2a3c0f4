"""zoo.text.generation: decoding strategies, the KV cache, padding, eos, streaming (default tier, no transformers)."""
import numpy as np
import pytest

import zoo
from zoo.text.generation import (DynamicCache, ModelOutput, _repetition_penalty, _top_k, _top_p,
                                 causal_attention_mask)
from zoo.text.models.gpt2 import GPT2Config, GPT2LMHeadModel
from zoo.text.models.t5 import T5Config, T5ForConditionalGeneration


@pytest.fixture(scope="module")
def gpt2():
    zoo.manual_seed(0)
    # a larger init spread gives peaked, prompt-dependent distributions (a realistic test of decoding)
    return GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                      initializer_range=0.3, bos_token_id=None, eos_token_id=None)).eval()


@pytest.fixture(scope="module")
def t5():
    zoo.manual_seed(0)
    return T5ForConditionalGeneration(T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=32, num_layers=2,
                                               num_heads=4, relative_attention_num_buckets=8)).eval()


def prompts():
    ids = np.array([[0, 0, 0, 5, 9, 3], [7, 1, 8, 2, 4, 6]])
    mask = np.array([[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    return zoo.tensor(ids), zoo.tensor(mask)


def count_calls(monkeypatch, model):
    """Record the number of positions each model call runs on (and whether gradients were on)."""
    calls = []
    forward = model.forward

    def spy(*args, **kwargs):
        ids = kwargs.get("input_ids")
        if ids is None:
            ids = kwargs.get("decoder_input_ids")
        calls.append((tuple(ids.shape), zoo.is_grad_enabled()))
        return forward(*args, **kwargs)
    monkeypatch.setattr(model, "forward", spy)
    return calls


# ---- KV cache ------------------------------------------------------------------------------------------------
def test_each_new_token_runs_the_model_on_one_position(monkeypatch, gpt2):
    calls = count_calls(monkeypatch, gpt2)
    ids, mask = prompts()
    out = gpt2.generate(ids, attention_mask=mask, max_new_tokens=7)
    assert tuple(out.shape) == (2, 13)
    assert [c[0] for c in calls] == [(2, 6)] + [(2, 1)] * 6  # the prompt once, then one position per step
    assert not any(c[1] for c in calls)  # under inference mode
    assert not out.requires_grad


def test_cached_generation_equals_uncached_generation(gpt2):
    ids, mask = prompts()
    for kw in (dict(), dict(num_beams=3), dict(repetition_penalty=1.3)):
        a = gpt2.generate(ids, attention_mask=mask, max_new_tokens=9, **kw).numpy()
        b = gpt2.generate(ids, attention_mask=mask, max_new_tokens=9, use_cache=False, **kw).numpy()
        np.testing.assert_array_equal(a, b, err_msg=str(kw))


def test_cached_step_logits_equal_full_prefix_logits(gpt2):
    ids, mask = prompts()
    seqs = gpt2.generate(ids, attention_mask=mask, max_new_tokens=5).numpy()
    m = np.concatenate([mask.numpy(), np.ones((2, 5), np.int64)], 1)
    pos = np.cumsum(m, 1) - 1
    pos[m == 0] = 0
    with zoo.no_grad():
        full = gpt2(zoo.tensor(seqs), attention_mask=zoo.tensor(m), position_ids=zoo.tensor(pos)).logits.numpy()
        cache = DynamicCache()
        step = gpt2(zoo.tensor(seqs[:, :6]), attention_mask=zoo.tensor(m[:, :6]), position_ids=zoo.tensor(pos[:, :6]),
                    past_key_values=cache, use_cache=True).logits.numpy()
        got = [step[:, -1]]
        for t in range(6, 10):
            step = gpt2(zoo.tensor(seqs[:, t:t + 1]), attention_mask=zoo.tensor(m[:, :t + 1]),
                        position_ids=zoo.tensor(pos[:, t:t + 1]), past_key_values=cache, use_cache=True).logits
            got.append(step.numpy()[:, -1])
    np.testing.assert_allclose(np.stack(got, 1), full[:, 5:10], atol=1e-5, rtol=0)


def test_encoder_decoder_runs_the_encoder_once_and_one_decoder_position_per_step(monkeypatch, t5):
    encoder_calls = count_calls(monkeypatch, t5.encoder)
    calls = count_calls(monkeypatch, t5)
    ids = zoo.tensor([[3, 4, 5, 6, 7, 1]])
    out = t5.generate(ids, max_new_tokens=5, eos_token_id=None).numpy()
    assert out.shape == (1, 6) and out[0, 0] == t5.config.decoder_start_token_id
    assert len(encoder_calls) == 1  # the encoder output is reused at every step
    assert [c[0] for c in calls] == [(1, 1)] * 5
    again = t5.generate(ids, max_new_tokens=5, eos_token_id=None, use_cache=False).numpy()
    np.testing.assert_array_equal(out, again)


def test_dynamic_cache_grows_reorders_and_converts():
    cache = DynamicCache()
    k = zoo.tensor(np.arange(2 * 1 * 3 * 2, dtype=np.float32).reshape(2, 1, 3, 2))
    cache.update(k, k * 2, 0)
    for _ in range(40):  # past the spare room: the buffer grows
        cache.update(k[:, :, :1], k[:, :, :1], 0)
    assert cache.get_seq_length() == 43 and len(cache) == 1
    keys, values = cache[0]
    np.testing.assert_array_equal(keys.numpy()[:, :, :3], k.numpy())
    cache.reorder_cache(np.array([1, 1, 0]))
    assert tuple(cache[0][0].shape) == (3, 1, 43, 2)
    np.testing.assert_array_equal(cache[0][0].numpy()[0], cache[0][0].numpy()[1])
    legacy = DynamicCache.from_legacy_cache(cache.to_legacy_cache())
    np.testing.assert_array_equal(legacy[0][1].numpy(), cache[0][1].numpy())
    with pytest.raises(ValueError, match="batch, heads"):
        cache.update(k, k, 0)


def test_attention_mask_helper():
    assert causal_attention_mask(None, 5, 0) == (None, True)
    assert causal_attention_mask(None, 1, 7) == (None, False)
    mask, causal = causal_attention_mask(zoo.tensor([[0, 1, 1, 1]]), 2, 2)
    assert not causal
    np.testing.assert_array_equal(mask.numpy()[0, 0], [[False, True, True, False], [False, True, True, True]])


# ---- padding -------------------------------------------------------------------------------------------------
def test_left_padded_batch_equals_each_prompt_alone(gpt2):
    ids, mask = prompts()
    batch = gpt2.generate(ids, attention_mask=mask, max_new_tokens=8).numpy()
    alone0 = gpt2.generate(zoo.tensor([[5, 9, 3]]), max_new_tokens=8).numpy()
    alone1 = gpt2.generate(zoo.tensor([[7, 1, 8, 2, 4, 6]]), max_new_tokens=8).numpy()
    np.testing.assert_array_equal(batch[0, 3:], alone0[0])
    np.testing.assert_array_equal(batch[1], alone1[0])


def test_right_padding_is_flagged(gpt2):
    with pytest.warns(UserWarning, match="LEFT padding"):
        gpt2.generate(zoo.tensor([[5, 9, 0]]), attention_mask=zoo.tensor([[1, 1, 0]]), max_new_tokens=1)


# ---- sampling --------------------------------------------------------------------------------------------------
def test_sampling_is_reproducible_under_manual_seed(gpt2):
    ids, mask = prompts()
    kw = dict(attention_mask=mask, max_new_tokens=12, do_sample=True, top_k=0)
    zoo.manual_seed(123)
    a = gpt2.generate(ids, **kw).numpy()
    zoo.manual_seed(123)
    b = gpt2.generate(ids, **kw).numpy()
    zoo.manual_seed(124)
    c = gpt2.generate(ids, **kw).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g1, g2 = zoo.Generator().manual_seed(7), zoo.Generator().manual_seed(7)
    np.testing.assert_array_equal(gpt2.generate(ids, generator=g1, **kw).numpy(),
                                  gpt2.generate(ids, generator=g2, **kw).numpy())


def test_sampling_limits_reduce_to_greedy(gpt2):
    ids, mask = prompts()
    greedy = gpt2.generate(ids, attention_mask=mask, max_new_tokens=10).numpy()
    for kw in (dict(top_k=1), dict(top_p=0.0), dict(temperature=1e-4)):
        got = gpt2.generate(ids, attention_mask=mask, max_new_tokens=10, do_sample=True, **kw).numpy()
        np.testing.assert_array_equal(got, greedy, err_msg=str(kw))


def test_sampled_tokens_follow_the_distribution(gpt2):
    """Many one-token samples: their frequencies match the softmax of the logits (chi-square-like bound)."""
    ids = zoo.tensor([[5, 9, 3]] * 400)
    with zoo.no_grad():
        logits = gpt2(zoo.tensor([[5, 9, 3]])).logits.numpy()[0, -1].astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    zoo.manual_seed(0)
    tokens = gpt2.generate(ids, max_new_tokens=1, do_sample=True, top_k=0).numpy()[:, -1]
    freq = np.bincount(tokens, minlength=50) / 400
    assert np.abs(freq - p).max() < 0.08


def test_num_return_sequences_with_sampling(gpt2):
    zoo.manual_seed(3)
    out = gpt2.generate(zoo.tensor([[1, 2, 3]]), max_new_tokens=6, do_sample=True, num_return_sequences=4,
                        top_k=0, temperature=2.0).numpy()
    assert out.shape == (4, 9) and (out[:, :3] == [1, 2, 3]).all()
    assert len({tuple(r) for r in out}) > 1


def test_top_k_and_top_p_filters():
    s = np.log(np.array([[0.5, 0.2, 0.15, 0.1, 0.05]], np.float32))
    kept = np.isfinite(_top_k(s.copy(), 2))
    np.testing.assert_array_equal(kept, [[True, True, False, False, False]])
    # top_p = 0.8: the smallest set whose probability reaches 0.8 is {0.5, 0.2, 0.15}
    kept = np.isfinite(_top_p(s.copy(), 0.8))
    np.testing.assert_array_equal(kept, [[True, True, True, False, False]])
    kept = np.isfinite(_top_p(s.copy(), 0.5))
    np.testing.assert_array_equal(kept, [[True, False, False, False, False]])


def test_repetition_penalty_formula():
    scores = np.array([[2.0, -2.0, 1.0, -1.0]], np.float32)
    out = _repetition_penalty(scores.copy(), np.array([[0, 1, 1]]), 2.0)
    np.testing.assert_allclose(out, [[1.0, -4.0, 1.0, -1.0]])  # seen: positive / 2, negative * 2; unseen kept


def test_repetition_penalty_discourages_repeats(gpt2):
    ids = zoo.tensor([[4, 4, 4]])
    plain = gpt2.generate(ids, max_new_tokens=20).numpy()[0, 3:]
    penalised = gpt2.generate(ids, max_new_tokens=20, repetition_penalty=5.0).numpy()[0, 3:]
    assert len(set(penalised.tolist())) >= len(set(plain.tolist()))
    assert len(set(penalised.tolist())) >= 10


# ---- eos / pad -------------------------------------------------------------------------------------------------
def test_finished_sequences_are_padded_and_generation_stops(gpt2):
    ids, mask = prompts()
    free = gpt2.generate(ids, attention_mask=mask, max_new_tokens=10).numpy()
    eos = int(free[0, 8])  # the 3rd token of row 0
    row1_hits = np.flatnonzero(free[1, 6:] == eos)
    out = gpt2.generate(ids, attention_mask=mask, max_new_tokens=10, eos_token_id=eos, pad_token_id=49).numpy()
    first0 = int(np.flatnonzero(free[0, 6:] == eos)[0])
    assert out[0, 6 + first0] == eos and (out[0, 7 + first0:] == 49).all()
    np.testing.assert_array_equal(out[0, :7 + first0], free[0, :7 + first0])
    if row1_hits.size == 0:
        np.testing.assert_array_equal(out[1], free[1])
    # when every sequence has ended, generation stops early
    short = gpt2.generate(ids[:1], attention_mask=mask[:1], max_new_tokens=10, eos_token_id=eos).numpy()
    assert short.shape[1] == 7 + first0 and short[0, -1] == eos


def test_min_new_tokens_holds_back_eos(gpt2):
    ids = zoo.tensor([[5, 9, 3]])
    free = gpt2.generate(ids, max_new_tokens=6).numpy()
    eos = int(free[0, 3])  # the very first new token
    out = gpt2.generate(ids, max_new_tokens=6, eos_token_id=eos, min_new_tokens=4).numpy()
    assert eos not in out[0, 3:6].tolist()


# ---- streaming -------------------------------------------------------------------------------------------------
def test_streaming_callback_gets_every_new_token(gpt2):
    ids, mask = prompts()
    seen = []
    out = gpt2.generate(ids, attention_mask=mask, max_new_tokens=5, streamer=seen.append).numpy()
    assert len(seen) == 5 and all(isinstance(s, list) and len(s) == 2 for s in seen)
    np.testing.assert_array_equal(np.array(seen).T, out[:, 6:])

    class Streamer:  # Transformers' streamer interface
        def __init__(self):
            self.put_calls, self.ended = [], 0

        def put(self, value):
            self.put_calls.append(value.numpy().copy())

        def end(self):
            self.ended += 1

    s = Streamer()
    gpt2.generate(zoo.tensor([[1, 2]]), max_new_tokens=3, streamer=s)
    assert s.ended == 1 and len(s.put_calls) == 4
    np.testing.assert_array_equal(s.put_calls[0], [[1, 2]])


# ---- options and errors ----------------------------------------------------------------------------------------
def test_lengths(gpt2):
    ids = zoo.tensor([[1, 2, 3]])
    assert gpt2.generate(ids).shape[1] == 20  # Transformers' default max_length
    assert gpt2.generate(ids, max_length=8).shape[1] == 8
    assert gpt2.generate(ids, max_new_tokens=0).shape[1] == 3
    assert gpt2.generate([1, 2, 3], max_new_tokens=2).shape == (1, 5)  # a plain list is one prompt


def test_bad_options_raise_clear_errors(gpt2):
    ids = zoo.tensor([[1, 2, 3]])
    with pytest.raises(ValueError, match="greedy search"):
        gpt2.generate(ids, num_return_sequences=2)
    with pytest.raises(ValueError, match="temperature"):
        gpt2.generate(ids, do_sample=True, temperature=0.0)
    with pytest.raises(ValueError, match="top_p"):
        gpt2.generate(ids, do_sample=True, top_p=1.5)
    with pytest.raises(ValueError, match="num_return_sequences"):
        gpt2.generate(ids, num_beams=2, num_return_sequences=3)
    with pytest.raises(ValueError, match="exceed"):
        gpt2.generate(ids, max_new_tokens=100)
    with pytest.raises(ValueError, match="streaming"):
        gpt2.generate(ids, num_beams=2, streamer=print)
    with pytest.raises(TypeError, match="integer token ids"):
        gpt2.generate(zoo.tensor([[1.0, 2.0]]))
    with pytest.raises(TypeError, match="unexpected keyword"):
        gpt2.generate(ids, foo=1)
    with pytest.raises(ValueError, match="attention_mask has shape"):
        gpt2.generate(ids, attention_mask=zoo.tensor([[1, 1]]))
    with pytest.warns(UserWarning, match="do_sample"):
        gpt2.generate(ids, max_new_tokens=1, temperature=0.5)


def test_model_output_access():
    out = ModelOutput.__new__(type("O", (ModelOutput,), {"_fields": ("loss", "logits")}))
    type(out).__init__(out, logits=3)
    assert out.logits == 3 and out.loss is None and out[0] == 3 and list(out) == ["logits"]
    with pytest.raises(AttributeError):
        out.nothing  # noqa: B018
