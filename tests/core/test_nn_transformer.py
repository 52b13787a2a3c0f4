"""MultiheadAttention and the Transformer layers: PyTorch oracles (state_dict names and shapes, weights copied,
outputs, attention weights, input and parameter gradients) with masks of every kind, need_weights both ways,
unbatched and batch_first inputs; default init; dropout in train/eval; argument errors. A few checks run without
PyTorch (shapes, masking semantics, float64 gradchecks)."""
import math

import numpy as np
import pytest
from helpers import arr, check_grad, compare_module_with_torch, copy_weights, to_numpy, torch_or_skip

import zoo
import zoo.nn as nn
import zoo.nn.functional as F

E, H, N, L, S = 8, 2, 3, 4, 6


# ----------------------------------------------------------------------------------------------------------------
# masks
# ----------------------------------------------------------------------------------------------------------------

def _blocked(shape, seed):
    """A random bool "may not attend" pattern that leaves the first key free for every query."""
    m = np.random.default_rng(seed).random(shape) < 0.4
    m[..., 0] = False
    return m


def _float_mask(shape, seed):
    """An additive float mask: random values, -inf where _blocked says so."""
    return np.where(_blocked(shape, seed), -np.inf, arr(*shape, seed=seed + 10))


def make_masks(kind, n, l, s, h=H, batched=True):
    """MultiheadAttention keyword masks of one kind, for n batches (ignored when unbatched), l queries, s keys."""
    lead = (n * h,) if batched else (h,)
    kpm_shape = (n, s) if batched else (s,)
    return {
        "none": {},
        "attn_bool_2d": {"attn_mask": _blocked((l, s), 1)},
        "attn_float_2d": {"attn_mask": _float_mask((l, s), 2)},
        "attn_bool_3d": {"attn_mask": _blocked(lead + (l, s), 3)},
        "attn_float_3d": {"attn_mask": _float_mask(lead + (l, s), 4)},
        "kpm_bool": {"key_padding_mask": _blocked(kpm_shape, 5)},
        "kpm_float": {"key_padding_mask": _float_mask(kpm_shape, 6)},
        "both_bool": {"attn_mask": _blocked((l, s), 7), "key_padding_mask": _blocked(kpm_shape, 8)},
        "both_float_3d": {"attn_mask": _float_mask(lead + (l, s), 9), "key_padding_mask": _float_mask(kpm_shape, 10)},
    }[kind]


MASK_KINDS = ["none", "attn_bool_2d", "attn_float_2d", "attn_bool_3d", "attn_float_3d", "kpm_bool", "kpm_float",
              "both_bool", "both_float_3d"]

MHA_CONFIGS = {
    "plain": dict(),
    "kdim_vdim": dict(kdim=3, vdim=5),
    "bias_kv_zero_attn": dict(add_bias_kv=True, add_zero_attn=True),
    "no_bias": dict(bias=False),
    "batch_first": dict(batch_first=True),
}


def mha_inputs(cfg, self_attention, batched=True, l=L, s=S):
    """query, key, value arrays in the layer's layout; the same array three times for self-attention."""
    lead_q = ((N, l) if cfg.get("batch_first") else (l, N)) if batched else (l,)
    lead_k = ((N, s) if cfg.get("batch_first") else (s, N)) if batched else (s,)
    q = arr(*lead_q, E, seed=11)
    if self_attention:
        return [q, q, q]
    return [q, arr(*lead_k, cfg.get("kdim", E), seed=12), arr(*lead_k, cfg.get("vdim", E), seed=13)]


@pytest.mark.oracle
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", MASK_KINDS)
@pytest.mark.parametrize("config", list(MHA_CONFIGS))
def test_mha_vs_torch(config, mask, need_weights, average):
    torch = torch_or_skip()
    cfg = MHA_CONFIGS[config]
    self_attention = config in ("plain", "no_bias")
    s = L if self_attention else S
    kw = dict(make_masks(mask, N, L, s), need_weights=need_weights, average_attn_weights=average)
    torch.manual_seed(0)
    out = compare_module_with_torch(nn.MultiheadAttention(E, H, **cfg), torch.nn.MultiheadAttention(E, H, **cfg),
                                    mha_inputs(cfg, self_attention, s=s), kw)
    assert out[0].shape == ((N, L, E) if cfg.get("batch_first") else (L, N, E))
    if need_weights:
        s += 2 if cfg.get("add_bias_kv") else 0  # bias_k and the zero-attention key are appended to the keys
        assert out[1].shape == ((N, L, s) if average else (N, H, L, s))


@pytest.mark.oracle
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", MASK_KINDS)
def test_mha_float32_vs_torch(mask, need_weights):
    torch = torch_or_skip()
    compare_module_with_torch(nn.MultiheadAttention(E, H), torch.nn.MultiheadAttention(E, H), mha_inputs({}, False),
                              dict(make_masks(mask, N, L, S), need_weights=need_weights), dtype=np.float32)


@pytest.mark.oracle
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", MASK_KINDS)
@pytest.mark.parametrize("config", ["plain", "kdim_vdim", "bias_kv_zero_attn", "batch_first"])
def test_mha_unbatched_vs_torch(config, mask, need_weights, average):
    torch = torch_or_skip()
    cfg = MHA_CONFIGS[config]
    kw = dict(make_masks(mask, 1, L, S, batched=False), need_weights=need_weights, average_attn_weights=average)
    out = compare_module_with_torch(nn.MultiheadAttention(E, H, **cfg), torch.nn.MultiheadAttention(E, H, **cfg),
                                    mha_inputs(cfg, False, batched=False), kw)
    assert out[0].shape == (L, E)


@pytest.mark.oracle
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("with_kpm", [False, True])
def test_mha_is_causal_vs_torch(need_weights, with_kpm):
    """is_causal is a hint that comes with the causal attn_mask; with no padding mask and no weights wanted the
    fused causal path runs instead of the mask."""
    torch = torch_or_skip()
    causal = np.triu(np.ones((L, L), bool), 1)
    kw = {"attn_mask": causal, "is_causal": True, "need_weights": need_weights}
    if with_kpm:
        kw["key_padding_mask"] = _blocked((N, L), 3)
    compare_module_with_torch(nn.MultiheadAttention(E, H), torch.nn.MultiheadAttention(E, H), mha_inputs({}, True), kw)


@pytest.mark.oracle
def test_mha_state_dict_names_repr_and_init_vs_torch():
    torch = torch_or_skip()
    for cfg in MHA_CONFIGS.values():
        zm, tm = nn.MultiheadAttention(E, H, **cfg), torch.nn.MultiheadAttention(E, H, **cfg)
        zs, ts = zm.state_dict(), tm.state_dict()
        assert list(zs) == list(ts)
        assert [tuple(v.shape) for v in zs.values()] == [tuple(v.shape) for v in ts.values()]
        assert [n for n, _ in zm.named_parameters()] == [n for n, _ in tm.named_parameters()]
        assert repr(zm) == repr(tm)
        for k in ts:  # zero biases are zero in both; the random tensors share their bound
            zv, tv = zs[k].numpy(), ts[k].numpy()
            if not tv.any():
                assert not zv.any(), k
            elif "bias_" not in k:
                bound = max(np.abs(tv).max(), np.abs(zv).max())
                fan_in, fan_out = tv.shape[1], tv.shape[0]
                limit = math.sqrt(6 / (fan_in + fan_out)) if "proj_weight" in k else 1 / math.sqrt(fan_in)
                assert bound <= limit, k


def test_mha_parameters_and_init(device):
    zoo.manual_seed(0)
    m = nn.MultiheadAttention(256, 4, add_bias_kv=True, device=device)  # initialised on the device
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                                      "out_proj.weight", "out_proj.bias"]
    assert m.q_proj_weight is None and m._qkv_same_embed_dim and m.head_dim == 64
    w = to_numpy(m.in_proj_weight)
    bound = math.sqrt(6 / (256 + 3 * 256))  # xavier_uniform_ over the packed (3E, E) matrix
    assert w.shape == (768, 256) and np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert not to_numpy(m.in_proj_bias).any() and not to_numpy(m.out_proj.bias).any()
    ow = to_numpy(m.out_proj.weight)
    assert np.abs(ow).max() <= 1 / 16 and np.abs(ow).max() > 0.95 / 16  # Linear's default, U(+-1/sqrt(E))
    bk = to_numpy(m.bias_k)  # xavier_normal_ on (1, 1, E): std sqrt(2 / (E + E))
    assert bk.shape == (1, 1, 256) and abs(bk.std() - 1 / 16) < 0.25 / 16
    sep = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False, dtype=zoo.float64, device=device)
    assert [(n, tuple(p.shape)) for n, p in sep.named_parameters()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)), ("out_proj.weight", (8, 8))]
    assert sep.in_proj_weight is None and sep.in_proj_bias is None and sep.bias_k is None
    assert sep.q_proj_weight.dtype == zoo.float64
    assert all(p.device.type == device for p in [*m.parameters(), *sep.parameters()])


def test_mha_masking_semantics_without_torch(device):
    """A blocked key gets zero weight; bool and additive float masks agree; the weights path and the fused
    path agree; averaged weights are the mean of the per-head ones; unbatched equals a batch of one."""
    m = nn.MultiheadAttention(E, H, dtype=zoo.float64, device=device)
    q, k, v = (zoo.tensor(a, device=device) for a in mha_inputs({}, False))
    blocked = _blocked((N, S), 2)
    kpm = zoo.tensor(blocked, device=device)
    bool_out, w = m(q, k, v, key_padding_mask=kpm)
    assert np.all(to_numpy(w)[np.broadcast_to(blocked[:, None, :], (N, L, S))] == 0)
    np.testing.assert_allclose(to_numpy(w).sum(-1), 1.0)
    float_out, _ = m(q, k, v, key_padding_mask=zoo.tensor(np.where(blocked, -np.inf, 0.0), device=device))
    fused_out, none = m(q, k, v, key_padding_mask=kpm, need_weights=False)
    assert none is None
    np.testing.assert_allclose(to_numpy(float_out), to_numpy(bool_out), atol=1e-12)
    np.testing.assert_allclose(to_numpy(fused_out), to_numpy(bool_out), atol=1e-12)
    _, per_head = m(q, k, v, key_padding_mask=kpm, average_attn_weights=False)
    np.testing.assert_allclose(to_numpy(per_head).mean(1), to_numpy(w), atol=1e-12)
    one, w1 = m(q[:, :1][:, 0], k[:, :1][:, 0], v[:, :1][:, 0])
    batch, wb = m(q[:, :1], k[:, :1], v[:, :1])
    np.testing.assert_allclose(to_numpy(one), to_numpy(batch)[:, 0], atol=1e-12)
    np.testing.assert_allclose(to_numpy(w1), to_numpy(wb)[0], atol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_gradcheck(need_weights, device):
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=zoo.float64, device=device)
    mask = zoo.tensor(_blocked((3, 5), 4), device=device)
    check_grad(lambda q, k, v: m(q, k, v, attn_mask=mask, need_weights=need_weights)[0],
               arr(3, 2, 4), arr(5, 2, 4, seed=1), arr(5, 2, 4, seed=2), device=device)
    check_grad(lambda w: F.linear(w, m.in_proj_weight, None).sum() + m(w, w, w, need_weights=need_weights)[0],
               arr(3, 2, 4), device=device)


def test_mha_dropout_train_and_eval(device):
    m = nn.MultiheadAttention(E, H, dropout=0.5, device=device)
    q, k, v = (zoo.tensor(a.astype(np.float32), device=device) for a in mha_inputs({}, False))
    zoo.manual_seed(1)
    a, wa = m(q, k, v)
    zoo.manual_seed(1)
    b, _ = m(q, k, v)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))  # reproducible under a seed
    kept = to_numpy(wa)
    m.eval()
    c, wc = m(q, k, v)
    d, _ = m(q, k, v, need_weights=False)
    assert not np.allclose(to_numpy(a), to_numpy(c))
    np.testing.assert_allclose(to_numpy(wc).sum(-1), 1.0, rtol=1e-6)  # no dropout in eval
    np.testing.assert_allclose(to_numpy(c), to_numpy(d), atol=1e-6)
    assert not np.allclose(kept.sum(-1), 1.0)  # dropout zeroes and rescales the weights while training


def test_mha_errors():
    m = nn.MultiheadAttention(E, H)
    q = zoo.randn(L, N, E)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(8, 0)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(q, q, q, is_causal=True)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(4, 5\), but should be \(4, 4\)"):
        m(q, q, q, attn_mask=zoo.zeros(4, 5, dtype=zoo.bool))
    with pytest.raises(RuntimeError, match=r"The shape of the 3D attn_mask is \(2, 4, 4\), but should be \(6, 4, 4\)"):
        m(q, q, q, attn_mask=zoo.zeros(2, 4, 4))
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask are supported"):
        m(q, q, q, attn_mask=zoo.zeros(4, 4, dtype=zoo.int64))
    with pytest.raises(RuntimeError, match="expected key_padding_mask to be bool or of the query's dtype float32"):
        m(q, q, q, key_padding_mask=zoo.zeros(N, L, dtype=zoo.float64))
    with pytest.raises(AssertionError, match=r"expecting key_padding_mask shape of \(3, 4\), but got \(3, 5\)"):
        m(q, q, q, key_padding_mask=zoo.zeros(N, 5, dtype=zoo.bool))
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D tensor"):
        m(zoo.randn(1, L, N, E), q, q)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D but found 2-D and 3-D"):
        m(q, q[0], q)
    with pytest.raises(AssertionError, match="expected `key_padding_mask` to be `None` or 1-D"):
        m(q[:, 0], q[:, 0], q[:, 0], key_padding_mask=zoo.zeros(1, L, dtype=zoo.bool))
    with pytest.raises(AssertionError, match=r"Expected `attn_mask` shape to be \(2, 4, 4\)"):
        m(q[:, 0], q[:, 0], q[:, 0], attn_mask=zoo.zeros(6, L, L))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 6"):
        m(zoo.randn(L, N, 6), q, q)
    with pytest.raises(AssertionError, match="does not match value shape"):
        m(q, q, zoo.randn(5, N, E))


# ----------------------------------------------------------------------------------------------------------------
# Transformer layers
# ----------------------------------------------------------------------------------------------------------------

def _activations(torch):
    """(zoo, torch) pairs for the activation argument: strings, functions, a module, a custom callable."""
    return {
        "relu": ("relu", "relu"),
        "gelu": ("gelu", "gelu"),
        "F.gelu": (F.gelu, torch.nn.functional.gelu),
        "module": (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
        "callable": (lambda x: F.silu(x) * 0.5, lambda x: torch.nn.functional.silu(x) * 0.5),
    }


LAYER_CONFIGS = {
    "post_norm": dict(),
    "norm_first": dict(norm_first=True),
    "batch_first_no_bias": dict(batch_first=True, bias=False, layer_norm_eps=1e-3),
}
D, FF = 8, 16


def seq(n_len, batch_first, seed, batched=True):
    if not batched:
        return arr(n_len, D, seed=seed)
    return arr(N, n_len, D, seed=seed) if batch_first else arr(n_len, N, D, seed=seed)


def encoder_masks(kind, n_len, batched=True):
    kpm = (N, n_len) if batched else (n_len,)
    causal = np.triu(np.ones((n_len, n_len), bool), 1)
    return {
        "none": {},
        "bool": {"src_mask": _blocked((n_len, n_len), 1), "src_key_padding_mask": _blocked(kpm, 2)},
        "float": {"src_mask": _float_mask((n_len, n_len), 3), "src_key_padding_mask": _float_mask(kpm, 4)},
        "mask_3d": {"src_mask": _blocked(((N if batched else 1) * 2, n_len, n_len), 5)},
        "causal": {"src_mask": np.where(causal, -np.inf, 0.0), "is_causal": True},
        "causal_kpm": {"src_mask": causal, "is_causal": True, "src_key_padding_mask": _blocked(kpm, 6)},
    }[kind]


@pytest.mark.oracle
@pytest.mark.parametrize("masks", ["none", "bool", "float", "mask_3d", "causal", "causal_kpm"])
@pytest.mark.parametrize("config", list(LAYER_CONFIGS))
def test_encoder_layer_vs_torch(config, masks):
    torch = torch_or_skip()
    cfg = dict(LAYER_CONFIGS[config], dim_feedforward=FF, dropout=0.0)
    compare_module_with_torch(nn.TransformerEncoderLayer(D, 2, **cfg), torch.nn.TransformerEncoderLayer(D, 2, **cfg),
                              [seq(5, cfg.get("batch_first", False), 1)], encoder_masks(masks, 5))


@pytest.mark.oracle
@pytest.mark.parametrize("activation", ["relu", "gelu", "F.gelu", "module", "callable"])
def test_encoder_layer_activations_vs_torch(activation):
    torch = torch_or_skip()
    za, ta = _activations(torch)[activation]
    zm = nn.TransformerEncoderLayer(D, 2, FF, 0.0, activation=za)
    tm = torch.nn.TransformerEncoderLayer(D, 2, FF, 0.0, activation=ta)
    assert zm.activation_relu_or_gelu == tm.activation_relu_or_gelu
    compare_module_with_torch(zm, tm, [seq(5, False, 1)], encoder_masks("bool", 5))


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encoder_layer_unbatched_float32_and_eval_vs_torch(dtype):
    """Unbatched input, float32, and eval mode with a non-zero dropout (the identity then)."""
    torch = torch_or_skip()
    zm, tm = nn.TransformerEncoderLayer(D, 2, FF, 0.3), torch.nn.TransformerEncoderLayer(D, 2, FF, 0.3)
    zm.eval()
    tm.eval()
    compare_module_with_torch(zm, tm, [seq(5, False, 1, batched=False)], encoder_masks("bool", 5, batched=False),
                              dtype=dtype)


def decoder_masks(kind, t_len, m_len):
    causal = np.triu(np.ones((t_len, t_len), bool), 1)
    return {
        "none": {},
        "bool": {"tgt_mask": _blocked((t_len, t_len), 1), "memory_mask": _blocked((t_len, m_len), 2),
                 "tgt_key_padding_mask": _blocked((N, t_len), 3), "memory_key_padding_mask": _blocked((N, m_len), 4)},
        "float": {"tgt_mask": _float_mask((t_len, t_len), 5), "memory_key_padding_mask": _float_mask((N, m_len), 6)},
        "causal": {"tgt_mask": causal, "tgt_is_causal": True, "memory_mask": _float_mask((t_len, m_len), 7)},
    }[kind]


@pytest.mark.oracle
@pytest.mark.parametrize("masks", ["none", "bool", "float", "causal"])
@pytest.mark.parametrize("config", list(LAYER_CONFIGS))
def test_decoder_layer_vs_torch(config, masks):
    torch = torch_or_skip()
    cfg = dict(LAYER_CONFIGS[config], dim_feedforward=FF, dropout=0.0)
    bf = cfg.get("batch_first", False)
    compare_module_with_torch(nn.TransformerDecoderLayer(D, 2, **cfg), torch.nn.TransformerDecoderLayer(D, 2, **cfg),
                              [seq(4, bf, 1), seq(6, bf, 2)], decoder_masks(masks, 4, 6))


@pytest.mark.oracle
@pytest.mark.parametrize("activation", ["gelu", "module", "callable"])
def test_decoder_layer_activations_vs_torch(activation):
    torch = torch_or_skip()
    za, ta = _activations(torch)[activation]
    compare_module_with_torch(nn.TransformerDecoderLayer(D, 2, FF, 0.0, activation=za),
                              torch.nn.TransformerDecoderLayer(D, 2, FF, 0.0, activation=ta),
                              [seq(4, False, 1), seq(6, False, 2)], decoder_masks("bool", 4, 6))


@pytest.mark.oracle
@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("masks", ["none", "float", "causal", "causal_kpm"])
def test_encoder_stack_vs_torch(masks, norm):
    torch = torch_or_skip()
    kw = encoder_masks(masks, 5)
    kw["mask"] = kw.pop("src_mask", None)
    if "is_causal" not in kw:
        kw["is_causal"] = None  # the stack's default
    zl = nn.TransformerEncoderLayer(D, 2, FF, 0.0, norm_first=True)
    tl = torch.nn.TransformerEncoderLayer(D, 2, FF, 0.0, norm_first=True)
    zm = nn.TransformerEncoder(zl, 3, nn.LayerNorm(D) if norm else None)
    tm = torch.nn.TransformerEncoder(tl, 3, torch.nn.LayerNorm(D) if norm else None, enable_nested_tensor=False)
    compare_module_with_torch(zm, tm, [seq(5, False, 1)], kw)


@pytest.mark.oracle
@pytest.mark.parametrize("masks", ["none", "bool", "causal"])
def test_decoder_stack_vs_torch(masks):
    torch = torch_or_skip()
    zm = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, 2, FF, 0.0, batch_first=True), 2, nn.LayerNorm(D))
    tm = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(D, 2, FF, 0.0, batch_first=True), 2,
                                     torch.nn.LayerNorm(D))
    compare_module_with_torch(zm, tm, [seq(4, True, 1), seq(6, True, 2)], decoder_masks(masks, 4, 6))


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_vs_torch(batch_first):
    torch = torch_or_skip()
    cfg = dict(d_model=D, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF, dropout=0.0,
               batch_first=batch_first)
    zm, tm = nn.Transformer(**cfg), torch.nn.Transformer(**cfg)
    kw = {"tgt_mask": np.where(np.triu(np.ones((4, 4), bool), 1), -np.inf, 0.0), "tgt_is_causal": True,
          "src_key_padding_mask": _blocked((N, 5), 1), "memory_key_padding_mask": _blocked((N, 5), 1)}
    compare_module_with_torch(zm, tm, [seq(5, batch_first, 1), seq(4, batch_first, 2)], kw)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert mask.dtype == zoo.float32


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_transformer_names_and_repr_vs_torch():
    torch = torch_or_skip()
    pairs = [
        (nn.TransformerEncoderLayer(D, 2, FF), torch.nn.TransformerEncoderLayer(D, 2, FF)),
        (nn.TransformerDecoderLayer(D, 2, FF, activation=nn.GELU()),
         torch.nn.TransformerDecoderLayer(D, 2, FF, activation=torch.nn.GELU())),
        (nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 2, FF, bias=False), 2),
         torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, 2, FF, bias=False), 2,
                                     enable_nested_tensor=False)),
        (nn.Transformer(D, 2, 1, 2, FF), torch.nn.Transformer(D, 2, 1, 2, FF)),
    ]
    for i, (zm, tm) in enumerate(pairs):
        zs, ts = zm.state_dict(), tm.state_dict()
        assert list(zs) == list(ts)
        assert [tuple(v.shape) for v in zs.values()] == [tuple(v.shape) for v in ts.values()]
        if i < 2:  # (the stacks' reprs depend on ModuleList's, which PyTorch prints with repeats folded)
            assert repr(zm) == repr(tm)


def test_encoder_stack_deep_copies_the_layer(device):
    layer = nn.TransformerEncoderLayer(D, 2, FF, 0.0, device=device)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and w0 is not layer.linear1.weight
    assert w0.device.type == w1.device.type == device and w0.data_ptr() != layer.linear1.weight.data_ptr()
    np.testing.assert_array_equal(to_numpy(w0), to_numpy(layer.linear1.weight))
    np.testing.assert_array_equal(to_numpy(w0), to_numpy(w1))
    assert enc.num_layers == 2 and enc.norm is None and len(list(enc.parameters())) == 2 * len(list(layer.parameters()))
    assert list(enc.state_dict())[0] == "layers.0.self_attn.in_proj_weight"


def test_transformer_layers_without_torch(device):
    """Shapes, masking (a padded source position cannot change other outputs) and a float64 gradcheck."""
    kw = dict(dtype=zoo.float64, device=device)
    enc = nn.TransformerEncoderLayer(4, 2, 8, 0.0, batch_first=True, **kw)
    x = arr(2, 5, 4)
    blocked = np.zeros((2, 5), bool)
    blocked[:, -1] = True
    kpm = zoo.tensor(blocked, device=device)
    y = to_numpy(enc(zoo.tensor(x, device=device), src_key_padding_mask=kpm))
    x2 = x.copy()
    x2[:, -1] += 10.0
    y2 = to_numpy(enc(zoo.tensor(x2, device=device), src_key_padding_mask=kpm))
    np.testing.assert_allclose(y[:, :-1], y2[:, :-1], atol=1e-12)
    causal = nn.Transformer.generate_square_subsequent_mask(5, **kw)
    y3 = to_numpy(enc(zoo.tensor(x2, device=device), src_mask=causal, is_causal=True))
    y4 = to_numpy(enc(zoo.tensor(x, device=device), src_mask=causal, is_causal=True))
    np.testing.assert_allclose(y3[:, :-1], y4[:, :-1], atol=1e-12)  # the future does not leak backwards
    check_grad(lambda t: enc(t, src_mask=causal), x, device=device)
    dec = nn.TransformerDecoderLayer(4, 2, 8, 0.0, norm_first=True, **kw)
    check_grad(lambda t, m: dec(t, m, tgt_mask=causal[:3, :3]), arr(3, 2, 4), arr(5, 2, 4, seed=1), device=device)
    model = nn.Transformer(4, 2, 1, 1, 8, 0.0, **kw)
    assert model(zoo.tensor(arr(5, 2, 4), device=device), zoo.tensor(arr(3, 2, 4), device=device)).shape == (3, 2, 4)
    for name, p in model.named_parameters():
        if p.dim() > 1:  # xavier_uniform_ everywhere
            fan_out, fan_in = p.shape
            assert np.abs(to_numpy(p)).max() <= math.sqrt(6 / (fan_in + fan_out)), name
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(zoo.randn(5, 2, 4, **kw), zoo.randn(3, 3, 4, **kw))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(zoo.randn(5, 2, 4, **kw), zoo.randn(3, 2, 6, **kw))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_row_vs_torch(need_weights, device):
    """A batch whose every key is padded: NaN through the weights path, zeros through the fused path — as in
    PyTorch."""
    torch = torch_or_skip()
    tm = torch.nn.MultiheadAttention(E, H).double()
    zm = nn.MultiheadAttention(E, H, dtype=zoo.float64)
    copy_weights(zm, tm)
    zm.to(device)
    x = arr(L, N, E)
    kpm = np.zeros((N, L), bool)
    kpm[1] = True
    t = tm(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)[0]
    z = zm(*[zoo.tensor(x, device=device)] * 3, key_padding_mask=zoo.tensor(kpm, device=device),
           need_weights=need_weights)[0]
    assert np.isnan(to_numpy(z)[:, 1]).all() == need_weights
    np.testing.assert_allclose(to_numpy(z), to_numpy(t), atol=1e-12)


def test_attention_layers_on_device(device):
    """The layers run where their parameters live and agree with the CPU result."""
    zoo.manual_seed(0)
    enc = nn.TransformerEncoderLayer(D, 2, FF, 0.0, batch_first=True)
    x = arr(2, 5, D).astype(np.float32)
    blocked = zoo.tensor(_blocked((2, 5), 1))
    ref = enc(zoo.tensor(x), src_key_padding_mask=blocked).detach().numpy()
    enc.to(device)
    y = enc(zoo.tensor(x, device=device), src_key_padding_mask=blocked.to(device))
    assert y.device == zoo.device(device)
    np.testing.assert_allclose(y.detach().cpu().numpy(), ref, atol=1e-5)
    mha = nn.MultiheadAttention(D, 2, batch_first=True, device=device)
    out, w = mha(*[zoo.tensor(x, device=device)] * 3, key_padding_mask=blocked.to(device))
    assert out.device == zoo.device(device) and w.shape == (2, 5, 5)
