"""zoo.nn convolution, pooling, upsampling, padding and pixel-shuffle layers: PyTorch oracles (weights copied through
state_dict, forward, input and parameter gradients), repr strings, default init bounds and statistics, device/dtype
arguments and argument errors; float64 gradchecks that need no PyTorch."""
import math

import numpy as np
import pytest
from helpers import arr, check_grad, compare_module_with_torch, torch_or_skip

import zoo
import zoo.nn as nn


# ----------------------------------------------------------------------------------------------------------------
# convolutions
# ----------------------------------------------------------------------------------------------------------------

CONV_CASES = [
    (1, dict()),
    (1, dict(stride=2, padding=1, dilation=2)),
    (1, dict(padding="same", dilation=2, padding_mode="reflect")),
    (1, dict(padding=2, padding_mode="circular", bias=False)),
    (2, dict()),
    (2, dict(stride=(2, 1), padding=(1, 2), groups=2)),
    (2, dict(padding="same", padding_mode="replicate")),
    (2, dict(padding="valid", dilation=(2, 1))),
    (2, dict(padding=1, padding_mode="reflect", groups=2, bias=False)),
    (2, dict(padding=(2, 1), padding_mode="circular", stride=2)),
    (3, dict(padding=1, stride=(1, 2, 1))),
    (3, dict(padding="same", padding_mode="replicate", groups=2)),
]
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 4, 6)}


@pytest.mark.oracle
@pytest.mark.parametrize("nd,kw", CONV_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_vs_torch(nd, kw, dtype):
    torch = torch_or_skip()
    args = (4, 6, 3 if nd != 2 else (3, 2))
    name = f"Conv{nd}d"
    compare_module_with_torch(CONV[nd](*args, **kw), getattr(torch.nn, name)(*args, **kw), [arr(2, 4, *SPATIAL[nd])],
                              dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_unbatched_vs_torch(nd):
    torch = torch_or_skip()
    compare_module_with_torch(CONV[nd](4, 2, 2, padding=1), getattr(torch.nn, f"Conv{nd}d")(4, 2, 2, padding=1),
                              [arr(4, *SPATIAL[nd])])


CONVT_CASES = [
    (1, dict(), None),
    (1, dict(stride=3, padding=1, output_padding=2, dilation=1), None),
    (1, dict(stride=2, groups=2, bias=False), [20]),
    (2, dict(), None),
    (2, dict(stride=2, padding=1, output_padding=1), None),
    (2, dict(stride=(2, 3), padding=(0, 1), dilation=(2, 1), groups=2), None),
    (2, dict(stride=2, padding=1), [2, 6, 14, 11]),  # output_size with the batch and channel sizes
    (2, dict(stride=2, padding=1), (13, 10)),
    (3, dict(stride=2, output_padding=(1, 0, 1)), None),
]
CONVT = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}


@pytest.mark.oracle
@pytest.mark.parametrize("nd,kw,output_size", CONVT_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose_vs_torch(nd, kw, output_size, dtype):
    torch = torch_or_skip()
    args = (4, 6, 3 if nd != 2 else (3, 2))
    call = {} if output_size is None else {"output_size": output_size}
    compare_module_with_torch(CONVT[nd](*args, **kw), getattr(torch.nn, f"ConvTranspose{nd}d")(*args, **kw),
                              [arr(2, 4, *SPATIAL[nd])], call, dtype=dtype)


def test_conv_shapes_and_grad():
    """Output sizes (zero, 'same' and strided padding) and a float64 gradcheck through the module, with no
    PyTorch needed."""
    conv = nn.Conv2d(3, 4, (3, 2), padding="same", padding_mode="circular").double()
    x = arr(2, 3, 5, 6)
    assert conv(zoo.tensor(x)).shape == (2, 4, 5, 6)
    assert nn.Conv1d(3, 4, 3, stride=2, padding=1)(zoo.randn(1, 3, 9)).shape == (1, 4, 5)
    assert nn.Conv3d(3, 2, 2)(zoo.randn(3, 4, 4, 4)).shape == (2, 3, 3, 3)
    check_grad(lambda t: conv(t), x)
    check_grad(lambda w, t: conv._conv_forward(t, w, conv.bias), conv.weight.detach().numpy(), x)
    deconv = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    assert deconv(zoo.tensor(x)).shape == (2, 2, 9, 11)
    assert deconv(zoo.tensor(x), output_size=(10, 12)).shape == (2, 2, 10, 12)
    check_grad(lambda t: deconv(t, output_size=(10, 12)), x)


def test_conv_parameters_dtype_device(device):
    conv = nn.Conv2d(4, 6, 3, groups=2, device=device, dtype=zoo.float64)
    assert conv.weight.shape == (6, 2, 3, 3) and conv.bias.shape == (6,)
    assert conv.weight.dtype == zoo.float64 and conv.weight.device == zoo.device(device)
    assert conv.weight.requires_grad and conv.bias.requires_grad
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    deconv = nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False, device=device)
    assert deconv.weight.shape == (4, 3, 3, 3) and deconv.bias is None
    assert deconv.weight.dtype == zoo.float32
    assert list(deconv.state_dict()) == ["weight"]
    y = conv(zoo.randn(1, 4, 5, 5, device=device, dtype=zoo.float64))
    assert y.device == zoo.device(device) and y.shape == (1, 6, 3, 3)


@pytest.mark.parametrize("cls,args,fan_in", [
    (nn.Conv1d, (3, 8, 5), 15), (nn.Conv2d, (16, 32, (3, 5), 1, 0, 1, 4), 60), (nn.Conv3d, (2, 4, 3), 54),
    (nn.ConvTranspose2d, (8, 12, 3, 1, 0, 0, 2), 54)])
def test_conv_default_init(cls, args, fan_in):
    """kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)) for the weight and the same bound for the bias, where fan_in
    is weight.size(1) * kernel elements (also for transposed convolutions, as in PyTorch)."""
    zoo.manual_seed(3)
    m = cls(*args)
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound  # it fills the interval …
    assert abs(w.mean()) < 0.1 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # … uniformly
    assert len(np.unique(w)) == w.size


@pytest.mark.oracle
def test_conv_default_init_matches_torch_bounds():
    torch = torch_or_skip()
    for zm, tm in [(nn.Conv2d(6, 4, 3, groups=2), torch.nn.Conv2d(6, 4, 3, groups=2)),
                   (nn.ConvTranspose1d(6, 4, 5, groups=2), torch.nn.ConvTranspose1d(6, 4, 5, groups=2))]:
        for (name, zp), (_, tp) in zip(zm.named_parameters(), tm.named_parameters()):
            zb, tb = np.abs(zp.detach().numpy()).max(), tp.detach().abs().max().item()
            limit = 1 / math.sqrt(tm.weight.shape[1] * math.prod(tm.weight.shape[2:]))
            assert zb <= limit and tb <= limit, name


REPR_CASES = [
    ("Conv1d", (3, 8, 5), {}),
    ("Conv1d", (3, 8, 5), dict(padding="same", padding_mode="reflect", bias=False)),
    ("Conv2d", (3, 8, 3), dict(stride=2, padding=1)),
    ("Conv2d", (4, 8, (3, 5)), dict(dilation=(2, 1), groups=2, padding="valid")),
    ("Conv2d", (4, 8, 3), dict(padding=(1, 0), padding_mode="circular")),
    ("Conv3d", (4, 8, 3), dict(stride=(1, 2, 1))),
    ("ConvTranspose1d", (4, 8, 3), dict(stride=2)),
    ("ConvTranspose2d", (4, 8, 4), dict(stride=2, padding=1, output_padding=1, groups=4, bias=False, dilation=2)),
    ("ConvTranspose3d", (4, 8, 2), {}),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), dilation=2, return_indices=True)),
    ("MaxPool3d", (2,), dict(padding=1)),
    ("AvgPool1d", (3,), {}),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, divisor_override=2)),
    ("AvgPool2d", ((2, 3),), {}),
    ("AvgPool3d", (2,), {}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveAvgPool2d", ((4, None),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool3d", ((2, 3, 4),), {}),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True)),
    ("AdaptiveMaxPool2d", ((3, 3),), {}),
    ("AdaptiveMaxPool3d", (2,), {}),
    ("MaxUnpool1d", (2,), {}),
    ("MaxUnpool2d", (3,), dict(stride=2, padding=1)),
    ("MaxUnpool3d", (2,), {}),
    ("LPPool1d", (2, 3), {}),
    ("LPPool2d", (1.5, (2, 3)), dict(stride=1, ceil_mode=True)),
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(scale_factor=(2, 3), mode="bilinear", align_corners=False)),
    ("Upsample", (), dict(size=(5, 7), mode="bicubic")),
    ("Upsample", (), dict(size=5, mode="linear")),
    ("UpsamplingNearest2d", (), dict(scale_factor=3)),
    ("UpsamplingBilinear2d", (), dict(size=(4, 6))),
    ("ZeroPad1d", (2,), {}),
    ("ZeroPad2d", ((1, 2, 3, 4),), {}),
    ("ZeroPad3d", (1,), {}),
    ("ConstantPad1d", ((1, 2), 3.5), {}),
    ("ConstantPad2d", (2, -1.0), {}),
    ("ConstantPad3d", (1, 0.0), {}),
    ("ReflectionPad1d", (2,), {}),
    ("ReflectionPad2d", ((1, 0, 2, 1),), {}),
    ("ReflectionPad3d", (1,), {}),
    ("ReplicationPad1d", ((0, 3),), {}),
    ("ReplicationPad2d", (1,), {}),
    ("ReplicationPad3d", (1,), {}),
    ("CircularPad1d", (1,), {}),
    ("CircularPad2d", ((1, 2, 0, 1),), {}),
    ("CircularPad3d", (1,), {}),
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (3,), {}),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name,args,kw", REPR_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(REPR_CASES)])
def test_repr_matches_torch(name, args, kw):
    torch = torch_or_skip()
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_repr_without_torch():
    assert repr(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)) == \
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == "Upsample(scale_factor=2.0, mode='bilinear')"


def test_conv_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv1d(4, 6, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv1d(4, 6, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding must be an int or a tuple of ints"):
        nn.ConvTranspose1d(4, 6, 3, padding="same")
    deconv = nn.ConvTranspose2d(2, 2, 3, stride=2)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 20\], but valid sizes range from "
                                         r"\[9, 9\] to \[10, 10\]"):
        deconv(zoo.randn(1, 2, 4, 4), output_size=(9, 20))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        deconv(zoo.randn(1, 2, 4, 4), output_size=(9, 9, 9))
    with pytest.raises(RuntimeError, match="expected input with 2 channels"):
        deconv(zoo.randn(1, 3, 4, 4))
    with pytest.raises(RuntimeError, match="expected input with 4 channels"):
        nn.Conv2d(4, 2, 3)(zoo.randn(1, 3, 5, 5))


# ----------------------------------------------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------------------------------------------

POOL_CASES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 10)),
    ("MaxPool1d", (2,), dict(dilation=2, ceil_mode=True, return_indices=True), (3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=1, return_indices=True), (2, 2, 7, 5)),
    ("MaxPool3d", (2,), dict(stride=1, padding=1), (1, 2, 4, 3, 4)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True), (2, 3, 10)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1), (2, 3, 7, 6)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (3, 6, 4)),
    ("AvgPool3d", (2,), dict(padding=1, count_include_pad=False), (1, 2, 4, 3, 4)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool3d", (2,), dict(return_indices=True), (1, 2, 5, 4, 3)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 10)),
    ("LPPool2d", (3, 2), dict(ceil_mode=False), (2, 3, 6, 6)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name,args,kw,shape", POOL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL_CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_vs_torch(name, args, kw, shape, dtype):
    torch = torch_or_skip()
    x = arr(*shape, low=0.1, high=2.0) if name.startswith("LP") else arr(*shape)
    compare_module_with_torch(getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw), [x], dtype=dtype)


@pytest.mark.oracle
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_vs_torch(nd):
    torch = torch_or_skip()
    shape = {1: (2, 3, 8), 2: (2, 3, 6, 4), 3: (1, 2, 4, 4, 2)}[nd]
    x = arr(*shape)
    zp = getattr(nn, f"MaxPool{nd}d")(2, return_indices=True)
    tp = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)
    zv, zi = zp(zoo.tensor(x))
    tv, ti = tp(torch.tensor(x))
    np.testing.assert_array_equal(zi.numpy(), ti.numpy())
    zu, tu = getattr(nn, f"MaxUnpool{nd}d")(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    out = tuple(s + 1 for s in shape[2:])
    np.testing.assert_array_equal(zu(zv, zi, output_size=out).numpy(), tu(tv, ti, output_size=out).numpy())
    np.testing.assert_array_equal(zu(zv, zi).numpy(), tu(tv, ti).numpy())


def test_pool_modules_without_torch():
    x = zoo.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy(), [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    v, i = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(i.numpy(), [[[[5, 7], [13, 15]]]])
    kept = np.isin(np.arange(16), [5, 7, 13, 15])
    np.testing.assert_array_equal(nn.MaxUnpool2d(2)(v, i).numpy().ravel(), np.where(kept, np.arange(16.0), 0))
    assert nn.AdaptiveAvgPool2d((1, 1))(x).item() == 7.5
    assert nn.AdaptiveMaxPool1d(1)(zoo.tensor([[1.0, 3.0, 2.0]])).item() == 3.0
    check_grad(lambda t: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)(t), arr(2, 3, 8))
    check_grad(lambda t: nn.LPPool2d(2, 2)(t), arr(1, 2, 4, 4, low=0.5, high=1.5))


# ----------------------------------------------------------------------------------------------------------------
# upsampling, padding, pixel shuffle
# ----------------------------------------------------------------------------------------------------------------

RESAMPLE_CASES = [
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=7, mode="linear", align_corners=True), (2, 3, 5)),
    ("Upsample", (), dict(scale_factor=(1.5, 2), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(6, 7), mode="bicubic", align_corners=False), (1, 2, 4, 5)),
    ("Upsample", (), dict(scale_factor=2, mode="trilinear"), (1, 2, 3, 2, 3)),
    ("Upsample", (), dict(scale_factor=1.7, mode="nearest-exact"), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", (), dict(size=(7, 9)), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("ZeroPad1d", ((1, 2),), {}, (2, 3, 5)),
    ("ZeroPad2d", ((1, 0, 2, -1),), {}, (2, 3, 4, 5)),
    ("ZeroPad3d", (1,), {}, (1, 2, 3, 2, 3)),
    ("ConstantPad1d", (2, 1.5), {}, (3, 5)),
    ("ConstantPad2d", ((1, 2, 0, 1), -2.0), {}, (2, 3, 4, 5)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), {}, (1, 2, 3, 2, 3)),
    ("ReflectionPad1d", ((2, 1),), {}, (2, 3, 5)),
    ("ReflectionPad2d", (2,), {}, (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), {}, (1, 2, 3, 2, 3)),
    ("ReplicationPad1d", (3,), {}, (2, 3, 5)),
    ("ReplicationPad2d", ((0, 2, 3, 1),), {}, (3, 4, 5)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 2, 1),), {}, (1, 2, 3, 2, 3)),
    ("CircularPad1d", ((2, 1),), {}, (2, 3, 5)),
    ("CircularPad2d", (1,), {}, (2, 3, 4, 5)),
    ("CircularPad3d", ((1, 0, 1, 1, 0, 2),), {}, (2, 3, 2, 3)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (2, 3, 4, 6)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name,args,kw,shape", RESAMPLE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(RESAMPLE_CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resample_and_pad_vs_torch(name, args, kw, shape, dtype):
    torch = torch_or_skip()
    compare_module_with_torch(getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw), [arr(*shape)],
                              dtype=dtype)


def test_resample_and_pad_without_torch():
    x = zoo.tensor([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(nn.ReflectionPad1d(2)(x).numpy(), [[[3, 2, 1, 2, 3, 2, 1]]])
    np.testing.assert_array_equal(nn.ReplicationPad1d((1, 2))(x).numpy(), [[[1, 1, 2, 3, 3, 3]]])
    np.testing.assert_array_equal(nn.CircularPad1d(1)(x).numpy(), [[[3, 1, 2, 3, 1]]])
    np.testing.assert_array_equal(nn.ConstantPad1d((0, 1), 9.0)(x).numpy(), [[[1, 2, 3, 9]]])
    np.testing.assert_array_equal(nn.Upsample(scale_factor=2)(x).numpy(), [[[1, 1, 2, 2, 3, 3]]])
    y = zoo.randn(2, 12, 3, 4)
    assert nn.PixelShuffle(2)(y).shape == (2, 3, 6, 8)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(y)).numpy(), y.numpy())
    check_grad(lambda t: nn.UpsamplingBilinear2d(scale_factor=2)(t), arr(1, 2, 3, 3))
    check_grad(lambda t: nn.ReflectionPad2d((1, 2, 2, 0))(t), arr(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(zoo.randn(3, 4))
