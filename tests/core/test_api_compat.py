"""PyTorch names and behaviours ported scripts rely on: module paths, grad-mode decorators without parentheses,
unsupported features, NumPy interop, small semantics (``//`` gradients, sign of bools, no NumPy warnings),
device checks."""
import warnings

import numpy as np
import pytest

import zoo
from tests.helpers import check_grad


def test_pytorch_module_paths():
    import zoo.autograd
    import zoo.cuda
    import zoo.cuda.amp
    import zoo.utils.data.dataloader
    import zoo.utils.data.sampler
    from zoo.autograd import Function, grad  # noqa: F401
    from zoo.cuda.amp import GradScaler, autocast
    from zoo.nn.parameter import Parameter
    from zoo.utils.data.dataloader import DataLoader
    from zoo.utils.data.sampler import RandomSampler
    assert zoo.autograd is zoo.core.autograd and zoo.cuda.amp.GradScaler is GradScaler is zoo.amp.GradScaler
    assert Parameter is zoo.nn.Parameter and DataLoader is zoo.utils.data.DataLoader
    assert RandomSampler is zoo.utils.data.RandomSampler
    with autocast(enabled=False):
        assert not zoo.amp.is_autocast_enabled()


@pytest.mark.parametrize("name, feature", [("compile", "torch.compile"), ("jit", "torch.jit"),
                                           ("backends", "torch.backends"), ("distributed", "torch.distributed")])
def test_unsupported_features_raise_not_implemented(name, feature):
    assert hasattr(zoo, name)
    thing = getattr(zoo, name)
    with pytest.raises(NotImplementedError, match=feature.replace(".", r"\.")):
        thing(zoo.nn.Linear(2, 2)) if name == "compile" else thing.script


def test_grad_mode_decorators_without_parentheses():
    x = zoo.ones(2, requires_grad=True)

    @zoo.no_grad
    def f(t):
        return (t * 2).requires_grad

    @zoo.inference_mode
    def g(t):
        return (t * 2).requires_grad

    @zoo.enable_grad
    def h(t):
        return (t * 2).requires_grad

    assert f(x) is False and g(x) is False and f.__name__ == "f"
    with zoo.no_grad():
        assert h(x) is True


def test_numpy_array_op_tensor_gives_tensor():
    a = np.array([1.0, 2.0])
    t = zoo.tensor([3.0, 4.0])
    for r, want in ((a * t, [3.0, 8.0]), (a - t, [-2.0, -2.0]), (a / t, [1 / 3, 0.5]), (a ** t, [1.0, 16.0])):
        assert isinstance(r, zoo.Tensor)
        np.testing.assert_allclose(r.numpy(), want)


def test_type_as_and_pin_memory():
    assert zoo.ones(2).type_as(zoo.ones(1, dtype=zoo.float64)).dtype == zoo.float64
    assert not zoo.ones(2).is_pinned()
    if not zoo.cuda.is_available():
        with pytest.raises(RuntimeError, match="accelerator"):
            zoo.ones(2).pin_memory()


def test_floor_divide_keeps_requires_grad_with_zero_gradient():
    a = zoo.tensor([1.5, -2.5], requires_grad=True)
    b = a // 1
    assert b.requires_grad
    b.sum().backward()
    assert a.grad.tolist() == [0.0, 0.0]


def test_sign_of_bool():
    assert zoo.sign(zoo.tensor([True, False])).tolist() == [True, False]


@pytest.mark.parametrize("fn", [lambda: zoo.log(zoo.tensor([0.0, -1.0])), lambda: zoo.tensor([1.0, 0.0]) / 0,
                                lambda: zoo.tensor([0.0]) % 0.0, lambda: zoo.tensor([1.0]) // 0.0,
                                lambda: zoo.tensor([0.0]) ** -1.0, lambda: zoo.rsqrt(zoo.tensor([0.0]))])
def test_no_numpy_warnings_leak(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn()


@pytest.mark.parametrize("fn", [lambda x: x.sqrt(), lambda x: x ** 0.5, lambda x: x ** zoo.tensor([0.5, 2.0]),
                                lambda x: x.log()])
def test_no_numpy_warnings_leak_in_backward(fn):
    x = zoo.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(x).sum().backward()


def test_gpu_index_comparison():
    from zoo.core.autograd.function import same_gpu

    class FakeDevice:
        def __init__(self, i):
            self.id = i

    class FakeArray:
        def __init__(self, i):
            self.device = FakeDevice(i)

    assert same_gpu(FakeArray(0), FakeArray(0)) and not same_gpu(FakeArray(0), FakeArray(1))


@pytest.mark.gpu
def test_mixing_two_gpus_raises_naming_both():
    if not zoo.cuda.is_available() or zoo.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    a, b = zoo.ones(2, device="cuda:0"), zoo.ones(2, device="cuda:1")
    with pytest.raises(RuntimeError, match="cuda:0 and cuda:1"):
        a + b


def test_cross_entropy_probability_targets_ignore_index():
    x = zoo.randn(3, 4)
    t = zoo.softmax(zoo.randn(3, 4), 1)
    F = zoo.nn.functional
    assert F.cross_entropy(x, t, ignore_index=-5).item() == F.cross_entropy(x, t).item()
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, t, ignore_index=1)


def test_floor_divide_and_remainder_grad():
    a = np.array([[1.3, -2.7, 3.1]])
    check_grad(lambda x: x % 0.7, a)
    check_grad(lambda x: x // 0.7 + x, a)
