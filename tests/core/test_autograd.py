"""The autograd engine: accumulation, graph freeing, hooks, grad modes, in-place safety, anomaly detection."""
import weakref

import numpy as np
import pytest
from helpers import arr, to_numpy

import zoo


def test_gradient_accumulates_over_paths_and_calls(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * x + x * 3  # two paths to x
    y.backward(zoo.ones(2, device=device))
    assert x.grad.tolist() == [5.0, 7.0]
    (x * 2).backward(zoo.ones(2, device=device))
    assert x.grad.tolist() == [7.0, 9.0]


def test_diamond_graph_runs_each_node_once(device):
    calls = []
    x = zoo.tensor([2.0], requires_grad=True, device=device)
    a = x.exp()
    a.register_hook(lambda g: calls.append(g.item()))
    (a * a + a).backward(zoo.ones(1, device=device))
    assert len(calls) == 1
    np.testing.assert_allclose(to_numpy(x.grad), [2 * np.exp(4) + np.exp(2)], rtol=1e-6)


def test_backward_non_scalar_needs_gradient():
    x = zoo.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()


def test_backward_gradient_shape_checked():
    x = zoo.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(zoo.ones(4))


def test_backward_twice_through_freed_graph(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * x
    y.backward(zoo.ones(2, device=device), retain_graph=True)
    y.backward(zoo.ones(2, device=device))
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(zoo.ones(2, device=device))


def test_backward_of_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        zoo.ones(()).backward()


def test_leaf_scalar_backward(device):
    x = zoo.tensor(3.0, requires_grad=True, device=device)
    x.backward()
    assert x.grad.item() == 1.0


def test_retain_grad_and_hooks(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
    (y * y).backward(zoo.ones(2, device=device))
    assert y.grad.tolist() == [60.0, 120.0]  # as in PyTorch 2: .grad is retained after the tensor's hooks
    assert x.grad.tolist() == [180.0, 360.0]
    assert seen == [[180.0, 360.0]]
    h.remove()
    x.grad = None
    (x * 1).backward(zoo.ones(2, device=device))
    assert len(seen) == 1


def test_non_leaf_grad_is_none_without_retain():
    x = zoo.tensor([1.0], requires_grad=True)
    y = x * 2
    (y * 1).backward(zoo.ones(1))
    assert y.grad is None and not y.is_leaf and x.is_leaf


def test_no_grad_and_set_grad_enabled():
    x = zoo.ones(2, requires_grad=True)
    with zoo.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with zoo.set_grad_enabled(False):
        assert not zoo.is_grad_enabled()
        with zoo.enable_grad():
            assert (x * 2).requires_grad
    assert zoo.is_grad_enabled()

    @zoo.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert zoo.is_grad_enabled()


def test_inference_mode():
    x = zoo.ones(2, requires_grad=True)
    with zoo.inference_mode():
        assert zoo.is_inference_mode_enabled()
        y = x * 2
    assert not y.requires_grad and not zoo.is_inference_mode_enabled()


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        zoo.tensor([1, 2], requires_grad=True)
    x = zoo.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    z = zoo.ones(2).requires_grad_()
    assert z.requires_grad


def test_detach_shares_memory_and_cuts_graph():
    x = zoo.ones(2, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.numpy()[0] = 5
    assert x.tolist() == [5.0, 1.0]


def test_autograd_grad_returns_without_touching_grad(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    w = zoo.tensor([3.0, 4.0], requires_grad=True, device=device)
    y = x * w
    gx, gw = zoo.autograd.grad(y, [x, w], zoo.ones(2, device=device))
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    unused = zoo.ones(1, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="not have been used"):
        zoo.autograd.grad(x * 2, [unused], zoo.ones(2, device=device))
    assert zoo.autograd.grad(x * 2, [unused], zoo.ones(2, device=device), allow_unused=True) == (None,)


def test_graph_is_freed_after_backward(device):
    x = zoo.ones(1000, requires_grad=True, device=device)
    y = x.exp()
    node = y.grad_fn
    ref = weakref.ref(node)
    (y * 1).backward(zoo.ones(1000, device=device))
    assert not node.__dict__  # saved arrays released
    del y, node
    assert ref() is None


# --- in-place ops and the version counter ------------------------------------------------------------------------

def test_inplace_on_leaf_requiring_grad_is_an_error(device):
    x = zoo.ones(2, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.add_(1)
    with zoo.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0]


def test_modifying_a_saved_tensor_is_detected(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 2
    z = y * y          # saves y
    y.add_(1)          # in place on y
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(zoo.ones(2, device=device))


def test_modifying_a_saved_output_is_detected(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x.exp()        # saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(zoo.ones(2, device=device))


def test_inplace_on_non_leaf_is_differentiable(device):
    x = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 1
    y.mul_(y)          # y = x^2, needs the old y for both operands
    y.add_(x)          # y = x^2 + x
    y.backward(zoo.ones(2, device=device))
    assert x.grad.tolist() == [3.0, 5.0]
    assert y.grad_fn is not None and y._version == 2


def test_inplace_versions_and_operators(device):
    x = zoo.zeros(3, device=device)
    v = x._version
    x += 1
    x *= 3
    x.clamp_(max=2.0)
    assert x.tolist() == [2.0, 2.0, 2.0] and x._version == v + 3
    with pytest.raises(RuntimeError, match="can't be cast"):
        zoo.zeros(2, dtype=zoo.int64, device=device).add_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        zoo.zeros(3, device=device).add_(zoo.ones(2, 3, device=device))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_detection_names_the_op(device):
    x = zoo.tensor([0.0, 1.0], requires_grad=True, device=device)
    with zoo.autograd.detect_anomaly():
        y = zoo.sqrt(x)
        with pytest.raises(RuntimeError, match="SqrtBackward.*nan or inf"):
            y.backward(zoo.ones(2, device=device))
    assert not zoo.autograd.is_anomaly_enabled()


def test_gradcheck_catches_a_wrong_gradient(device):
    class Wrong(zoo.autograd.Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * 3.0  # wrong on purpose

    x = zoo.tensor(arr(3), requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        zoo.gradcheck(lambda t: Wrong().apply(t), (x,))
    assert not zoo.gradcheck(lambda t: Wrong().apply(t), (x,), raise_exception=False)


def test_custom_function_double_output_use(device):
    class Cube(zoo.autograd.Function):
        def forward(self, x):
            self.x = x
            self.retain_inputs(0)
            return x ** 3

        def backward(self, g):
            return 3 * g * self.x ** 2
    x = zoo.tensor(arr(4), requires_grad=True, device=device)
    assert zoo.gradcheck(lambda t: Cube().apply(t) * Cube().apply(t), (x,))


def test_pytorch_style_custom_function(device):
    class Exp(zoo.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            y = x.exp() * scale
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y, None

    x = zoo.tensor(arr(3), requires_grad=True, device=device)
    y = Exp.apply(x, 2.0)
    assert y.grad_fn.name == "ExpBackward"
    assert zoo.gradcheck(lambda t: Exp.apply(t, 2.0), (x,))


def test_leaf_grads_are_private_writeable_arrays(device):
    a = zoo.ones(3, requires_grad=True, device=device)
    b = zoo.ones(3, requires_grad=True, device=device)
    (a + b).sum().backward()          # Add hands one array to both inputs; sum's gradient is a broadcast view
    a.grad.mul_(2)                    # in-place on a grad (as gradient clipping does)
    assert a.grad.tolist() == [2.0] * 3 and b.grad.tolist() == [1.0] * 3
    g = zoo.ones(3, device=device)
    x = zoo.ones(3, requires_grad=True, device=device)
    x.backward(g)
    x.grad.zero_()
    assert g.tolist() == [1.0] * 3


def test_implicit_root_gradient_is_one_even_for_inf(device):
    x = zoo.tensor([float("inf")], requires_grad=True, device=device)
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_fill_zero_copy(device):
    t = zoo.ones(2, 3, device=device)
    t.fill_(2.5)
    assert t.tolist() == [[2.5] * 3] * 2
    t.zero_()
    assert t.tolist() == [[0.0] * 3] * 2
    t.copy_(zoo.tensor([1, 2, 3], device=device))  # broadcast and cast
    assert t.tolist() == [[1.0, 2.0, 3.0]] * 2
    src = zoo.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    buf = zoo.zeros(2, 3, device=device)
    buf.copy_(src)
    (buf * 2).backward(zoo.ones(2, 3, device=device))
    assert src.grad.tolist() == [4.0, 4.0, 4.0]
    v = zoo.tensor(3.0, requires_grad=True, device=device)
    f = zoo.zeros(2, device=device)
    f.fill_(v)
    f.backward(zoo.ones(2, device=device))
    assert v.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="must match"):
        zoo.zeros(2, device=device).copy_(zoo.ones(3, device=device))
