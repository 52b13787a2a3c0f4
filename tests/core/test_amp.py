"""Mixed precision: autocast policies (float16 matmul-like ops, float32 softmax/losses, gradients in the inputs'
own dtypes) and GradScaler's dynamic loss scaling."""
import numpy as np
import pytest
from helpers import to_numpy

import zoo
import zoo.nn.functional as F


def test_autocast_runs_matmul_like_ops_in_float16(device):
    a = zoo.randn(4, 8, requires_grad=True, device=device)
    w = zoo.randn(3, 8, requires_grad=True, device=device)
    target = zoo.tensor([0, 1, 2, 0], device=device)
    with zoo.autocast(device):
        assert zoo.is_autocast_enabled() if hasattr(zoo, "is_autocast_enabled") else zoo.amp.is_autocast_enabled()
        y = a @ w.t()
        z = F.linear(a, w)
        s = F.softmax(y, dim=-1)         # widened back to float32
        loss = F.cross_entropy(z, target)
    assert y.dtype is zoo.float16 and z.dtype is zoo.float16
    assert s.dtype is zoo.float32 and loss.dtype is zoo.float32
    loss.backward()
    assert a.grad.dtype is zoo.float32 and w.grad.dtype is zoo.float32
    ref_a = zoo.tensor(to_numpy(a), requires_grad=True, device=device)
    F.cross_entropy(F.linear(ref_a, w.detach()), target).backward()
    np.testing.assert_allclose(to_numpy(a.grad), to_numpy(ref_a.grad), atol=5e-3)
    assert not zoo.amp.is_autocast_enabled()


def test_autocast_only_on_its_device_type_and_can_be_disabled(device):
    a = zoo.randn(2, 2, device=device)
    with zoo.autocast("cuda" if device == "cpu" else "cpu"):
        assert (a @ a).dtype is zoo.float32  # tensors are untouched by the other device type's autocast
    with zoo.autocast(device):
        with zoo.autocast(device, enabled=False):
            assert (a @ a).dtype is zoo.float32
        assert (a @ a).dtype is zoo.float16

    @zoo.autocast(device)
    def f(x):
        return x @ x
    assert f(a).dtype is zoo.float16


def test_autocast_rejects_unsupported_dtype():
    with pytest.raises(NotImplementedError, match="bfloat16"):
        zoo.autocast("cpu", dtype="bfloat16")


class _SGD:
    """A minimal optimizer (param_groups + step) so these tests do not depend on zoo.optim."""

    def __init__(self, params, lr):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.steps = 0

    def step(self):
        self.steps += 1
        with zoo.no_grad():
            for p in self.param_groups[0]["params"]:
                p -= self.param_groups[0]["lr"] * p.grad


def test_grad_scaler_scales_unscales_and_steps(device):
    w = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    opt = _SGD([w], lr=0.1)
    scaler = zoo.amp.GradScaler(device, init_scale=1024.0, growth_interval=2)
    assert scaler.is_enabled()
    loss = (w * w).sum()
    scaled = scaler.scale(loss)
    assert scaled.item() == pytest.approx(loss.item() * 1024)
    scaled.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(to_numpy(w), [0.8, 1.6], rtol=1e-6)  # gradient unscaled to 2w
    w.grad = None
    scaler.scale((w * w).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2048.0  # grew after growth_interval clean steps


def test_grad_scaler_skips_overflowing_steps_and_backs_off(device):
    w = zoo.tensor([1.0], requires_grad=True, device=device)
    opt = _SGD([w], lr=0.1)
    scaler = zoo.amp.GradScaler(device, init_scale=8.0)
    (w * float("inf")).sum().backward()
    assert scaler.step(opt) is None and opt.steps == 0
    scaler.update()
    assert scaler.get_scale() == 4.0 and w.item() == 1.0
    state = scaler.state_dict()
    other = zoo.amp.GradScaler(device)
    other.load_state_dict(state)
    assert other.get_scale() == 4.0
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
        scaler.unscale_(opt)


def test_grad_scaler_on_cuda_without_gpu_disables_itself():
    if zoo.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning, match="Disabling"):
        scaler = zoo.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.scale(zoo.ones(1)).item() == 1.0


@pytest.mark.parametrize("name, fn", [
    ("sum", lambda y: y.sum()), ("sum dim", lambda y: y.sum(1)), ("prod", lambda y: (y * 0.1).prod(1)),
    ("cumsum", lambda y: y.cumsum(1)), ("norm", lambda y: y.norm()), ("exp", zoo.exp), ("log", lambda y: (y * y).log()),
    ("rsqrt", lambda y: (y * y + 1).rsqrt()), ("reciprocal", lambda y: (y * y + 1).reciprocal()),
    ("softplus", F.softplus), ("layer_norm", lambda y: F.layer_norm(y, (6,))),
    ("group_norm", lambda y: F.group_norm(y.reshape(2, 6, 1), 3)),
])
def test_autocast_runs_reductions_norms_and_transcendentals_in_float32(name, fn, device):
    """PyTorch's autocast float32 list: float16 activations are widened, gradients come back in float16."""
    x = zoo.randn(2, 6, requires_grad=True, device=device)
    w = zoo.randn(6, 6, device=device)
    with zoo.autocast(device):
        y = x @ w                      # float16
        assert y.dtype is zoo.float16
        out = fn(y)
    assert out.dtype is zoo.float32, name
    out.float().sum().backward()
    assert x.grad.dtype is zoo.float32 and np.isfinite(to_numpy(x.grad)).all()
    ref = fn(x.detach().half().float() @ w.half().float())  # the same values computed in float32 throughout
    np.testing.assert_allclose(to_numpy(out), to_numpy(ref), rtol=2e-2, atol=2e-2)


def test_autocast_float32_ops_leave_float32_and_float64_inputs_alone(device):
    x64 = zoo.randn(3, dtype=zoo.float64, device=device)
    with zoo.autocast(device):
        assert zoo.exp(x64).dtype is zoo.float64 and x64.sum().dtype is zoo.float64
        assert zoo.exp(x64.float()).dtype is zoo.float32
