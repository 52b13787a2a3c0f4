import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, leaf

import zoo

# ----------------------------------------------------------------------------------------------------------------
# gradchecks (float64); non-contiguous inputs come from a transpose inside the function
# ----------------------------------------------------------------------------------------------------------------

GRAD_CASES = [
    ("reshape", lambda x: x.reshape(4, -1), (2, 3, 2)),
    ("reshape_tuple", lambda x: zoo.reshape(x, (3, 4)), (2, 6)),
    ("reshape_noncontig_copy", lambda x: x.transpose(0, 1).reshape(-1), (3, 4)),
    ("reshape_0d", lambda x: x.reshape(1, 1), ()),
    ("view", lambda x: x.view(6, 2), (3, 4)),
    ("view_noncontig", lambda x: x.permute(1, 0, 2).view(3, 2, 2, 2), (2, 3, 4)),
    ("view_as", lambda x: x.view_as(zoo.zeros(4, 3)), (3, 4)),
    ("reshape_as", lambda x: x.t().reshape_as(zoo.zeros(12)), (3, 4)),
    ("flatten", lambda x: x.flatten(), (2, 3, 2)),
    ("flatten_range", lambda x: zoo.flatten(x, 1, -1), (2, 3, 2)),
    ("flatten_0d", lambda x: x.flatten(), ()),
    ("unflatten", lambda x: x.unflatten(-1, (2, -1)), (3, 4)),
    ("ravel_noncontig", lambda x: x.t().ravel(), (3, 4)),
    ("permute", lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    ("permute_tuple_neg", lambda x: zoo.permute(x, (-1, 0, 1)), (2, 3, 4)),
    ("transpose_neg", lambda x: x.transpose(-1, 0), (2, 3, 4)),
    ("swapaxes", lambda x: zoo.swapaxes(x, 0, 1), (2, 3)),
    ("t", lambda x: x.t(), (2, 3)),
    ("t_1d", lambda x: zoo.t(x), (3,)),
    ("T", lambda x: x.T, (2, 3, 4)),
    ("mT", lambda x: x.mT, (2, 3, 4)),
    ("movedim", lambda x: x.movedim(0, -1), (2, 3, 4)),
    ("movedim_tuple", lambda x: zoo.movedim(x, (0, 1), (2, 0)), (2, 3, 4)),
    ("expand", lambda x: x.expand(2, 3, -1), (3, 1)),
    ("expand_0d", lambda x: x.expand(2, 3), ()),
    ("expand_same", lambda x: x.expand(3, 2), (3, 2)),
    ("broadcast_to", lambda x: zoo.broadcast_to(x, (4, 2, 3)), (1, 3)),
    ("expand_as_noncontig", lambda x: x.t().expand_as(zoo.zeros(2, 3, 2)), (2, 3)),
    ("repeat", lambda x: x.repeat(2, 1, 3), (2, 2)),
    ("repeat_ones", lambda x: x.repeat(1, 1), (2, 3)),
    ("repeat_zero", lambda x: x.repeat(0, 2), (2, 3)),
    ("tile", lambda x: zoo.tile(x, (2,)), (2, 3)),
    ("squeeze", lambda x: x.squeeze(), (1, 3, 1, 2)),
    ("squeeze_dim", lambda x: x.squeeze(-2), (1, 3, 1, 2)),
    ("squeeze_tuple", lambda x: zoo.squeeze(x, (0, 1)), (1, 3, 1, 2)),
    ("squeeze_0d", lambda x: x.squeeze(0), ()),
    ("unsqueeze", lambda x: x.unsqueeze(-1), (2, 3)),
    ("unsqueeze_0d", lambda x: x.unsqueeze(0), ()),
    ("narrow", lambda x: x.narrow(1, -3, 2), (2, 4)),
    ("select", lambda x: x.select(-1, 2), (2, 3)),
    ("split_int", lambda x: x.split(2, dim=1), (2, 5)),
    ("split_list", lambda x: zoo.split(x, [1, 3, 1], -1), (2, 5)),
    ("chunk", lambda x: x.chunk(3, 0), (5, 2)),
    ("unbind", lambda x: x.unbind(1), (2, 3)),
    ("unbind_noncontig", lambda x: zoo.unbind(x.t()), (2, 3)),
    ("iter", lambda x: tuple(iter(x)), (3, 2)),
    ("flip", lambda x: x.flip(0, 2), (2, 3, 2)),
    ("flip_list", lambda x: zoo.flip(x, [-1]), (2, 3)),
    ("fliplr", lambda x: zoo.fliplr(x), (2, 3)),
    ("flipud", lambda x: zoo.flipud(x), (2, 3)),
    ("roll", lambda x: x.roll(1, 0), (3, 4)),
    ("roll_multi", lambda x: zoo.roll(x, (1, -2), (0, 1)), (3, 4)),
    ("roll_flat", lambda x: x.roll(5), (3, 4)),
    ("tril", lambda x: x.tril(), (3, 4)),
    ("tril_k", lambda x: zoo.tril(x, -1), (2, 3, 3)),
    ("triu", lambda x: x.triu(1), (4, 3)),
    ("triu_noncontig", lambda x: zoo.triu(x.t(), -1), (3, 4)),
    ("diagonal", lambda x: x.diagonal(), (3, 4)),
    ("diagonal_off", lambda x: zoo.diagonal(x, 1, -1, 0), (2, 3, 4)),
    ("diagonal_neg", lambda x: x.diagonal(-1, 1, 2), (2, 4, 3)),
    ("diagonal_empty", lambda x: x.diagonal(5), (3, 4)),
    ("unfold", lambda x: x.unfold(1, 3, 2), (2, 7)),
    ("unfold_overlap", lambda x: x.unfold(0, 2, 1), (4, 3)),
    ("atleast_2d", lambda x: zoo.atleast_2d(x), (3,)),
    ("atleast_3d", lambda x: zoo.atleast_3d(x), (3, 2)),
    ("atleast_3d_1d", lambda x: zoo.atleast_3d(x), (3,)),
    ("empty_reshape", lambda x: x.reshape(0, 3), (3, 0)),
]


@pytest.mark.parametrize("name,fn,shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_grad(name, fn, shape, device):
    check_grad(fn, arr(*shape), device=device)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack_grad(dim, device):
    a, b, c = arr(2, 3), arr(2, 3, seed=1), arr(2, 3, seed=2)
    check_grad(lambda x, y, z: zoo.cat([x, y.t().t(), z], dim), a, b, c, device=device)
    check_grad(lambda x, y, z: zoo.stack((x, y, z), dim), a, b, c, device=device)


def test_join_variants_grad(device):
    a, b = arr(2, 3), arr(1, 3, seed=1)
    check_grad(lambda x, y: zoo.concat([x, y]), a, b, device=device)
    check_grad(lambda x, y: zoo.concatenate([x.t(), y.t()], dim=1), a, b, device=device)
    check_grad(lambda x, y: zoo.vstack([x, y]), a, b, device=device)
    check_grad(lambda x, y: zoo.hstack([x.t(), y.t()]), a, b, device=device)
    check_grad(lambda x, y: zoo.hstack([x, y]), arr(3), arr(2, seed=1), device=device)
    check_grad(lambda x, y: zoo.dstack([x, y]), a, arr(2, 3, seed=1), device=device)
    check_grad(lambda x, y: zoo.stack([x, y]), arr(), arr(seed=1), device=device)  # 0-d -> (2,)
    # the legacy empty (0,) tensor is skipped by cat; a constant input gets no gradient
    check_grad(lambda x: zoo.cat([x, zoo.zeros(0, dtype=zoo.float64, device=x.device), zoo.ones(1, 3, device=x.device,
                                                                                        dtype=zoo.float64)]),
               a, device=device)


def test_cat_promotion(device):
    a = zoo.tensor([[1, 2]], device=device)
    b = zoo.tensor([[0.5, 1.5]], device=device, requires_grad=True)
    out = zoo.cat([a, b])
    assert out.dtype == zoo.float32 and out.tolist() == [[1, 2], [0.5, 1.5]]
    out.sum().backward()
    assert b.grad.dtype == zoo.float32 and b.grad.tolist() == [[1, 1]]
    assert zoo.stack([zoo.tensor([1], dtype=zoo.uint8), zoo.tensor([-1], dtype=zoo.int8)]).dtype == zoo.int16


# ----------------------------------------------------------------------------------------------------------------
# oracle tests vs PyTorch (forward and backward)
# ----------------------------------------------------------------------------------------------------------------

ORACLE = [
    ("reshape", lambda M: lambda x: x.reshape(3, -1), [(2, 3, 2)]),
    ("view_noncontig", lambda M: lambda x: x.transpose(0, 1).view(3, 2, 4), [(2, 3, 4)]),
    ("reshape_copy", lambda M: lambda x: x.t().reshape(2, 6), [(3, 4)]),
    ("flatten", lambda M: lambda x: M.flatten(x, 1), [(2, 3, 2)]),
    ("unflatten", lambda M: lambda x: x.unflatten(1, (3, -1)), [(2, 6)]),
    ("permute", lambda M: lambda x: x.permute(1, 2, 0), [(2, 3, 4)]),
    ("transpose", lambda M: lambda x: M.transpose(x, -2, 0), [(2, 3, 4)]),
    ("T", lambda M: lambda x: x.T, [(2, 3)]),
    ("mT", lambda M: lambda x: x.mT, [(2, 3, 4)]),
    ("movedim", lambda M: lambda x: M.movedim(x, (0, 2), (1, 0)), [(2, 3, 4)]),
    ("expand", lambda M: lambda x: x.expand(4, -1, 3), [(2, 1)]),
    ("expand_as", lambda M: lambda x, y: x.expand_as(y), [(3, 1), (2, 3, 4)]),
    ("repeat", lambda M: lambda x: x.repeat(2, 3, 1), [(2, 3)]),
    ("tile", lambda M: lambda x: M.tile(x, (2, 1, 2)), [(2, 3)]),
    ("squeeze", lambda M: lambda x: x.squeeze((0, 2)), [(1, 3, 1, 2)]),
    ("unsqueeze", lambda M: lambda x: M.unsqueeze(x, -2), [(2, 3)]),
    ("cat", lambda M: lambda a, b, c: M.cat([a, b, c], -1), [(2, 1), (2, 3), (2, 2)]),
    ("cat_mixed_dtype", lambda M: lambda a, b: M.cat([a, b.float()], 0),
     [(2, 2), (1, 2)]),
    ("stack", lambda M: lambda a, b: M.stack([a, b], 1), [(2, 3), (2, 3)]),
    ("hstack", lambda M: lambda a, b: M.hstack([a, b]), [(2, 3), (2, 1)]),
    ("vstack", lambda M: lambda a, b: M.vstack([a, b]), [(3,), (3,)]),
    ("dstack", lambda M: lambda a, b: M.dstack([a, b]), [(2, 3), (2, 3)]),
    ("split", lambda M: lambda x: x.split(2, 1), [(2, 5)]),
    ("split_sizes", lambda M: lambda x: M.split(x, [2, 0, 3], 1), [(2, 5)]),
    ("chunk", lambda M: lambda x: x.chunk(4, -1), [(2, 6)]),
    ("unbind", lambda M: lambda x: M.unbind(x, 1), [(2, 3)]),
    ("narrow", lambda M: lambda x: x.narrow(0, 1, 2), [(4, 2)]),
    ("select", lambda M: lambda x: M.select(x, 1, -1), [(2, 3)]),
    ("flip", lambda M: lambda x: M.flip(x, (0, 1)), [(2, 3)]),
    ("roll", lambda M: lambda x: M.roll(x, (2, -1), (1, 0)), [(3, 4)]),
    ("roll_flat", lambda M: lambda x: x.roll(-3), [(3, 4)]),
    ("tril", lambda M: lambda x: M.tril(x, 1), [(2, 3, 4)]),
    ("triu", lambda M: lambda x: x.triu(-1), [(4, 3)]),
    ("diagonal", lambda M: lambda x: M.diagonal(x, -1, 0, 2), [(3, 2, 4)]),
    ("unfold", lambda M: lambda x: x.unfold(-1, 3, 2), [(2, 8)]),
    ("atleast_3d", lambda M: lambda x: M.atleast_3d(x), [(2, 3)]),
    ("ravel", lambda M: lambda x: M.ravel(x.t()), [(2, 3)]),
    ("adjoint", lambda M: lambda x: M.adjoint(x), [(2, 3)]),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name,build,shapes", ORACLE, ids=[c[0] for c in ORACLE])
def test_vs_torch(name, build, shapes):
    torch = pytest.importorskip("torch")
    arrays = [arr(*s, seed=i, dtype=np.float32) for i, s in enumerate(shapes)]
    if name == "cat_mixed_dtype":
        arrays[1] = arrays[1].astype(np.float64)
    compare_with_torch(build(zoo), build(torch), *arrays)


@pytest.mark.oracle
def test_view_possible_matches_torch():
    """zoo.view succeeds exactly when torch.view does, and then shares memory."""
    torch = pytest.importorskip("torch")
    base = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    targets = [(-1,), (6, 8), (2, 12, 2), (3, 2, 8), (2, 3, 8), (4, 12), (2, 3, 2, 4), (48, 1), (1, 2, 24)]
    views = [lambda x: x, lambda x: x.permute(1, 0, 2, 3), lambda x: x.transpose(2, 3), lambda x: x[:, :, ::2],
             lambda x: x.permute(0, 1, 3, 2), lambda x: x.unsqueeze(1).transpose(0, 1).squeeze(0)]
    checked = 0
    for make in views:
        zt, tt = make(zoo.tensor(base)), make(torch.tensor(base))
        for shape in targets:
            if int(np.prod(shape)) not in (-1, zt.numel()) and -1 not in shape:
                continue
            try:
                want = tt.view(shape)
            except RuntimeError:
                with pytest.raises(RuntimeError, match="view size is not compatible"):
                    zt.view(shape)
                continue
            got = zt.view(shape)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert np.shares_memory(got.numpy(), zt.numpy())
            checked += 1
    assert checked > 20


# ----------------------------------------------------------------------------------------------------------------
# view semantics: shared memory and version counter
# ----------------------------------------------------------------------------------------------------------------

VIEWS = [
    ("view", lambda x: x.view(-1)), ("reshape", lambda x: x.reshape(2, 6)), ("t", lambda x: x.t()),
    ("T", lambda x: x.T), ("mT", lambda x: x.mT), ("transpose", lambda x: x.transpose(0, 1)),
    ("permute", lambda x: x.permute(1, 0)), ("squeeze", lambda x: x.unsqueeze(0).squeeze(0)),
    ("narrow", lambda x: x.narrow(1, 1, 2)), ("select", lambda x: x.select(0, 1)), ("split", lambda x: x.split(1)[1]),
    ("chunk", lambda x: x.chunk(2, 1)[1]), ("unbind", lambda x: x.unbind(1)[2]), ("diagonal", lambda x: x.diagonal()),
    ("movedim", lambda x: x.movedim(0, 1)), ("flatten", lambda x: x.flatten()), ("unfold", lambda x: x.unfold(1, 2, 2)),
    ("unflatten", lambda x: x.unflatten(1, (2, 2))),
]


@pytest.mark.parametrize("name,make", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_memory_and_version(name, make, device):
    x = zoo.zeros(3, 4, device=device)
    v = make(x)
    assert v._base is x and v._version == x._version
    v.add_(1)
    assert x._version == v._version == 1
    assert x.sum().item() == v.numel()  # every viewed element (unfold's windows here do not overlap) got +1


def test_copies_are_not_views():
    x = zoo.zeros(3, 4)
    for out in (x.flip(0), x.roll(1), x.repeat(1, 1), x.tril(), zoo.cat([x]), zoo.stack([x]), x.t().reshape(-1)):
        out.add_(1)
    assert x.sum().item() == 0 and x._version == 0


def test_expand_is_readonly_view():
    x = zoo.zeros(3, 1)
    e = x.expand(3, 4)
    assert e._base is x
    x.add_(2)
    assert e.tolist() == [[2.0] * 4] * 3
    with pytest.raises(RuntimeError, match="read-only"):
        e.add_(1)


def test_modified_view_after_save_raises_at_backward():
    w = zoo.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = zoo.ones(3)
    out = (a * w).sum()  # Mul saves a for w's gradient
    a.view(3, 1).narrow(0, 0, 2).mul_(5)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_view_of_nonleaf_gradient_flows():
    x = leaf(arr(3, 4))
    y = x * 2
    parts = y.t().unbind(0)
    (parts[0].sum() + 3 * parts[3].sum()).backward()
    g = np.zeros((3, 4))
    g[:, 0], g[:, 3] = 2, 6
    np.testing.assert_allclose(x.grad.numpy(), g)


def test_view_dtype():
    x = zoo.tensor([1.0, -2.0])
    v = x.view(zoo.int32)
    assert v.dtype == zoo.int32 and v._base is x
    np.testing.assert_array_equal(v.numpy(), np.array([1.0, -2.0], np.float32).view(np.int32))
    with pytest.raises(NotImplementedError, match="view\\(dtype\\)"):
        x.view(zoo.float64)


# ----------------------------------------------------------------------------------------------------------------
# results and errors
# ----------------------------------------------------------------------------------------------------------------


def test_shapes_and_values():
    x = zoo.arange(24).reshape(2, 3, 4)
    assert x.reshape((4, 6)).shape == (4, 6) and x.view(-1, 4).shape == (6, 4)
    assert x.flatten(0, 1).shape == (6, 4) and zoo.flatten(zoo.tensor(5)).shape == (1,)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert x[0].H.shape == (4, 3) and x.mH.shape == (2, 4, 3)
    assert [p.shape[0] for p in x.chunk(3, 2)] == [2, 2] and len(zoo.zeros(0, 2).chunk(3)) == 3
    assert [p.shape[1] for p in zoo.zeros(2, 0).split(2, 1)] == [0]
    assert zoo.atleast_1d(zoo.tensor(1.0)).shape == (1,)
    a, b = zoo.atleast_2d(zoo.tensor(1.0), zoo.ones(3))
    assert a.shape == (1, 1) and b.shape == (1, 3)
    assert x.expand(2, 2, 3, 4).shape == (2, 2, 3, 4)
    assert zoo.tensor([[1, 2], [3, 4]]).diagonal().tolist() == [1, 4]
    assert zoo.arange(6).reshape(2, 3).flip(1).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert zoo.ones(3, 3).tril_().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert zoo.tensor([True, False]).reshape(2, 1).expand(2, 2).tolist() == [[True, True], [False, False]]


@pytest.mark.parametrize("fn,err,match", [
    (lambda x: x.view(5, 5), RuntimeError, r"shape '\[5, 5\]' is invalid for input of size 24"),
    (lambda x: x.reshape(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda x: x.reshape(-2, 12), RuntimeError, "invalid shape dimension -2"),
    (lambda x: x.transpose(0, 2).view(-1), RuntimeError, r"Use \.reshape"),
    (lambda x: zoo.zeros(0, 3).reshape(0, -1), RuntimeError, "ambiguous"),
    (lambda x: x.permute(0, 1), RuntimeError, "number of dims don't match"),
    (lambda x: x.permute(0, 1, 1), RuntimeError, "appears multiple times"),
    (lambda x: x.transpose(0, 3), IndexError, "Dimension out of range"),
    (lambda x: x.t(), RuntimeError, "t\\(\\) expects a tensor with <= 2 dimensions"),
    (lambda x: zoo.ones(3).mT, RuntimeError, "mT is only supported"),
    (lambda x: x.expand(2, 5, 4), RuntimeError, r"size of the tensor \(5\) must match the existing size \(3\)"),
    (lambda x: x.expand(3, 4), RuntimeError, "number of sizes provided"),
    (lambda x: x.expand(-1, 2, 3, 4), RuntimeError, "leading, non-existing dimension"),
    (lambda x: x.repeat(2, 2), RuntimeError, "can not be smaller than number of dimensions"),
    (lambda x: x.squeeze(3), IndexError, "Dimension out of range"),
    (lambda x: x.unsqueeze(4), IndexError, "Dimension out of range"),
    (lambda x: x.split([1, 1], 1), RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 3"),
    (lambda x: x.split(0, 1), RuntimeError, "split_size can only be 0"),
    (lambda x: x.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda x: x.narrow(1, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    (lambda x: x.narrow(1, 5, 0), IndexError, "start out of range"),
    (lambda x: x.select(2, 4), IndexError, "index 4 out of range"),
    (lambda x: x.diagonal(0, 1, -2), RuntimeError, "diagonal dimensions cannot be identical"),
    (lambda x: x.unfold(2, 5, 1), RuntimeError, "maximum size for tensor at dimension 2 is 4"),
    (lambda x: x.unflatten(1, (2, 2)), RuntimeError, "don't multiply up to the size of dim 1"),
    (lambda x: x.flatten(2, 1), RuntimeError, "start_dim cannot come after end_dim"),
    (lambda x: zoo.tril(zoo.ones(3)), RuntimeError, "at least 2 dimensions"),
    (lambda x: x.roll((1, 2), 0), RuntimeError, "shifts and dimensions must align"),
    (lambda x: zoo.unbind(zoo.tensor(1.0)), RuntimeError, "no dimensions"),
])
def test_errors(fn, err, match):
    with pytest.raises(err, match=match):
        fn(zoo.zeros(2, 3, 4))


def test_cat_stack_errors():
    a, b = zoo.zeros(2, 3), zoo.zeros(2, 4)
    with pytest.raises(RuntimeError, match=r"cat\(\): Sizes of tensors must match except in dimension 0.*"
                                           r"\[\[2, 3\], \[2, 4\]\]"):
        zoo.cat([a, b])
    assert zoo.cat([a, b], 1).shape == (2, 7)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        zoo.cat([a, zoo.zeros(2, 3, 1)])
    with pytest.raises(RuntimeError, match="zero-dimensional tensor \\(at position 1\\)"):
        zoo.cat([a, zoo.tensor(1.0)])
    with pytest.raises(RuntimeError, match="expected a non-empty list"):
        zoo.cat([])
    with pytest.raises(TypeError, match="must be a tuple or list of Tensors"):
        zoo.cat(a)
    with pytest.raises(TypeError, match="expected a Tensor at position 1"):
        zoo.stack([a, 3])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 "
                                           r"and \[2, 4\] at entry 1"):
        zoo.stack([a, b])
    with pytest.raises(IndexError, match="Dimension out of range"):
        zoo.cat([a, a], 2)


@pytest.mark.gpu
def test_cat_device_mismatch():
    if not zoo.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    with pytest.raises(RuntimeError, match="same device"):
        zoo.cat([zoo.zeros(2), zoo.zeros(2, device="cuda")])
