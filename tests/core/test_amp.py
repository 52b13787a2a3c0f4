"""Mixed precision: autocast policies (float16 matmul-like ops, float32 softmax/losses, gradients in the inputs'
own dtypes) and GradScaler's dynamic loss scaling."""
import numpy as np
import pytest

import zoo
import zoo.nn.functional as F


def test_autocast_runs_matmul_like_ops_in_float16():
    a = zoo.randn(4, 8, requires_grad=True)
    w = zoo.randn(3, 8, requires_grad=True)
    with zoo.autocast("cpu"):
        assert zoo.is_autocast_enabled() if hasattr(zoo, "is_autocast_enabled") else zoo.amp.is_autocast_enabled()
        y = a @ w.t()
        z = F.linear(a, w)
        s = F.softmax(y, dim=-1)         # widened back to float32
        loss = F.cross_entropy(z, zoo.tensor([0, 1, 2, 0]))
    assert y.dtype is zoo.float16 and z.dtype is zoo.float16
    assert s.dtype is zoo.float32 and loss.dtype is zoo.float32
    loss.backward()
    assert a.grad.dtype is zoo.float32 and w.grad.dtype is zoo.float32
    ref_a = zoo.tensor(a.detach().numpy(), requires_grad=True)
    F.cross_entropy(F.linear(ref_a, w.detach()), zoo.tensor([0, 1, 2, 0])).backward()
    np.testing.assert_allclose(a.grad.numpy(), ref_a.grad.numpy(), atol=5e-3)
    assert not zoo.amp.is_autocast_enabled()


def test_autocast_only_on_its_device_type_and_can_be_disabled():
    a = zoo.randn(2, 2)
    with zoo.autocast("cuda"):
        assert (a @ a).dtype is zoo.float32  # cpu tensors are untouched by cuda autocast
    with zoo.autocast("cpu"):
        with zoo.autocast("cpu", enabled=False):
            assert (a @ a).dtype is zoo.float32
        assert (a @ a).dtype is zoo.float16

    @zoo.autocast("cpu")
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


def test_grad_scaler_scales_unscales_and_steps():
    w = zoo.tensor([1.0, 2.0], requires_grad=True)
    opt = _SGD([w], lr=0.1)
    scaler = zoo.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
    loss = (w * w).sum()
    scaled = scaler.scale(loss)
    assert scaled.item() == pytest.approx(loss.item() * 1024)
    scaled.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)  # gradient unscaled to 2w
    w.grad = None
    scaler.scale((w * w).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2048.0  # grew after growth_interval clean steps


def test_grad_scaler_skips_overflowing_steps_and_backs_off():
    w = zoo.tensor([1.0], requires_grad=True)
    opt = _SGD([w], lr=0.1)
    scaler = zoo.amp.GradScaler("cpu", init_scale=8.0)
    (w * float("inf")).sum().backward()
    assert scaler.step(opt) is None and opt.steps == 0
    scaler.update()
    assert scaler.get_scale() == 4.0 and w.item() == 1.0
    state = scaler.state_dict()
    other = zoo.amp.GradScaler("cpu")
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
