"""zoo.nn.utils: gradient clipping (by total norm, by value) and parameter/vector conversion, checked against
NumPy formulas and PyTorch."""
import math

import numpy as np
import pytest
from helpers import arr, copy_weights, to_numpy, torch_or_skip

import zoo
import zoo.nn as nn
from zoo.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]


def _params(device="cpu", dtype=np.float32, scale=1.0, with_none=True):
    """Parameters with known gradients (one without a gradient, which clipping must skip)."""
    ps = []
    for i, s in enumerate(SHAPES):
        p = nn.Parameter(zoo.tensor(arr(*s, seed=i, dtype=dtype), device=device))
        p.grad = zoo.tensor(arr(*s, seed=10 + i, low=-2, high=2, dtype=dtype) * scale, device=device)
        ps.append(p)
    if with_none:
        ps.append(nn.Parameter(zoo.ones(2, device=device)))
    return ps


def _np_total(grads, p):
    if p == 0:  # PyTorch's total is the 0-"norm" of the per-tensor norms: the number of nonzero gradients
        return float(sum(bool(np.any(g)) for g in grads))
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    if p == math.inf:
        return np.abs(flat).max()
    if p == -math.inf:
        return np.abs(flat).min()
    return (np.abs(flat) ** p).sum() ** (1 / p)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5, 0])
@pytest.mark.parametrize("scale", [1.0, 0.01])  # clipped, and below max_norm (left alone)
def test_clip_grad_norm_values(norm_type, scale, device):
    ps = _params(device, scale=scale)
    grads = [to_numpy(p.grad).copy() for p in ps if p.grad is not None]
    p = float(norm_type)
    expected_total = _np_total(grads, p)
    max_norm = 1.5
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    assert isinstance(total, zoo.Tensor) and total.shape == () and total.dtype == zoo.float32
    assert total.device.type == device
    np.testing.assert_allclose(total.item(), expected_total, rtol=1e-5)
    coef = min(max_norm / (expected_total + 1e-6), 1.0)
    for g0, param in zip(grads, ps):
        np.testing.assert_allclose(to_numpy(param.grad), g0 * coef, rtol=1e-5, atol=1e-7)
    assert ps[-1].grad is None
    if scale == 1.0 and p in (1.0, 2.0, 3.5, math.inf):
        np.testing.assert_allclose(get_total_norm([q.grad for q in ps[:-1]], p).item(), max_norm, rtol=1e-4)


def test_clip_grad_norm_float64_and_single_tensor(device):
    ps = _params(device, dtype=np.float64, with_none=False)
    g = to_numpy(ps[0].grad).copy()
    total = clip_grad_norm_(ps[0], 0.1)  # a single tensor, not a list
    assert total.dtype == zoo.float64
    np.testing.assert_allclose(total.item(), np.linalg.norm(g), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(ps[0].grad), g * 0.1 / (np.linalg.norm(g) + 1e-6), rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    assert clip_grad_norm_([], 1.0).item() == 0.0
    assert clip_grad_norm_([nn.Parameter(zoo.ones(2))], 1.0).item() == 0.0  # no gradients
    p = nn.Parameter(zoo.ones(3))
    p.grad = zoo.tensor([1.0, math.nan, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_([p], 1.0)  # without the check the NaN norm is returned and propagates
    assert math.isnan(total.item())
    p.grad = zoo.tensor([math.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, norm_type="inf", error_if_nonfinite=True)
    q = nn.Parameter(zoo.ones(2))
    q.grad = zoo.tensor([3.0, 4.0])
    v = q.grad._version
    clip_grad_norm_(q, 1.0)
    assert q.grad._version > v  # modified in place
    q.grad = zoo.zeros(2)
    assert clip_grad_norm_(q, 1.0).item() == 0.0
    np.testing.assert_array_equal(to_numpy(q.grad), 0)
    h = nn.Parameter(zoo.ones(2, dtype=zoo.float16))
    h.grad = zoo.tensor([300.0, 400.0], dtype=zoo.float16)
    assert clip_grad_norm_(h, 1.0).item() == 500.0 and h.grad.dtype == zoo.float16


def test_clip_grad_norm_is_gradient_free_and_keeps_grad_objects():
    lin = nn.Linear(4, 3)
    lin(zoo.randn(8, 4)).pow(2).sum().backward()
    g = lin.weight.grad
    total = clip_grad_norm_(lin.parameters(), 0.01)  # a generator works
    assert lin.weight.grad is g and not total.requires_grad
    np.testing.assert_allclose(get_total_norm([lin.weight.grad, lin.bias.grad]).item(), 0.01, rtol=1e-4)


def test_clip_grads_with_norm_and_get_total_norm():
    ps = _params(with_none=False)
    grads = [to_numpy(p.grad).copy() for p in ps]
    total = get_total_norm([p.grad for p in ps], norm_type=2.0)
    np.testing.assert_allclose(total.item(), _np_total(grads, 2), rtol=1e-6)
    assert all(np.array_equal(to_numpy(p.grad), g) for p, g in zip(ps, grads))  # get_total_norm changes nothing
    clip_grads_with_norm_(ps, 1.0, total)
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(to_numpy(p.grad), g / (total.item() + 1e-6), rtol=1e-6)
    assert get_total_norm([]).item() == 0.0


def test_clip_grad_value(device):
    ps = _params(device)
    grads = [to_numpy(p.grad).copy() for p in ps if p.grad is not None]
    assert clip_grad_value_(ps, 0.7) is None
    for g0, p in zip(grads, ps):
        np.testing.assert_array_equal(to_numpy(p.grad), np.clip(g0, -0.7, 0.7))
    q = nn.Parameter(zoo.ones(2))
    q.grad = zoo.tensor([5.0, -5.0])
    clip_grad_value_(q, 2)
    np.testing.assert_array_equal(to_numpy(q.grad), [2.0, -2.0])


@pytest.mark.oracle
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0, 0.5, 0.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_vs_torch(norm_type, dtype):
    torch = torch_or_skip()
    zs = _params(dtype=dtype)
    ts = []
    for p in zs:
        t = torch.nn.Parameter(torch.tensor(to_numpy(p)))
        t.grad = None if p.grad is None else torch.tensor(to_numpy(p.grad))
        ts.append(t)
    zt = clip_grad_norm_(zs, 0.8, norm_type)
    tt = torch.nn.utils.clip_grad_norm_(ts, 0.8, norm_type)
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(zt.item(), tt.item(), **tol)
    assert to_numpy(zt).dtype == tt.numpy().dtype
    for z, t in zip(zs, ts):
        if t.grad is None:
            assert z.grad is None
        else:
            np.testing.assert_allclose(to_numpy(z.grad), t.grad.numpy(), **tol)
    clip_grad_value_(zs, 0.05)
    torch.nn.utils.clip_grad_value_(ts, 0.05)
    for z, t in zip(zs, ts):
        if t.grad is not None:
            np.testing.assert_allclose(to_numpy(z.grad), t.grad.numpy(), **tol)


# ------------------------------------------------------------------------------------------------------------
# parameters_to_vector / vector_to_parameters
# ------------------------------------------------------------------------------------------------------------


def test_parameters_to_vector_and_back(device):
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)).to(device)
    vec = parameters_to_vector(m.parameters())
    expected = np.concatenate([to_numpy(p).ravel() for p in m.parameters()])
    assert vec.shape == (11,) and vec.device.type == device
    np.testing.assert_array_equal(to_numpy(vec), expected)
    new = zoo.arange(11, dtype=zoo.float32, device=device)
    params = list(m.parameters())
    vector_to_parameters(new, m.parameters())
    assert all(p is q for p, q in zip(params, m.parameters()))  # the same Parameter objects
    np.testing.assert_array_equal(to_numpy(m[0].weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(to_numpy(m[2].bias), [10])
    with zoo.no_grad():
        new[0] = 100.0  # the parameters view the vector's memory, as with PyTorch's `param.data = ...`
    assert to_numpy(m[0].weight)[0, 0] == 100.0
    assert m(zoo.ones(1, 3, device=device)).shape == (1, 1)


def test_parameters_to_vector_is_differentiable():
    a, b = nn.Parameter(zoo.ones(2, 2)), nn.Parameter(zoo.ones(3))
    v = parameters_to_vector([a, b])
    (v * zoo.arange(7, dtype=zoo.float32)).sum().backward()
    np.testing.assert_array_equal(to_numpy(a.grad), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(to_numpy(b.grad), [4, 5, 6])


def test_vector_to_parameters_errors():
    ps = [nn.Parameter(zoo.ones(2, 2)), nn.Parameter(zoo.ones(3))]
    with pytest.raises(TypeError, match="expected zoo.Tensor"):
        vector_to_parameters(np.zeros(7), ps)
    with pytest.raises(RuntimeError, match="at least 7 elements"):
        vector_to_parameters(zoo.zeros(6), ps)
    with pytest.raises(RuntimeError, match="1-D"):
        vector_to_parameters(zoo.zeros(7, 1), ps)


@pytest.mark.oracle
def test_vector_conversion_vs_torch():
    torch = torch_or_skip()
    t = torch.nn.Linear(3, 2)
    z = nn.Linear(3, 2)
    copy_weights(z, t)
    np.testing.assert_array_equal(to_numpy(parameters_to_vector(z.parameters())),
                                  torch.nn.utils.parameters_to_vector(t.parameters()).detach().numpy())


# ------------------------------------------------------------------------------------------------------------
# conv + batch norm fusion
# ------------------------------------------------------------------------------------------------------------

def _conv_bn(device="cpu", bias=False, groups=1):
    conv = nn.Conv2d(4, 6 if groups == 1 else 4, 3, padding=1, bias=bias, groups=groups).to(device)
    bn = nn.BatchNorm2d(conv.out_channels).to(device)
    with zoo.no_grad():  # non-trivial statistics and affine
        bn.running_mean.copy_(zoo.tensor(arr(bn.num_features, seed=3), device=device))
        bn.running_var.copy_(zoo.tensor(arr(bn.num_features, seed=4, low=0.5, high=2), device=device))
        bn.weight.copy_(zoo.tensor(arr(bn.num_features, seed=5), device=device))
        bn.bias.copy_(zoo.tensor(arr(bn.num_features, seed=6), device=device))
    return conv.eval(), bn.eval()


@pytest.mark.parametrize("bias,groups", [(False, 1), (True, 1), (False, 4)])
def test_fuse_conv_bn_eval_equals_conv_then_bn(bias, groups, device):
    from zoo.nn.utils.fusion import fuse_conv_bn_eval
    conv, bn = _conv_bn(device, bias, groups)
    x = zoo.tensor(arr(2, 4, 7, 7, seed=7, dtype=np.float32), device=device)
    fused = fuse_conv_bn_eval(conv, bn)
    assert fused is not conv and fused.bias is not None
    assert (conv.bias is None) == (not bias)  # the original module is left as it was
    np.testing.assert_allclose(to_numpy(fused(x)), to_numpy(bn(conv(x))), rtol=1e-5, atol=1e-5)
    with pytest.raises(AssertionError, match="evaluation"):
        fuse_conv_bn_eval(conv.train(), bn)


@pytest.mark.oracle
def test_fuse_conv_bn_weights_vs_torch():
    torch = torch_or_skip()
    from torch.nn.utils.fusion import fuse_conv_bn_weights as torch_fuse
    from zoo.nn.utils.fusion import fuse_conv_bn_weights
    conv, bn = _conv_bn(bias=True)
    args = (conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    ours = fuse_conv_bn_weights(*args)
    ref = torch_fuse(*(torch.tensor(to_numpy(a)) if isinstance(a, zoo.Tensor) else a for a in args))
    for o, r in zip(ours, ref):
        assert isinstance(o, nn.Parameter)
        np.testing.assert_allclose(to_numpy(o), r.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_conv_bn_folds_only_in_eval_without_autograd_and_follows_changes(device):
    from zoo.nn.utils.fusion import conv_bn
    conv, bn = _conv_bn(device)
    x = zoo.tensor(arr(2, 4, 7, 7, seed=8, dtype=np.float32), device=device)
    with zoo.no_grad():
        expected = to_numpy(bn(conv(x)))
        np.testing.assert_allclose(to_numpy(conv_bn(conv, bn, x)), expected, rtol=1e-5, atol=1e-5)
        # an in-place change of a running statistic or a weight is seen (the folded weight is remade)
        bn.running_mean.add_(1.0)
        conv.weight.mul_(0.5)
        np.testing.assert_allclose(to_numpy(conv_bn(conv, bn, x)), to_numpy(bn(conv(x))), rtol=1e-5, atol=1e-5)
        # so is a state dict loaded into the modules
        conv.load_state_dict({"weight": conv.weight * 2})
        np.testing.assert_allclose(to_numpy(conv_bn(conv, bn, x)), to_numpy(bn(conv(x))), rtol=1e-5, atol=1e-5)
    # with autograd on, gradients reach batch norm's parameters (no folding)
    y = conv_bn(conv, bn, x)
    y.sum().backward()
    assert bn.weight.grad is not None and conv.weight.grad is not None
    # in training mode batch statistics are used and the running ones updated
    bn.train()
    before = to_numpy(bn.running_mean).copy()
    with zoo.no_grad():
        conv_bn(conv, bn, x)
    assert not np.allclose(to_numpy(bn.running_mean), before)
    # hooks on either module still run (the folded path would skip them)
    bn.eval()
    calls = []
    bn.register_forward_hook(lambda m, i, o: calls.append(1))
    with zoo.no_grad():
        conv_bn(conv, bn, x)
    assert calls == [1]
