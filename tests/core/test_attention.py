"""scaled_dot_product_attention: float64 gradchecks (masks of both kinds, causal, broadcast batch dims, scale,
grouped-query attention, dropout with a fixed seed), oracle comparisons with PyTorch, and bad-input errors."""
import numpy as np
import pytest
from helpers import compare_with_torch, arr, check_grad, to_numpy, torch_or_skip

import zoo
import zoo.nn.functional as F

sdpa = F.scaled_dot_product_attention


def bool_mask(*shape, seed=0, full_row=False):
    m = np.random.default_rng(seed).random(shape) < 0.6
    m[..., 0] = True  # every query sees at least one key …
    if full_row:
        m[..., 1, :] = False  # … except this one: its output and gradients are zeros (as in PyTorch)
    return m


CASES = {
    "plain": ((2, 3, 4), (2, 5, 4), (2, 5, 3), {}),
    "scale": ((2, 3, 4), (2, 5, 4), (2, 5, 3), {"scale": 0.7}),
    "2d": ((3, 4), (5, 4), (5, 2), {}),
    "broadcast_batch": ((2, 1, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3), {}),
    "causal_L<S": ((2, 3, 4), (2, 5, 4), (2, 5, 3), {"is_causal": True}),
    "causal_L>S": ((2, 5, 4), (2, 3, 4), (2, 3, 3), {"is_causal": True}),
    "gqa": ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3), {"enable_gqa": True}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sdpa_grad(case, device):
    qs, ks, vs, kw = CASES[case]
    check_grad(lambda q, k, v: sdpa(q, k, v, **kw), arr(*qs), arr(*ks, seed=1), arr(*vs, seed=2), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdpa_vs_torch(case, dtype, device):
    torch = torch_or_skip()
    qs, ks, vs, kw = CASES[case]
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == np.float32 else {}
    compare_with_torch(lambda q, k, v: sdpa(q, k, v, **kw),
                       lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
        q, k, v, **kw), arr(*qs, dtype=dtype), arr(*ks, seed=1, dtype=dtype), arr(*vs, seed=2, dtype=dtype), **tol,
        device=device)


MASKS = {  # query, key, value and mask shapes
    "same": ((2, 3, 4), (2, 5, 4), (2, 5, 3), (2, 3, 5)),
    "broadcast": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), (2, 1, 3, 5)),
    "2d": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), (3, 5)),
    "gqa_per_head": ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3), (4, 3, 5)),
    "gqa_shared": ((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), (2, 1, 3, 5)),
}


@pytest.mark.parametrize("kind", ["bool", "bool_full_row", "float"])
@pytest.mark.parametrize("case", list(MASKS))
def test_sdpa_mask_grad(case, kind, device):
    qs, ks, vs, ms = MASKS[case]
    gqa = case.startswith("gqa")
    arrays = [arr(*qs), arr(*ks, seed=1), arr(*vs, seed=2)]
    if kind == "float":  # the additive mask is differentiable too
        check_grad(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, enable_gqa=gqa), *arrays, arr(*ms, seed=3),
                   device=device)
    else:
        m = zoo.tensor(bool_mask(*ms, full_row=kind == "bool_full_row"), device=device)
        check_grad(lambda q, k, v: sdpa(q, k, v, attn_mask=m, enable_gqa=gqa), *arrays, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["bool", "bool_full_row", "float", "float_full_row"])
@pytest.mark.parametrize("case", list(MASKS))
def test_sdpa_mask_vs_torch(case, kind, device):
    torch = torch_or_skip()
    qs, ks, vs, ms = MASKS[case]
    gqa = case.startswith("gqa")
    if kind.startswith("bool"):
        m = bool_mask(*ms, full_row=kind == "bool_full_row")
    else:
        m = arr(*ms, seed=3, low=-2, high=2)
        if kind == "float_full_row":
            m[..., 1, :] = -np.inf
    compare_with_torch(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, enable_gqa=gqa),
           lambda q, k, v, m: torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=gqa),
           arr(*qs), arr(*ks, seed=1), arr(*vs, seed=2), m, device=device)


def test_sdpa_fully_masked_row_is_zero(device):
    m = np.ones((3, 5), bool)
    m[1] = False
    q, k, v = (zoo.tensor(arr(2, 3, 4), requires_grad=True, device=device),
               zoo.tensor(arr(2, 5, 4, seed=1), requires_grad=True, device=device),
               zoo.tensor(arr(2, 5, 3, seed=2), requires_grad=True, device=device))
    out = sdpa(q, k, v, attn_mask=zoo.tensor(m, device=device))
    assert np.all(to_numpy(out)[:, 1] == 0) and np.isfinite(to_numpy(out)).all()
    out.backward(zoo.tensor(np.ones((2, 3, 3)), device=device))
    assert np.all(to_numpy(q.grad)[:, 1] == 0) and np.isfinite(to_numpy(k.grad)).all()


def test_sdpa_keeps_float32_and_non_contiguous():
    q = arr(2, 4, 3, dtype=np.float32)  # used as (2, 3, 4) via a transpose
    k, v = arr(2, 5, 4, seed=1, dtype=np.float32), arr(2, 5, 3, seed=2, dtype=np.float32)
    a = zoo.Tensor._make(q.transpose(0, 2, 1), requires_grad=True)
    b = zoo.tensor(np.ascontiguousarray(q.transpose(0, 2, 1)), requires_grad=True)
    outs = []
    for t in (a, b):
        out = sdpa(t, zoo.tensor(k), zoo.tensor(v), scale=0.5)
        assert out.dtype == zoo.float32
        out.backward(zoo.tensor(np.ones((2, 3, 3), np.float32)))
        outs.append(out.detach().numpy())
    assert a.grad.dtype == zoo.float32
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_sdpa_split_heads_gradients_follow_the_projection_layout(device):
    """Heads split off one (batch, time, 3 x features) projection: the values and the projection's gradient equal
    those of contiguous copies, and on the CPU q/k/v's gradients come laid out as q/k/v are (no copies back)."""
    from zoo.core.nn.functional.attention import _grad_like
    B, T, H, D = 2, 5, 3, 4
    proj = arr(B, T, 3 * H * D, dtype=np.float32)
    grads, outs = [], []
    for copy in (False, True):
        x = zoo.tensor(proj, device=device, requires_grad=True)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in x.split(H * D, dim=2))
        if copy:
            q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        out = sdpa(q, k, v, is_causal=True)
        (out * zoo.tensor(arr(*out.shape, seed=3, dtype=np.float32), device=device)).sum().backward()
        outs.append(to_numpy(out))
        grads.append(to_numpy(x.grad))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
    view = proj[..., :H * D].reshape(B, T, H, D).transpose(0, 2, 1, 3)
    g = _grad_like(np, view, view.shape[:-2], 1)
    assert g.shape == view.shape and np.argsort(g.strides).tolist() == np.argsort(view.strides).tolist()
    assert _grad_like(np, np.ascontiguousarray(view), view.shape[:-2], 1) is None  # contiguous: a plain new array


def test_sdpa_output_merges_heads_without_a_copy():
    """(B, H, T, D) attention returns its output stored as (B, T, H, D), as PyTorch's CPU kernel does: merging the
    heads (transpose, contiguous, view) shares its memory, and values and gradients equal a contiguous output's."""
    B, T, H, D = 2, 5, 3, 4
    q, k, v = (zoo.tensor(arr(B, H, T, D, seed=s, dtype=np.float32), requires_grad=True) for s in (0, 1, 2))
    out = sdpa(q, k, v, is_causal=True)
    merged = out.transpose(1, 2).contiguous().view(B, T, H * D)
    assert np.shares_memory(merged.detach().numpy(), out.detach().numpy())
    w = zoo.tensor(arr(B, T, H * D, seed=3, dtype=np.float32))
    (merged * w).sum().backward()
    ref = [zoo.tensor(t.detach().numpy(), requires_grad=True) for t in (q, k, v)]
    ref_out = sdpa(*ref, is_causal=True)
    ref_merged = zoo.tensor(np.ascontiguousarray(ref_out.detach().numpy().transpose(0, 2, 1, 3))).view(B, T, H * D)
    np.testing.assert_array_equal(merged.detach().numpy(), ref_merged.numpy())
    (ref_out * w.view(B, T, H, D).transpose(1, 2)).sum().backward()
    for a, b in zip((q, k, v), ref):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_sdpa_empty(device):
    out = sdpa(zoo.tensor(arr(2, 3, 4), device=device), zoo.tensor(arr(2, 0, 4), device=device),
               zoo.tensor(arr(2, 0, 2), device=device))
    assert out.shape == (2, 3, 2) and not to_numpy(out).any()
    assert sdpa(zoo.tensor(arr(0, 3, 4), device=device), zoo.tensor(arr(0, 5, 4), device=device),
                zoo.tensor(arr(0, 5, 2), device=device)).shape == (0, 3, 2)


# ------------------------------------------------------------------------------------------------------------
# dropout
# ------------------------------------------------------------------------------------------------------------

def test_sdpa_dropout_statistics_and_seed(device):
    # uniform attention over S keys with v = identity: each output entry is keep / (1 - p) / S
    S, L, p = 8, 2000, 0.25
    q = zoo.tensor(np.zeros((L, 4), np.float32), device=device)
    k = zoo.tensor(np.zeros((S, 4), np.float32), device=device)
    v = zoo.tensor(np.eye(S, dtype=np.float32), device=device)
    zoo.manual_seed(5)
    out = to_numpy(sdpa(q, k, v, dropout_p=p))
    assert out.dtype == np.float32
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - p) / S, rtol=1e-6)
    assert abs(kept.mean() - (1 - p)) < 0.02
    zoo.manual_seed(5)
    np.testing.assert_array_equal(to_numpy(sdpa(q, k, v, dropout_p=p)), out)
    assert not to_numpy(sdpa(q, k, v, dropout_p=1.0)).any()


def test_sdpa_dropout_grad(device):
    def f(q, k, v, m):
        zoo.manual_seed(3)  # the same dropout mask on every evaluation
        return sdpa(q, k, v, attn_mask=m, dropout_p=0.4)
    check_grad(f, arr(2, 3, 4), arr(2, 5, 4, seed=1), arr(2, 5, 3, seed=2), arr(3, 5, seed=3), device=device)


# ------------------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------------------

def test_sdpa_errors():
    q, k, v = zoo.tensor(arr(2, 3, 4)), zoo.tensor(arr(2, 5, 4)), zoo.tensor(arr(2, 5, 3))
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        sdpa(q, k, v, attn_mask=zoo.tensor(np.ones((3, 5), bool)), is_causal=True)
    with pytest.raises(RuntimeError, match="same floating point dtype.*float64, float32 and float64"):
        sdpa(q, k.to(zoo.float32), v)
    with pytest.raises(RuntimeError, match=r"query \(2, 3, 4\) and key \(2, 5, 3\) must have the same feature"):
        sdpa(q, zoo.tensor(arr(2, 5, 3)), v)
    with pytest.raises(RuntimeError, match=r"key \(2, 5, 4\) and value \(2, 4, 3\) must have the same sequence"):
        sdpa(q, k, zoo.tensor(arr(2, 4, 3)))
    with pytest.raises(RuntimeError, match=r"attn_mask \(4, 5\) \(must broadcast to \(…, 3, 5\)\)"):
        sdpa(q, k, v, attn_mask=zoo.tensor(np.ones((4, 5), bool)))
    with pytest.raises(RuntimeError, match="attn_mask dtype to be bool or to match query dtype float64, got int64"):
        sdpa(q, k, v, attn_mask=zoo.tensor(np.ones((3, 5), np.int64)))
    with pytest.raises(RuntimeError, match=r"batch dimensions of query \(2, 3, 4\), key \(3, 5, 4\)"):
        sdpa(q, zoo.tensor(arr(3, 5, 4)), zoo.tensor(arr(3, 5, 3)))
    q4, k4 = zoo.tensor(arr(1, 3, 2, 4)), zoo.tensor(arr(1, 2, 5, 4))
    with pytest.raises(RuntimeError, match="must be equal and divide the number of query heads"):
        sdpa(q4, k4, zoo.tensor(arr(1, 2, 5, 3)), enable_gqa=True)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        sdpa(q4, k4, zoo.tensor(arr(1, 2, 5, 3)))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        sdpa(zoo.tensor(arr(4)), k, v)
