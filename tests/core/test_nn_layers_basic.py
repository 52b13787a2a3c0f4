"""zoo.nn layers (linear, activation, flatten, dropout, embedding, loss, normalization, batch norm): default
initialisation, oracle comparisons with the same PyTorch layer (state_dict layout, forward, input and
parameter gradients, BatchNorm running statistics in train and eval mode), repr equality and bad arguments."""
import math
import warnings

import numpy as np
import pytest
from helpers import arr, compare_module_with_torch, copy_weights, module_dtypes, to_numpy, torch_or_skip

import zoo
import zoo.nn as nn

F32 = dict(atol=1e-5, rtol=1e-5)
F64 = dict(atol=1e-10, rtol=1e-10)


# ------------------------------------------------------------------------------------------------------------
# oracle machinery: one constructor used with both libraries, weights copied from PyTorch through state_dict
# ------------------------------------------------------------------------------------------------------------


def _pair(make, dtype, randomize=True):
    """The same layer built by ``make(nn)`` in zoo and PyTorch, in ``dtype``, with PyTorch's (randomised) weights
    copied across."""
    torch = torch_or_skip()
    zdt, tdt = module_dtypes(dtype)
    tm, zm = make(torch.nn).to(tdt), make(nn).to(zdt)
    if randomize:
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in tm.parameters():
                p.copy_(torch.rand(p.shape, generator=g, dtype=p.dtype) * 1.5 + 0.25 if p.dim() else p)
    copy_weights(zm, tm)
    return zm, tm


def _check_same(zm, tm, inputs, dtype, n_grad=None, tol=None, device="cpu"):
    """Forward both layers (as they are) on the same NumPy ``inputs`` (float ones among the first ``n_grad``
    require grad), backpropagate one random upstream gradient and compare outputs, input and parameter grads
    within ``tol`` (F32/F64 by default)."""
    tol = tol or (F64 if dtype == np.float64 else F32)
    compare_module_with_torch(zm, tm, inputs, dtype=dtype, n_grad=n_grad, tol=tol, copy=False, device=device)


DTYPES = [np.float32, np.float64]


# (id, constructor, input shapes); inputs are uniform in [-2, 2]
LAYER_CASES = [
    ("linear", lambda nn: nn.Linear(3, 4), [(5, 3)]),
    ("linear_nobias_3d", lambda nn: nn.Linear(3, 4, bias=False), [(2, 5, 3)]),
    ("bilinear", lambda nn: nn.Bilinear(3, 2, 4), [(5, 3), (5, 2)]),
    ("bilinear_nobias", lambda nn: nn.Bilinear(3, 2, 4, bias=False), [(2, 5, 3), (2, 5, 2)]),
    ("identity", lambda nn: nn.Identity(3, unused=True), [(2, 3)]),
    ("relu", lambda nn: nn.ReLU(), [(4, 6)]),
    ("relu6", lambda nn: nn.ReLU6(), [(4, 6)]),
    ("gelu", lambda nn: nn.GELU(), [(4, 6)]),
    ("gelu_tanh", lambda nn: nn.GELU(approximate="tanh"), [(4, 6)]),
    ("silu", lambda nn: nn.SiLU(), [(4, 6)]),
    ("mish", lambda nn: nn.Mish(), [(4, 6)]),
    ("tanh", lambda nn: nn.Tanh(), [(4, 6)]),
    ("sigmoid", lambda nn: nn.Sigmoid(), [(4, 6)]),
    ("leaky_relu", lambda nn: nn.LeakyReLU(0.2), [(4, 6)]),
    ("elu", lambda nn: nn.ELU(0.7), [(4, 6)]),
    ("selu", lambda nn: nn.SELU(), [(4, 6)]),
    ("celu", lambda nn: nn.CELU(0.5), [(4, 6)]),
    ("softplus", lambda nn: nn.Softplus(beta=2.0, threshold=3.0), [(4, 6)]),
    ("softsign", lambda nn: nn.Softsign(), [(4, 6)]),
    ("softmax", lambda nn: nn.Softmax(dim=1), [(4, 6)]),
    ("log_softmax", lambda nn: nn.LogSoftmax(dim=0), [(4, 6)]),
    ("softmin", lambda nn: nn.Softmin(dim=-1), [(4, 6)]),
    ("softmax2d", lambda nn: nn.Softmax2d(), [(2, 3, 4, 4)]),
    ("hardtanh", lambda nn: nn.Hardtanh(-0.5, 1.5), [(4, 6)]),
    ("hardswish", lambda nn: nn.Hardswish(), [(4, 6)]),
    # PyTorch's hardsigmoid backward uses the float32 constant 1/6 even in float64: compare at float32 precision
    ("hardsigmoid", lambda nn: nn.Hardsigmoid(), [(4, 6)], dict(atol=1e-7, rtol=1e-7)),
    ("hardshrink", lambda nn: nn.Hardshrink(0.3), [(4, 6)]),
    ("softshrink", lambda nn: nn.Softshrink(0.3), [(4, 6)]),
    ("tanhshrink", lambda nn: nn.Tanhshrink(), [(4, 6)]),
    ("threshold", lambda nn: nn.Threshold(0.1, 20.0), [(4, 6)]),
    ("logsigmoid", lambda nn: nn.LogSigmoid(), [(4, 6)]),
    ("prelu", lambda nn: nn.PReLU(), [(4, 3, 5)]),
    ("prelu_channels", lambda nn: nn.PReLU(3, init=0.1), [(4, 3, 5)]),
    ("glu", lambda nn: nn.GLU(), [(4, 6)]),
    ("glu_dim0", lambda nn: nn.GLU(0), [(4, 6)]),
    ("flatten", lambda nn: nn.Flatten(), [(2, 3, 4, 5)]),
    ("flatten_range", lambda nn: nn.Flatten(0, 2), [(2, 3, 4, 5)]),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, -1)), [(3, 6)]),
    ("layer_norm", lambda nn: nn.LayerNorm(5), [(3, 4, 5)]),
    ("layer_norm_2d_noaffine", lambda nn: nn.LayerNorm([4, 5], elementwise_affine=False), [(3, 4, 5)]),
    ("layer_norm_nobias", lambda nn: nn.LayerNorm((5,), bias=False), [(3, 5)]),
    ("group_norm", lambda nn: nn.GroupNorm(2, 4), [(3, 4, 5)]),
    ("group_norm_noaffine", lambda nn: nn.GroupNorm(4, 4, affine=False), [(3, 4, 2, 3)]),
    ("group_norm_nobias", lambda nn: nn.GroupNorm(1, 4, bias=False), [(3, 4, 5)]),
    ("rms_norm", lambda nn: nn.RMSNorm(5), [(3, 4, 5)]),
    ("rms_norm_eps", lambda nn: nn.RMSNorm([4, 5], eps=1e-3), [(3, 4, 5)]),
    ("rms_norm_noaffine", lambda nn: nn.RMSNorm(5, elementwise_affine=False), [(3, 5)]),
    ("lrn", lambda nn: nn.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=2.0), [(2, 5, 4)]),
    ("dropout_eval", lambda nn: nn.Dropout(0.3).eval(), [(4, 6)]),
    ("dropout2d_eval", lambda nn: nn.Dropout2d(0.3).eval(), [(2, 3, 4, 4)]),
    ("alpha_dropout_eval", lambda nn: nn.AlphaDropout(0.3).eval(), [(4, 6)]),
    ("rrelu_eval", lambda nn: nn.RReLU(0.1, 0.3).eval(), [(4, 6)]),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_vs_torch(case, dtype, device):
    make, shapes = case[1], case[2]
    zm, tm = _pair(make, dtype)
    inputs = [arr(*s, seed=i, low=-2, high=2, dtype=dtype) for i, s in enumerate(shapes)]
    _check_same(zm, tm, inputs, dtype, tol=case[3] if len(case) > 3 and dtype == np.float64 else None, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("make", [lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.1, inplace=True),
                                  lambda nn: nn.Hardtanh(inplace=True), lambda nn: nn.ELU(inplace=True),
                                  lambda nn: nn.SiLU(inplace=True), lambda nn: nn.Threshold(0.0, -1.0, True)])
def test_inplace_activation_vs_torch(make, device):
    """The in-place forms modify their input (here a non-leaf) and backpropagate like PyTorch's."""
    torch = torch_or_skip()
    x = arr(4, 5, low=-2, high=2)
    zx, tx = zoo.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    zh, th = zx * 1.0, tx * 1.0
    zo, to = make(nn)(zh), make(torch.nn)(th)
    np.testing.assert_allclose(to_numpy(zh), to_numpy(th), **F64)  # the input itself changed
    np.testing.assert_allclose(to_numpy(zo), to_numpy(to), **F64)
    zo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(to_numpy(zx.grad), to_numpy(tx.grad), **F64)


EMBEDDING_CASES = [
    ("plain", lambda nn: nn.Embedding(7, 3)),
    ("padding", lambda nn: nn.Embedding(7, 3, padding_idx=2)),
    ("padding_negative", lambda nn: nn.Embedding(7, 3, padding_idx=-1)),
    ("scale_grad_by_freq", lambda nn: nn.Embedding(7, 3, scale_grad_by_freq=True)),
    ("max_norm", lambda nn: nn.Embedding(7, 3, max_norm=0.9, norm_type=1.5)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", EMBEDDING_CASES, ids=[c[0] for c in EMBEDDING_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_vs_torch(case, dtype, device):
    zm, tm = _pair(case[1], dtype)
    ids = np.array([[0, 2, 6, 2], [1, 1, 6, 5]], dtype=np.int64)
    _check_same(zm, tm, [ids], dtype, device=device)
    np.testing.assert_allclose(to_numpy(zm.weight), to_numpy(tm.weight), **F64)  # max_norm renormalised rows


LOSS_CASES = [
    # (id, constructor, inputs: (shape, kind) with kind f = float in [-2, 2], p = probability, y = class id,
    #  s = ±1, pos = positive float)
    ("l1", lambda nn: nn.L1Loss(), [((4, 5), "f"), ((4, 5), "f")]),
    ("l1_sum", lambda nn: nn.L1Loss(reduction="sum"), [((4, 5), "f"), ((4, 5), "f")]),
    ("mse", lambda nn: nn.MSELoss(), [((4, 5), "f"), ((4, 5), "f")]),
    ("mse_none", lambda nn: nn.MSELoss(reduction="none"), [((4, 5), "f"), ((4, 5), "f")]),
    ("cross_entropy", lambda nn: nn.CrossEntropyLoss(), [((6, 4), "f"), ((6,), "y")]),
    ("cross_entropy_spatial", lambda nn: nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.2),
     [((6, 4, 3), "f"), ((6, 3), "y")]),
    ("cross_entropy_probs", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), [((6, 4), "f"), ((6, 4), "p")]),
    ("nll", lambda nn: nn.NLLLoss(ignore_index=0), [((6, 4), "f"), ((6,), "y")]),
    ("bce", lambda nn: nn.BCELoss(), [((4, 5), "p"), ((4, 5), "p")]),
    ("bce_logits", lambda nn: nn.BCEWithLogitsLoss(), [((4, 5), "f"), ((4, 5), "p")]),
    ("huber", lambda nn: nn.HuberLoss(delta=0.5), [((4, 5), "f"), ((4, 5), "f")]),
    ("smooth_l1", lambda nn: nn.SmoothL1Loss(beta=0.5, reduction="sum"), [((4, 5), "f"), ((4, 5), "f")]),
    ("kl_div", lambda nn: nn.KLDivLoss(reduction="batchmean"), [((4, 5), "f"), ((4, 5), "p")]),
    ("kl_div_log_target", lambda nn: nn.KLDivLoss(log_target=True), [((4, 5), "f"), ((4, 5), "f")]),
    ("cosine_embedding", lambda nn: nn.CosineEmbeddingLoss(margin=0.2), [((4, 5), "f"), ((4, 5), "f"),
                                                                          ((4,), "s")]),
    ("margin_ranking", lambda nn: nn.MarginRankingLoss(margin=0.3), [((6,), "f"), ((6,), "f"), ((6,), "s")]),
    ("hinge_embedding", lambda nn: nn.HingeEmbeddingLoss(margin=0.5), [((4, 5), "f"), ((4, 5), "s")]),
    ("soft_margin", lambda nn: nn.SoftMarginLoss(), [((4, 5), "f"), ((4, 5), "s")]),
    ("multilabel_soft_margin", lambda nn: nn.MultiLabelSoftMarginLoss(), [((4, 5), "f"), ((4, 5), "p")]),
    ("poisson_nll", lambda nn: nn.PoissonNLLLoss(), [((4, 5), "f"), ((4, 5), "pos")]),
    ("poisson_nll_full", lambda nn: nn.PoissonNLLLoss(log_input=False, full=True), [((4, 5), "pos"),
                                                                                     ((4, 5), "pos")]),
    ("gaussian_nll", lambda nn: nn.GaussianNLLLoss(full=True), [((4, 5), "f"), ((4, 5), "f"), ((4, 5), "pos")]),
    ("triplet_margin", lambda nn: nn.TripletMarginLoss(margin=0.5, p=1.5, swap=True),
     [((4, 5), "f"), ((4, 5), "f"), ((4, 5), "f")]),
]


def _loss_input(shape, kind, seed, dtype):
    rng = np.random.default_rng(seed)
    if kind == "y":
        return rng.integers(0, 4, shape).astype(np.int64)
    if kind == "s":
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(dtype)
    if kind == "p":
        p = rng.uniform(0.05, 0.95, shape)
        return (p / p.sum(-1, keepdims=True) if shape[-1] == 4 else p).astype(dtype)
    if kind == "pos":
        return rng.uniform(0.2, 3.0, shape).astype(dtype)
    return rng.uniform(-2, 2, shape).astype(dtype)


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # PyTorch's kl_div advice
@pytest.mark.parametrize("case", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_vs_torch(case, dtype, device):
    _, make, specs = case
    zm, tm = _pair(make, dtype)
    inputs = [_loss_input(s, k, i, dtype) for i, (s, k) in enumerate(specs)]
    _check_same(zm, tm, inputs, dtype, n_grad=1, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_losses_vs_torch(dtype):
    """Class weights and pos_weight are buffers: in state_dict, converted by .double(), used like PyTorch."""
    torch = torch_or_skip()
    w = np.array([0.5, 2.0, 1.0, 1.5], dtype=np.float32)
    pw = np.array([1.0, 3.0, 0.5, 2.0, 1.0], dtype=np.float32)
    cases = [
        (lambda lib, t: lib.nn.CrossEntropyLoss(weight=t(w), ignore_index=2, label_smoothing=0.1),
         [((6, 4), "f"), ((6,), "y")], ["weight"]),
        (lambda lib, t: lib.nn.NLLLoss(weight=t(w), reduction="sum"), [((6, 4), "f"), ((6,), "y")], ["weight"]),
        (lambda lib, t: lib.nn.BCELoss(weight=t(pw)), [((4, 5), "p"), ((4, 5), "p")], ["weight"]),
        (lambda lib, t: lib.nn.BCEWithLogitsLoss(weight=t(pw), pos_weight=t(pw[::-1].copy())),
         [((4, 5), "f"), ((4, 5), "p")], ["weight", "pos_weight"]),
        (lambda lib, t: lib.nn.MultiLabelSoftMarginLoss(weight=t(pw)), [((4, 5), "f"), ((4, 5), "p")], ["weight"]),
    ]
    for make, specs, keys in cases:
        zm, tm = _pair(lambda lib, make=make: make(zoo if lib is nn else torch,
                                                   zoo.tensor if lib is nn else torch.tensor), dtype)
        assert list(zm.state_dict()) == keys
        assert all(zm.state_dict()[k].dtype.name == np.dtype(dtype).name for k in keys)
        inputs = [_loss_input(s, k, i, dtype) for i, (s, k) in enumerate(specs)]
        _check_same(zm, tm, inputs, dtype, n_grad=1)


def test_loss_legacy_reduction_flags():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="reduction='mean'"):
        assert nn.CrossEntropyLoss(size_average=True, reduce=True).reduction == "mean"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.NLLLoss(reduction="sum").reduction == "sum"
    x, y = zoo.tensor([1.0, 2.0]), zoo.tensor([0.0, 0.0])
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False)(x, y).item() == 5.0


def test_loss_errors():
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")(zoo.randn(2), zoo.randn(2))
    for cls in (nn.CTCLoss, nn.MultiMarginLoss, nn.MultiLabelMarginLoss, nn.TripletMarginWithDistanceLoss):
        with pytest.raises(NotImplementedError, match=cls.__name__):
            cls()


# ------------------------------------------------------------------------------------------------------------
# batch norm: train/eval, running statistics, momentum=None, state_dict compatibility
# ------------------------------------------------------------------------------------------------------------

BN_CASES = [
    ("bn1d", lambda nn: nn.BatchNorm1d(4), (8, 4)),
    ("bn1d_seq", lambda nn: nn.BatchNorm1d(4, momentum=0.3), (6, 4, 5)),
    ("bn2d", lambda nn: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("bn2d_cumulative", lambda nn: nn.BatchNorm2d(3, momentum=None), (4, 3, 3, 3)),
    ("bn2d_noaffine", lambda nn: nn.BatchNorm2d(3, affine=False, eps=1e-3), (4, 3, 3, 3)),
    ("bn2d_nobias", lambda nn: nn.BatchNorm2d(3, bias=False), (4, 3, 3, 3)),
    ("bn2d_untracked", lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 3, 3)),
    ("bn3d", lambda nn: nn.BatchNorm3d(2), (2, 2, 3, 3, 3)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", BN_CASES, ids=[c[0] for c in BN_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_train_then_eval_vs_torch(case, dtype, device):
    _, make, shape = case
    zm, tm = _pair(make, dtype)
    tol = F64 if dtype == np.float64 else F32
    for step in range(3):  # training steps: batch statistics, running averages updated
        x = arr(*shape, seed=step, low=-1, high=3, dtype=dtype)
        _check_same(zm.train(), tm.train(), [x], dtype, device=device)
        zm.zero_grad()
        tm.zero_grad()
    for (k, zv), tv in zip(zm.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_allclose(to_numpy(zv), to_numpy(tv), err_msg=k, **tol)
    if zm.track_running_stats:
        assert zm.num_batches_tracked.item() == 3 and zm.num_batches_tracked.dtype == zoo.int64
    x = arr(*shape, seed=9, low=-1, high=3, dtype=dtype)
    _check_same(zm.eval(), tm.eval(), [x], dtype, device=device)  # running statistics (batch ones when untracked)
    for (k, zv), tv in zip(zm.state_dict().items(), tm.state_dict().values()):
        np.testing.assert_allclose(to_numpy(zv), to_numpy(tv), err_msg=k, **tol)  # eval leaves them alone


def test_batchnorm_cumulative_average_is_the_mean_of_batch_statistics(device):
    bn = nn.BatchNorm1d(3, momentum=None, affine=False).to(device)
    xs = [arr(10, 3, seed=s, low=-1, high=5) for s in range(4)]
    for x in xs:
        bn(zoo.tensor(x, dtype=zoo.float32, device=device))
    means = np.mean([x.mean(0) for x in xs], axis=0)
    variances = np.mean([x.var(0, ddof=1) for x in xs], axis=0)
    np.testing.assert_allclose(to_numpy(bn.running_mean), means, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(bn.running_var), variances, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 4


def test_batchnorm_eval_uses_running_stats_and_untracked_uses_batch_stats(device):
    bn = nn.BatchNorm1d(2, affine=False).to(device).eval()
    bn.running_mean.copy_(zoo.tensor([1.0, -1.0], device=device))
    bn.running_var.copy_(zoo.tensor([4.0, 0.25], device=device))
    x = zoo.tensor([[3.0, 0.0], [5.0, -2.0]], device=device)
    np.testing.assert_allclose(to_numpy(bn(x)), (to_numpy(x) - [1, -1]) / np.sqrt(np.array([4, 0.25]) + 1e-5),
                               rtol=1e-6)
    assert bn.num_batches_tracked.item() == 0  # eval mode does not count batches
    free = nn.BatchNorm1d(2, affine=False, track_running_stats=False).to(device).eval()
    assert free.running_mean is None and free.num_batches_tracked is None
    assert list(free.state_dict()) == []
    y = to_numpy(free(x))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-4)


def test_batchnorm_input_dimension_errors():
    for bn, bad in ((nn.BatchNorm1d(3), (2, 3, 4, 5)), (nn.BatchNorm2d(3), (2, 3, 4)),
                    (nn.BatchNorm3d(3), (2, 3, 4, 5))):
        with pytest.raises(ValueError, match=rf"\(got {len(bad)}D input\)"):
            bn(zoo.randn(*bad))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input\)"):
        nn.BatchNorm1d(3)(zoo.randn(3))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(zoo.randn(2, 3, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(zoo.randn(1, 3))


def test_batchnorm_loads_checkpoints_without_num_batches_tracked(device):
    bn = nn.BatchNorm2d(3).to(device)
    bn.num_batches_tracked.fill_(7)
    old = {k: v for k, v in nn.BatchNorm2d(3).state_dict().items() if k != "num_batches_tracked"}
    old["running_mean"] = zoo.tensor([1.0, 2.0, 3.0])
    keys_before = list(old)
    result = bn.load_state_dict(old)  # strict, and no missing key
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(old) == keys_before  # the caller's dict is not modified
    assert bn.num_batches_tracked.item() == 7
    np.testing.assert_array_equal(to_numpy(bn.running_mean), [1, 2, 3])
    assert bn.running_mean.device.type == device  # loaded into the module's own storage
    seq = nn.Sequential(nn.Identity(), nn.BatchNorm2d(3)).to(device)
    sd = {k: v for k, v in seq.state_dict().items() if not k.endswith("num_batches_tracked")}
    seq.load_state_dict(sd)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.running_var"'):
        seq.load_state_dict({k: v for k, v in sd.items() if k != "1.running_var"})


# ------------------------------------------------------------------------------------------------------------
# default initialisation: PyTorch's distributions and bounds
# ------------------------------------------------------------------------------------------------------------


def _check_uniform(a, bound):
    a = to_numpy(a).ravel()
    assert np.all(np.abs(a) <= bound)
    assert np.abs(a).max() > 0.98 * bound  # fills the whole interval
    np.testing.assert_allclose(a.std(), bound / math.sqrt(3), rtol=0.03)
    assert abs(a.mean()) < 0.03 * bound


@pytest.mark.parametrize("in_f,out_f", [(256, 300), (40, 2000)])
def test_linear_init_matches_pytorch_bounds(in_f, out_f, device):
    m = nn.Linear(in_f, out_f, device=device)  # initialised on the device, from its generator
    # kaiming_uniform_(a=sqrt(5)): bound = gain·sqrt(3/fan_in) with gain = sqrt(2/(1+5)) → 1/sqrt(fan_in)
    _check_uniform(m.weight, 1 / math.sqrt(in_f))
    assert np.all(np.abs(to_numpy(m.bias)) <= 1 / math.sqrt(in_f))
    assert m.weight.dtype == zoo.float32 and m.weight.requires_grad and m.bias.shape == (out_f,)
    assert m.weight.device.type == device


def test_bilinear_prelu_embedding_and_norm_init(device):
    b = nn.Bilinear(64, 10, 300, device=device)
    _check_uniform(b.weight, 1 / math.sqrt(64))
    assert np.all(np.abs(to_numpy(b.bias)) <= 1 / math.sqrt(64))
    np.testing.assert_array_equal(to_numpy(nn.PReLU(5, device=device).weight), np.full(5, 0.25, np.float32))
    np.testing.assert_array_equal(to_numpy(nn.PReLU(init=0.1, device=device).weight), np.full(1, 0.1, np.float32))
    e = to_numpy(nn.Embedding(1000, 100, device=device).weight)
    assert abs(e.mean()) < 0.01 and abs(e.std() - 1) < 0.01  # N(0, 1)
    e = nn.Embedding(10, 4, padding_idx=-2, device=device)
    assert e.padding_idx == 8
    np.testing.assert_array_equal(to_numpy(e.weight)[8], 0)
    assert to_numpy(e.weight)[7].any()
    for m in (nn.LayerNorm((2, 3), device=device), nn.GroupNorm(2, 4, device=device), nn.BatchNorm1d(4, device=device),
              nn.RMSNorm(3, device=device)):
        np.testing.assert_array_equal(to_numpy(m.weight), 1)
        if getattr(m, "bias", None) is not None:
            np.testing.assert_array_equal(to_numpy(m.bias), 0)
    bn = nn.BatchNorm2d(3, device=device)
    np.testing.assert_array_equal(to_numpy(bn.running_mean), 0)
    np.testing.assert_array_equal(to_numpy(bn.running_var), 1)
    assert bn.num_batches_tracked.dtype == zoo.int64 and bn.num_batches_tracked.shape == ()


@pytest.mark.oracle
def test_init_statistics_agree_with_pytorch():
    """Same distribution as PyTorch's own layers: compare range and spread of the freshly initialised weights."""
    torch = torch_or_skip()
    torch.manual_seed(0)
    for make, uniform in ((lambda nn: nn.Linear(200, 300), True), (lambda nn: nn.Bilinear(30, 20, 100), True),
                          (lambda nn: nn.Embedding(500, 64), False)):
        z, t = to_numpy(make(nn).weight), make(torch.nn).weight.detach().numpy()
        np.testing.assert_allclose(z.std(), t.std(), rtol=0.03)
        assert abs(z.mean() - t.mean()) < 0.01 * t.std()
        if uniform:  # the same bound, reached by both
            np.testing.assert_allclose(np.abs(z).max(), np.abs(t).max(), rtol=0.01)


def test_factory_kwargs_and_reset_parameters(device):
    m = nn.Linear(3, 4, dtype=zoo.float64, device=device)
    assert m.weight.dtype == zoo.float64 and m.bias.dtype == zoo.float64 and m.weight.device.type == device
    bn = nn.BatchNorm1d(3, dtype=zoo.float64, device=device)
    assert bn.running_mean.dtype == zoo.float64 and bn.num_batches_tracked.dtype == zoo.int64
    assert bn.running_mean.device.type == bn.num_batches_tracked.device.type == device
    kw = dict(dtype=zoo.float64, device=device)
    for m in (nn.Embedding(4, 2, **kw), nn.LayerNorm(3, **kw), nn.PReLU(**kw), nn.GroupNorm(1, 2, **kw),
              nn.RMSNorm(2, **kw), nn.Bilinear(2, 2, 2, **kw)):
        assert m.weight.dtype == zoo.float64 and m.weight.device.type == device
    lin = nn.Linear(3, 4, device=device)
    before = to_numpy(lin.weight).copy()
    lin.reset_parameters()
    assert not np.array_equal(before, to_numpy(lin.weight))
    nn.Linear(0, 3, device=device)  # an empty fan-in initialises without error
    assert nn.Linear(3, 4, bias=False).bias is None


# ------------------------------------------------------------------------------------------------------------
# repr: identical to PyTorch's
# ------------------------------------------------------------------------------------------------------------

REPR_CASES = [
    lambda nn: nn.Linear(3, 4), lambda nn: nn.Linear(3, 4, bias=False), lambda nn: nn.Bilinear(2, 3, 4),
    lambda nn: nn.Identity(), lambda nn: nn.ReLU(), lambda nn: nn.ReLU(inplace=True), lambda nn: nn.ReLU6(True),
    lambda nn: nn.GELU(), lambda nn: nn.GELU("tanh"), lambda nn: nn.SiLU(), lambda nn: nn.Mish(True),
    lambda nn: nn.Tanh(), lambda nn: nn.Sigmoid(), lambda nn: nn.LeakyReLU(), lambda nn: nn.LeakyReLU(0.2, True),
    lambda nn: nn.ELU(), lambda nn: nn.SELU(True), lambda nn: nn.CELU(2.0), lambda nn: nn.Softplus(),
    lambda nn: nn.Softsign(), lambda nn: nn.Softmax(), lambda nn: nn.Softmax(dim=1), lambda nn: nn.LogSoftmax(-1),
    lambda nn: nn.Softmin(0), lambda nn: nn.Softmax2d(), lambda nn: nn.Hardtanh(), lambda nn: nn.Hardtanh(-2, 3, True),
    lambda nn: nn.Hardswish(True), lambda nn: nn.Hardsigmoid(), lambda nn: nn.Hardshrink(),
    lambda nn: nn.Softshrink(0.3), lambda nn: nn.Tanhshrink(), lambda nn: nn.Threshold(0.1, 20),
    lambda nn: nn.Threshold(0.1, 20, True), lambda nn: nn.LogSigmoid(), lambda nn: nn.PReLU(),
    lambda nn: nn.PReLU(3), lambda nn: nn.GLU(), lambda nn: nn.RReLU(), lambda nn: nn.RReLU(0.1, 0.3, True),
    lambda nn: nn.Flatten(), lambda nn: nn.Flatten(0, 2), lambda nn: nn.Unflatten(1, (2, 3)),
    lambda nn: nn.Unflatten(-1, [2, 3]), lambda nn: nn.Dropout(), lambda nn: nn.Dropout(0.2, True),
    lambda nn: nn.Dropout1d(), lambda nn: nn.Dropout2d(0.1), lambda nn: nn.Dropout3d(),
    lambda nn: nn.AlphaDropout(), lambda nn: nn.FeatureAlphaDropout(0.2), lambda nn: nn.Embedding(10, 3),
    lambda nn: nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True),
    lambda nn: nn.EmbeddingBag(10, 3), lambda nn: nn.EmbeddingBag(10, 3, mode="max", padding_idx=2),
    lambda nn: nn.EmbeddingBag(10, 3, max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True, mode="sum"),
    lambda nn: nn.LayerNorm(4), lambda nn: nn.LayerNorm([3, 4], elementwise_affine=False, bias=False),
    lambda nn: nn.LayerNorm(4, eps=1e-6, bias=False), lambda nn: nn.GroupNorm(2, 4),
    lambda nn: nn.GroupNorm(2, 4, affine=False), lambda nn: nn.RMSNorm(4), lambda nn: nn.RMSNorm([2, 3], eps=1e-3),
    lambda nn: nn.LocalResponseNorm(2), lambda nn: nn.BatchNorm1d(3),
    lambda nn: nn.BatchNorm2d(3, momentum=None, affine=False, track_running_stats=False),
    lambda nn: nn.BatchNorm3d(5, eps=1e-3, bias=False), lambda nn: nn.CrossEntropyLoss(), lambda nn: nn.MSELoss(),
    lambda nn: nn.BCEWithLogitsLoss(), lambda nn: nn.KLDivLoss(reduction="batchmean"),
    lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(inplace=True),
                             nn.Dropout(0.1), nn.Linear(8, 2), nn.LogSoftmax(dim=1)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("i", range(len(REPR_CASES)))
def test_repr_equals_pytorch(i):
    torch = torch_or_skip()
    assert repr(REPR_CASES[i](nn)) == repr(REPR_CASES[i](torch.nn))


# ------------------------------------------------------------------------------------------------------------
# dropout modules, embedding options, activations' arguments, unsupported features
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                                 nn.FeatureAlphaDropout])
def test_dropout_modules_respect_training(cls, device):
    shape = {nn.Dropout1d: (8, 16, 5), nn.Dropout3d: (8, 16, 2, 2, 2)}.get(cls, (8, 16, 4, 4))
    x = zoo.randn(*shape, device=device)
    m = cls(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert m.eval()(x) is x or np.array_equal(to_numpy(m(x)), to_numpy(x))
        y = to_numpy(m.train()(x))
    assert not np.array_equal(y, to_numpy(x))
    assert cls(0.0)(x) is x or np.array_equal(to_numpy(cls(0.0)(x)), to_numpy(x))


def test_dropout_statistics_and_channel_masks(device):
    x = zoo.ones(200, 500, device=device)
    y = to_numpy(nn.Dropout(0.3)(x))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01
    y = to_numpy(nn.Dropout2d(0.5)(zoo.ones(16, 32, 3, 3, device=device)))
    per_channel = y.reshape(16, 32, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))  # whole channels kept or dropped
    y = to_numpy(nn.AlphaDropout(0.2)(zoo.randn(400, 500, device=device)))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    x = zoo.ones(4, 5, device=device)
    out = nn.Dropout(0.5, inplace=True)(x)
    assert out is x or np.array_equal(to_numpy(out), to_numpy(x))
    assert (to_numpy(x) == 0).any()  # the input itself was modified
    for p in (-0.1, 1.1):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(p)


def test_dropout_reproducible_under_manual_seed(device):
    m = nn.Dropout(0.5)
    zoo.manual_seed(3)
    a = to_numpy(m(zoo.ones(50, device=device)))
    zoo.manual_seed(3)
    b = to_numpy(m(zoo.ones(50, device=device)))
    np.testing.assert_array_equal(a, b)


def test_embedding_padding_from_pretrained_and_errors(device):
    e = nn.Embedding(6, 3, padding_idx=1, device=device)
    out = e(zoo.tensor([[1, 2, 1], [0, 5, 1]], device=device))
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(to_numpy(out)[0, 0], 0)
    out.sum().backward()
    g = to_numpy(e.weight.grad)
    np.testing.assert_array_equal(g[1], 0)  # the padding row gets no gradient
    np.testing.assert_array_equal(g[[0, 2, 5]], 1)
    np.testing.assert_array_equal(g[[3, 4]], 0)

    w = zoo.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], device=device)
    frozen = nn.Embedding.from_pretrained(w, padding_idx=0)
    assert not frozen.weight.requires_grad and frozen.padding_idx == 0
    np.testing.assert_array_equal(to_numpy(frozen.weight)[0], [1, 2])  # not zeroed
    assert frozen.weight.data_ptr() == w.data_ptr()  # shares memory
    assert list(frozen.state_dict()) == ["weight"] and list(frozen.parameters())[0] is frozen.weight
    trainable = nn.Embedding.from_pretrained(w, freeze=False)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(to_numpy(trainable(zoo.tensor([2, 0], device=device))), [[5, 6], [1, 2]])
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(zoo.ones(3))
    for bad in (6, -7):
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            nn.Embedding(6, 3, padding_idx=bad)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(6, 3, _weight=zoo.ones(5, 3))
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(6, 3, sparse=True)
    with pytest.raises(IndexError, match="out of range"):
        nn.Embedding(6, 3, device=device)(zoo.tensor([6], device=device))


BAG_CASES = [
    ("sum", dict(mode="sum")), ("mean", dict(mode="mean")), ("max", dict(mode="max")),
    ("mean_padding", dict(mode="mean", padding_idx=2)), ("sum_padding_negative", dict(mode="sum", padding_idx=-1)),
    ("max_padding", dict(mode="max", padding_idx=2)), ("last_offset", dict(mode="mean", include_last_offset=True)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("case", BAG_CASES, ids=[c[0] for c in BAG_CASES])
@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_bag_vs_torch(case, dtype):
    kw = case[1]
    zm, tm = _pair(lambda nn: nn.EmbeddingBag(10, 3, **kw), dtype)
    _check_same(zm, tm, [np.array([[1, 2, 3], [2, 2, 9], [4, 5, 2]])], dtype)  # fixed-length bags (2-D input)
    if kw["mode"] != "max":
        zm.zero_grad()
        tm.zero_grad()
        ids = np.array([1, 2, 3, 2, 2, 9, 4, 5, 2, 7])
        offsets = np.array([0, 3, 3, 6] + ([10] if kw.get("include_last_offset") else []))  # an empty bag too
        _check_same(zm, tm, [ids, offsets], dtype)
    if kw["mode"] == "sum":
        zm.zero_grad()
        tm.zero_grad()
        _check_same(zm, tm, [np.array([1, 2, 3, 4, 5]), np.array([0, 2]), arr(5, seed=3, dtype=dtype)], dtype,
                    n_grad=3)


def test_embedding_bag_errors():
    bag = nn.EmbeddingBag(6, 3)
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(zoo.tensor([[1, 2]]), zoo.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        bag(zoo.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(zoo.tensor([[1, 2]]), per_sample_weights=zoo.ones(1, 2))
    with pytest.raises(NotImplementedError, match="mode='max'"):
        nn.EmbeddingBag(6, 3, mode="max")(zoo.tensor([1, 2]), zoo.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(6, 3, mode="median")
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.EmbeddingBag(6, 3, sparse=True)
    frozen = nn.EmbeddingBag.from_pretrained(zoo.ones(4, 2), mode="sum")
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(to_numpy(frozen(zoo.tensor([[0, 1, 2]]))), [[3.0, 3.0]])
    np.testing.assert_array_equal(to_numpy(nn.EmbeddingBag(4, 2, padding_idx=1).weight)[1], 0)
    assert nn.EmbeddingBag(4, 2, padding_idx=-1).padding_idx == 3
    for bad in (4, -5):
        with pytest.raises(AssertionError, match="^padding_idx must be within num_embeddings"):
            nn.EmbeddingBag(4, 2, padding_idx=bad)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.EmbeddingBag(4, 2, _weight=zoo.ones(4, 3))
    with pytest.raises(AssertionError, match="expected to be 2-dimensional"):
        nn.EmbeddingBag.from_pretrained(zoo.ones(4))
    shared = zoo.ones(4, 2)
    assert nn.EmbeddingBag(4, 2, _weight=shared).weight.requires_grad  # given weights are kept, not reset
    np.testing.assert_array_equal(to_numpy(nn.EmbeddingBag(4, 2, _weight=shared, padding_idx=0).weight), 1)


def test_embedding_max_norm_renormalises_weight_rows_in_place(device):
    e = nn.Embedding(4, 3, max_norm=1.0, device=device)
    with zoo.no_grad():
        e.weight.copy_(zoo.tensor([[3.0, 4.0, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 2.0], [6.0, 8.0, 0.0]], device=device))
    e(zoo.tensor([0, 1], device=device))
    norms = np.linalg.norm(to_numpy(e.weight), axis=1)
    np.testing.assert_allclose(norms[:2], [1.0, 0.1], rtol=1e-5)
    np.testing.assert_allclose(norms[2:], [2.0, 10.0])  # rows not looked up are untouched


def test_module_argument_errors_and_unsupported_features():
    with pytest.raises(NotImplementedError, match="LazyLinear"):
        nn.LazyLinear(4)
    with pytest.raises(ValueError, match="must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.warns(FutureWarning, match="min_value"):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="element of type float at pos 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(NotImplementedError, match="named"):
        nn.Unflatten("features", (("a", 2),))
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(zoo.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"input shape \(2, 5\)"):
        nn.Linear(3, 4)(zoo.randn(2, 5))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        nn.PReLU(3)(zoo.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\]"):
        nn.LayerNorm(4)(zoo.randn(2, 3))
    assert nn.Unflatten(1, zoo.Size([2, 3]))(zoo.randn(4, 6)).shape == (4, 2, 3)
    m = nn.Softmax()
    with pytest.warns(UserWarning, match="Implicit dimension"):
        m(zoo.randn(2, 3))


def test_layers_are_modules_with_expected_parameters():
    assert [n for n, _ in nn.Linear(2, 3).named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in nn.BatchNorm1d(2).named_buffers()] == ["running_mean", "running_var",
                                                                  "num_batches_tracked"]
    assert list(nn.ReLU().parameters()) == [] and list(nn.MSELoss().state_dict()) == []
    assert list(nn.CrossEntropyLoss(weight=zoo.ones(3)).state_dict()) == ["weight"]
    assert [n for n, _ in nn.GroupNorm(1, 2, affine=False).named_parameters()] == []
    assert nn.LayerNorm(3, bias=False).bias is None


@pytest.mark.parametrize("dtype", [zoo.float32, zoo.float64])
def test_small_network_trains(dtype, device):
    """An MLP built from these layers fits a small regression problem with plain gradient descent."""
    zoo.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.LayerNorm(32), nn.GELU(), nn.Dropout(0.0), nn.Linear(32, 1))
    model.to(device, dtype)
    x = zoo.tensor(arr(64, 4), dtype=dtype, device=device)
    y = (x * zoo.tensor([1.0, -2.0, 0.5, 3.0], dtype=dtype, device=device)).sum(1, keepdim=True)
    loss_fn = nn.MSELoss()
    first = loss_fn(model(x), y).item()
    for _ in range(200):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with zoo.no_grad():
            for p in model.parameters():
                p -= 0.02 * p.grad
    assert loss.item() < 0.02 * first


@pytest.mark.oracle
def test_non_dynamically_quantizable_linear_is_a_linear_with_pytorchs_name():
    torch = torch_or_skip()
    from zoo.core.nn.modules.linear import NonDynamicallyQuantizableLinear
    m = NonDynamicallyQuantizableLinear(4, 4, bias=False)
    assert isinstance(m, nn.Linear) and not hasattr(nn, "NonDynamicallyQuantizableLinear")
    assert repr(m) == repr(torch.nn.modules.linear.NonDynamicallyQuantizableLinear(4, 4, bias=False))
