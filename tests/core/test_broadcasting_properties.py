"""Property tests (hypothesis): broadcasting results and gradient shapes for any pair of broadcastable shapes."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zoo


@settings(max_examples=60, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       st.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_ops_broadcast_like_numpy(shapes, op):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(0)
    a_np = rng.uniform(0.5, 2, sa)
    b_np = rng.uniform(0.5, 2, sb)
    a = zoo.tensor(a_np, requires_grad=True)
    b = zoo.tensor(b_np, requires_grad=True)
    out = getattr(zoo, op)(a, b)
    expected = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op](a_np, b_np)
    assert out.shape == out_shape
    np.testing.assert_allclose(out.numpy(force=True), expected)
    out.backward(zoo.ones(out_shape, dtype=zoo.float64))
    assert a.grad.shape == sa and b.grad.shape == sb
    if op == "add":
        # each input element receives one unit of gradient per output element it was broadcast to
        np.testing.assert_allclose(a.grad.numpy(), np.full(sa, np.prod(out_shape) / max(np.prod(sa), 1)))
