"""Elementwise ops: gradients (float64 gradcheck), PyTorch parity, promotion and bad input."""
import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, torch_or_skip

import zoo

BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"]
UNARY_ANY = ["neg", "exp", "sin", "cos", "tanh", "sigmoid", "relu", "silu", "mish", "abs", "atan", "sinh",
             "cosh", "expm1", "square", "softplus", "elu", "leaky_relu"]
UNARY_POSITIVE = ["log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal"]


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (3,)), ((0, 3), (3,))])
def test_binary_grad(op, shapes, device):
    f = getattr(zoo, op)
    a = arr(*shapes[0])
    b = arr(*shapes[1], seed=1, low=0.5, high=2.0)
    check_grad(f, a, b, device=device)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "remainder", "maximum", "minimum"])
def test_binary_grad_noncontiguous(op, device):
    # the views are taken inside the checked function: leaves made by zoo.tensor are always contiguous
    f = getattr(zoo, op)
    check_grad(lambda a, b: f(a.transpose(0, 1), b[::2]), arr(3, 4, low=0.5, high=2),
               arr(8, 3, seed=1, low=0.5, high=2), device=device)


@pytest.mark.parametrize("scalar", [2, 2.5, -1.5])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
def test_scalar_operand_grad(op, scalar, device):
    f = getattr(zoo, op)
    check_grad(lambda a: f(a, scalar), arr(2, 3, low=0.5, high=2), device=device)
    if op != "pow":
        check_grad(lambda a: f(scalar, a) if op in ("add", "mul") else getattr(zoo, op)(zoo.full((), scalar,
                   dtype=zoo.float64, device=device), a), arr(2, 3, low=0.5, high=2), device=device)


def test_pow_grads(device):
    check_grad(zoo.pow, arr(2, 3, low=0.5, high=2), arr(2, 3, seed=1), device=device)
    check_grad(lambda b: 2.0 ** b, arr(4), device=device)
    check_grad(lambda a: a ** 3, arr(4), device=device)
    check_grad(lambda a: a ** 0.5, arr(4, low=0.5, high=2), device=device)


def test_remainder_grad(device):
    check_grad(zoo.remainder, arr(5, low=1, high=5), arr(5, seed=3, low=0.7, high=0.9), device=device)


@pytest.mark.parametrize("op", UNARY_ANY)
def test_unary_grad(op, device):
    check_grad(getattr(zoo, op), arr(3, 4, low=-2, high=2), device=device)
    check_grad(getattr(zoo, op), arr(), device=device)
    check_grad(getattr(zoo, op), arr(0, 2), device=device)
    check_grad(lambda x: getattr(zoo, op)(x.transpose(0, 1)[:, ::2]), arr(4, 3, low=-2, high=2), device=device)


@pytest.mark.parametrize("op", UNARY_POSITIVE)
def test_unary_positive_grad(op, device):
    check_grad(getattr(zoo, op), arr(3, 4, low=0.5, high=3), device=device)


def test_parametrised_activation_grads(device):
    x = arr(3, 4, low=-3, high=3)
    check_grad(lambda t: zoo.leaky_relu(t, 0.2), x, device=device)
    check_grad(lambda t: zoo.elu(t, alpha=0.7), x, device=device)
    check_grad(lambda t: zoo.softplus(t, beta=2.0, threshold=1.0), x, device=device)
    check_grad(lambda t: zoo.hardtanh(t, -0.5, 0.5), x, device=device)


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (None, 0.2), (-0.2, None)])
def test_clamp_grad(lo, hi, device):
    check_grad(lambda t: zoo.clamp(t, lo, hi), arr(3, 4), device=device)


def test_clamp_tensor_bounds_grad(device):
    check_grad(lambda t, lo, hi: zoo.clamp(t, lo, hi), arr(3, 4), arr(4, seed=1, low=-1, high=-0.2),
               arr(3, 1, seed=2, low=0.2, high=1), device=device)


def test_where_grad(device):
    cond = zoo.tensor(arr(3, 4, seed=5) > 0, device=device)
    check_grad(lambda a, b: zoo.where(cond, a, b), arr(3, 4), arr(4, seed=1), device=device)
    check_grad(lambda a: zoo.where(cond, a, 0.0), arr(3, 4), device=device)


def test_maximum_ties_split_gradient(device):
    a = zoo.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    b = zoo.tensor([1.0, 1.0, 4.0], requires_grad=True, device=device)
    zoo.maximum(a, b).backward(zoo.ones(3, device=device))
    assert a.grad.tolist() == [0.5, 1.0, 0.0]
    assert b.grad.tolist() == [0.5, 0.0, 1.0]


# --- dtype promotion (PyTorch's rules) -------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,expected", [
    (zoo.int64, zoo.float32, zoo.float32), (zoo.int32, zoo.int64, zoo.int64), (zoo.uint8, zoo.int8, zoo.int16),
    (zoo.bool, zoo.int8, zoo.int8), (zoo.float16, zoo.float32, zoo.float32), (zoo.bool, zoo.bool, zoo.bool),
])
def test_promote_types(a, b, expected, device):
    assert zoo.promote_types(a, b) is expected
    x, y = zoo.ones(2, dtype=a, device=device), zoo.ones(2, dtype=b, device=device)
    assert (x + y).dtype is expected


def test_scalar_promotion_like_pytorch(device):
    i = zoo.tensor([1, 2], device=device)
    assert (i + 1).dtype is zoo.int64
    assert (i + 1.5).dtype is zoo.float32
    assert (i / 2).dtype is zoo.float32
    assert (zoo.ones(2, dtype=zoo.float16, device=device) * 2.5).dtype is zoo.float16
    assert (zoo.tensor([True], device=device) + 1).dtype is zoo.int64
    assert (zoo.ones(2, dtype=zoo.int8, device=device) + 1).dtype is zoo.int8
    # a 0-d tensor only wins with a higher category
    assert (zoo.ones(2, device=device) + zoo.tensor(1.0, dtype=zoo.float64, device=device)).dtype is zoo.float32
    assert (i + zoo.tensor(1.5, dtype=zoo.float64, device=device)).dtype is zoo.float64
    assert (zoo.ones(2, dtype=zoo.int8, device=device) + zoo.tensor(3, device=device)).dtype is zoo.int8


def test_grad_keeps_input_dtype_under_promotion(device):
    a = zoo.ones(3, dtype=zoo.float16, requires_grad=True, device=device)
    b = zoo.ones(3, dtype=zoo.float32, requires_grad=True, device=device)
    out = a * b
    assert out.dtype is zoo.float32
    out.backward(zoo.ones(3, device=device))
    assert a.grad.dtype is zoo.float16 and b.grad.dtype is zoo.float32


def test_int_tensor_ops(device):
    i = zoo.tensor([7, -7], device=device)
    assert (i // 2).tolist() == [3, -4]
    assert (i % 3).tolist() == [1, 2]
    assert zoo.div(i, 2, rounding_mode="trunc").tolist() == [3, -3]
    assert zoo.div(i, 2, rounding_mode="floor").tolist() == [3, -4]
    assert zoo.exp(zoo.tensor([0], device=device)).dtype is zoo.float32
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    with pytest.raises(RuntimeError, match="ZeroDivision"):
        i // 0


def test_comparisons_and_logic(device):
    a, b = zoo.tensor([1.0, 2.0, 3.0], device=device), zoo.tensor([3.0, 2.0, 1.0], device=device)
    assert (a < b).tolist() == [True, False, False]
    assert (a == b).dtype is zoo.bool
    assert ((a > 1) & (b > 1)).tolist() == [False, True, False]
    assert (~(a > 1)).tolist() == [True, False, False]
    assert (zoo.tensor([6], device=device) & zoo.tensor([3], device=device)).tolist() == [2]
    assert zoo.isnan(zoo.tensor([float("nan"), 1.0], device=device)).tolist() == [True, False]
    with pytest.raises(RuntimeError, match="floating point"):
        zoo.bitwise_and(a, b)


# --- bad input ---------------------------------------------------------------------------------------------------

def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"Add.*\(2, 3\).*\(4,\)"):
        zoo.ones(2, 3) + zoo.ones(4)


def test_negating_bool_tensor_is_an_error():
    with pytest.raises(RuntimeError, match="bool"):
        -zoo.tensor([True])


def test_unsupported_operand_type():
    with pytest.raises(TypeError):
        zoo.ones(2) + "a"


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="min"):
        zoo.clamp(zoo.ones(2))


# --- oracle tier ------------------------------------------------------------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize("op", BINARY + ["pow"])
def test_binary_vs_torch(op, device):
    torch = torch_or_skip()
    compare_with_torch(getattr(zoo, op), getattr(torch, op), arr(2, 3, low=0.5), arr(3, seed=1, low=0.5),
                       device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("op", UNARY_ANY + UNARY_POSITIVE)
def test_unary_vs_torch(op, device):
    torch = torch_or_skip()
    tf = {"softplus": torch.nn.functional.softplus, "elu": torch.nn.functional.elu,
          "leaky_relu": torch.nn.functional.leaky_relu, "silu": torch.nn.functional.silu,
          "mish": torch.nn.functional.mish}.get(op) or getattr(torch, op)
    low = 0.5 if op in UNARY_POSITIVE else -3
    compare_with_torch(getattr(zoo, op), tf, arr(3, 4, low=low, high=3), device=device)
    compare_with_torch(getattr(zoo, op), tf, arr(3, 4, low=low, high=3, dtype=np.float32), atol=1e-5, rtol=1e-5,
                       device=device)


@pytest.mark.oracle
def test_promotion_matches_torch_over_dtype_grid(device):
    torch = torch_or_skip()
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for na in names:
        for nb in names:
            for zero_dim in (False, True):
                za = zoo.ones(2, dtype=getattr(zoo, na), device=device)
                zb = zoo.ones(() if zero_dim else 2, dtype=getattr(zoo, nb), device=device)
                ta = torch.ones(2, dtype=getattr(torch, na))
                tb = torch.ones((), dtype=getattr(torch, nb)) if zero_dim else torch.ones(2, dtype=getattr(torch, nb))
                assert (za * zb).dtype.name == str((ta * tb).dtype).split(".")[1], (na, nb, zero_dim)
            for s in (True, 2, 2.5):
                assert (zoo.ones(2, dtype=getattr(zoo, na), device=device) * s).dtype.name == \
                    str((torch.ones(2, dtype=getattr(torch, na)) * s).dtype).split(".")[1], (na, s)


@pytest.mark.oracle
def test_clamp_where_vs_torch(device):
    torch = torch_or_skip()
    compare_with_torch(lambda t: zoo.clamp(t, -0.3, 0.4), lambda t: torch.clamp(t, -0.3, 0.4), arr(3, 4),
                       device=device)
    cond = arr(3, 4, seed=5) > 0
    compare_with_torch(lambda a, b: zoo.where(zoo.tensor(cond, device=device), a, b),
                       lambda a, b: torch.where(torch.tensor(cond), a, b), arr(3, 4), arr(4, seed=1), device=device)
