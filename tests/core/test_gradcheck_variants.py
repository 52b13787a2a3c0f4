"""Gradchecks of the variants the op tests leave out: broadcasting, 0-d, empty and non-contiguous inputs (the
views are made inside the checked function, so the op really sees them), and in-place ops."""
import numpy as np
import pytest

import zoo
from tests.helpers import arr, check_grad

F = zoo.nn.functional
T = lambda x: x.transpose(0, 1)  # noqa: E731  a non-contiguous view of a 2-D leaf
def make_cases(device):
    """name -> (function, input arrays); the index and mask tensors the functions use are made on ``device``."""
    IDX = zoo.tensor([[0, 2], [1, 0], [2, 2]], device=device)
    return {
        # pow / remainder: broadcasting, 0-d, empty, non-contiguous
        "pow broadcast": (lambda a, b: a ** b, arr(2, 3, low=0.5, high=2), arr(3, seed=1)),
        "pow 0-d": (lambda a, b: a ** b, arr(low=0.5, high=2), arr(seed=1)),
        "pow empty": (lambda a: a ** 2.5, arr(0, 3)),
        "pow non-contiguous": (lambda a, b: T(a) ** b[::2], arr(3, 2, low=0.5, high=2), arr(4, 3, seed=1)),
        "remainder broadcast": (lambda a, b: a % b, arr(2, 3, low=1, high=5), arr(3, seed=1, low=0.7, high=0.9)),
        "remainder 0-d": (lambda a, b: a % b, arr(low=1, high=5), arr(seed=1, low=0.7, high=0.9)),
        "remainder empty": (lambda a: a % 0.7, arr(0, 3)),
        "remainder non-contiguous": (lambda a: T(a) % 0.7, arr(3, 2, low=1, high=5)),
        "sign": (lambda a: a.sign() * a, arr(2, 3)),
        "where": (lambda a, b: zoo.where(a > 0, T(a), b), arr(3, 3), arr(3, seed=1)),
        "where 0-d": (lambda a, b: zoo.where(a > 0, a, b), arr(), arr(seed=1)),
        "clamp non-contiguous": (lambda a: T(a).clamp(-0.5, 0.5), arr(3, 2)),
        "clamp tensor bounds": (lambda a, lo: a.clamp(min=lo), arr(2, 3), arr(3, seed=1)),
        "masked_fill": (lambda a: T(a).masked_fill(zoo.tensor([[True, False, True], [False, False, True]],
                                                              device=device), 0.5), arr(3, 2)),
        # log family / sqrt / rsqrt: 0-d and empty
        **{f"{op} {kind}": (getattr(zoo, op), arr(*shape, low=0.5, high=2)) for op in
           ("log", "log1p", "log2", "sqrt", "rsqrt") for kind, shape in (("0-d", ()), ("empty", (0, 2)))},
        # reductions
        "mean empty dim": (lambda a: a.mean(1), arr(0, 3)),
        "var 0-d": (lambda a: a.reshape(1).var(unbiased=False) + a.var(correction=0), arr()),
        "std empty batch": (lambda a: a.std(1), arr(0, 3)),
        "logsumexp 0-d": (lambda a: a.logsumexp(0), arr()),
        "norm 0-d": (lambda a: a.norm(), np.array(arr() + 2)),
        "norm empty": (lambda a: a.norm(dim=1), arr(0, 3)),
        **{f"{op} empty non-reduced": ((lambda op: lambda a: getattr(a, op)(1)[0] if op in ("max", "min")
                                        else getattr(a, op)(1))(op), arr(0, 3))
           for op in ("max", "min", "amax", "amin")},
        # linear algebra
        "outer empty": (zoo.outer, arr(0), arr(3, seed=1)),
        "outer non-contiguous": (lambda a, b: zoo.outer(a[::2], b[::3]), arr(6), arr(6, seed=1)),
        "bmm empty": (zoo.bmm, arr(0, 2, 3), arr(0, 3, 4, seed=1)),
        # shape / indexing ops on non-contiguous input
        "split non-contiguous": (lambda a: zoo.cat(T(a).split(2, 1)[::-1], 1), arr(3, 2)),
        "chunk non-contiguous": (lambda a: T(a).chunk(2, 1)[1], arr(3, 2)),
        "narrow non-contiguous": (lambda a: T(a).narrow(1, 1, 2), arr(3, 2)),
        "flip non-contiguous": (lambda a: T(a).flip(0, 1), arr(3, 2)),
        "roll non-contiguous": (lambda a: T(a).roll(1, 1), arr(3, 2)),
        "tril non-contiguous": (lambda a: T(a).tril(), arr(3, 3)),
        "repeat non-contiguous": (lambda a: T(a).repeat(2, 1), arr(3, 2)),
        "index_select non-contiguous": (lambda a: T(a).index_select(1, zoo.tensor([2, 0, 2], device=device)),
                                        arr(3, 2)),
        "scatter non-contiguous": (lambda a, s: T(a).scatter(1, IDX[:2], s[:, :2]), arr(3, 2), arr(2, 3, seed=1)),
        "scatter_add non-contiguous": (lambda a, s: T(a).scatter_add(1, IDX[:2], s[:, :2]), arr(3, 2),
                                       arr(2, 3, seed=1)),
        "unsqueeze non-contiguous": (lambda a: T(a).unsqueeze(1), arr(3, 2)),
        "stack non-contiguous": (lambda a, b: zoo.stack([T(a), b[::2]]), arr(3, 2), arr(4, 3, seed=1)),
        # 0-d
        "flip 0-d": (lambda a: a.flip(0) * a, arr()),
        "roll 0-d": (lambda a: a.roll(1) * a, arr()),
        "gather 0-d": (lambda a: a.gather(0, zoo.tensor(0, device=device)), arr()),
        "index_select 0-d": (lambda a: a.index_select(0, zoo.tensor([0], device=device)), arr()),
        "scatter 0-d": (lambda a, s: a.scatter(0, zoo.tensor(0, device=device), s), arr(), arr(seed=1)),
        # empty
        "split empty": (lambda a: a.split(1, 1)[0], arr(0, 2)),
        "narrow empty": (lambda a: a.narrow(1, 0, 0), arr(2, 3)),
        "gather empty": (lambda a: a.gather(1, zoo.zeros(2, 0, dtype=zoo.int64, device=device)), arr(2, 3)),
        "scatter empty": (lambda a: a.scatter(1, zoo.zeros(2, 0, dtype=zoo.int64, device=device), 1.0), arr(2, 3)),
        "index_select empty": (lambda a: a.index_select(1, zoo.tensor([], dtype=zoo.int64, device=device)), arr(2, 3)),
        "topk empty": (lambda a: a.topk(0, 1)[0], arr(2, 3)),
        # nn.functional
        "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), arr(2, 3, 7), arr(4, 3, 3, seed=1),
                   arr(4, seed=2)),
        "conv_transpose1d": (lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1), arr(2, 3, 5),
                             arr(3, 2, 3, seed=1)),
        "max_pool1d": (lambda x: F.max_pool1d(x, 2), arr(2, 3, 6)),
        "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, stride=2, padding=1), arr(2, 3, 7)),
        "adaptive_avg_pool1d": (lambda x: F.adaptive_avg_pool1d(x, 3), arr(2, 3, 7)),
        "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), arr(2, 4, 3), arr(4, seed=1), arr(4, seed=2)),
        "rms_norm": (lambda x, w: F.rms_norm(x, (3,), w), arr(2, 3), arr(3, seed=1)),
        "glu": (lambda x: F.glu(x, -1), arr(2, 4)),
        "unfold": (lambda x: F.unfold(x, 2), arr(1, 2, 3, 3)),
        "fold": (lambda x: F.fold(x, (3, 3), 2), arr(1, 8, 4)),
        "cosine_similarity": (lambda a, b: F.cosine_similarity(a, b), arr(3, 4), arr(3, 4, seed=1)),
        "nll_loss": (lambda x: F.nll_loss(x, zoo.tensor([0, 2, 1], device=device)), arr(3, 3)),
        "l1_loss": (lambda a, b: F.l1_loss(a, b), arr(3, 4), arr(3, 4, seed=1)),
        "huber_loss": (lambda a, b: F.huber_loss(a, b, delta=0.5), arr(3, 4), arr(3, 4, seed=1)),
        "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), arr(3, 4), arr(3, 4, seed=1)),
        "binary_cross_entropy": (lambda p: F.binary_cross_entropy(p, zoo.tensor([[0.0, 1.0], [1.0, 0.3]],
                                                                                 dtype=zoo.float64, device=device)),
                                 arr(2, 2, low=0.1, high=0.9)),
        "binary_cross_entropy_with_logits": (lambda x, t: F.binary_cross_entropy_with_logits(x, t), arr(2, 3),
                                             arr(2, 3, seed=1, low=0, high=1)),
        "kl_div": (lambda x, t: F.kl_div(x, t, reduction="batchmean"), arr(2, 3), arr(2, 3, seed=1, low=0.1, high=1)),
        "cross_entropy": (lambda x: F.cross_entropy(x, zoo.tensor([0, 2], device=device)), arr(2, 3)),
        "cross_entropy probabilities": (lambda x, t: F.cross_entropy(x, t.softmax(1)), arr(2, 3), arr(2, 3, seed=1)),
        "embedding non-contiguous": (lambda w: F.embedding(zoo.tensor([[0, 2], [1, 1]], device=device), T(w)),
                                     arr(3, 4)),
        "sdpa non-contiguous": (lambda q, k, v: F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                                              v.transpose(1, 2), is_causal=True),
                                arr(1, 3, 2, 4), arr(1, 3, 2, 4, seed=1), arr(1, 3, 2, 4, seed=2)),
        # 0-d losses and embedding
        **{f"{name} 0-d": (fn, arr(low=0.2, high=0.8), arr(seed=1, low=0.2, high=0.8)) for name, fn in (
            ("l1_loss", F.l1_loss), ("smooth_l1_loss", F.smooth_l1_loss), ("huber_loss", F.huber_loss),
            ("binary_cross_entropy", F.binary_cross_entropy),
            ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits), ("kl_div", F.kl_div))},
        "embedding 0-d index": (lambda w: F.embedding(zoo.tensor(1, device=device), w), arr(3, 4)),
        # in-place ops (on a non-leaf copy)
        "add_": (lambda x, y: (x * 1).add_(y, alpha=2), arr(2, 3), arr(3, seed=1)),
        "sub_": (lambda x, y: (x * 1).sub_(y), arr(2, 3), arr(3, seed=1)),
        "mul_": (lambda x, y: (x * 1).mul_(y), arr(2, 3), arr(3, seed=1)),
        "div_": (lambda x, y: (x * 1).div_(y), arr(2, 3), arr(3, seed=1, low=0.5, high=2)),
        "clamp_": (lambda x: (x * 1).clamp_(-0.5, 0.5), arr(2, 3)),
        "copy_": (lambda x, y: (x * 1).copy_(y) * x, arr(2, 3), arr(3, seed=1)),
        "fill_": (lambda x, v: (x * 1).fill_(v) * x, arr(2, 3), arr(seed=1)),
        "zero_": (lambda x: (x * 1).zero_() + x, arr(2, 3)),
        "masked_fill_": (lambda x: (x * 1).masked_fill_(x > 0, 0.5) * x, arr(2, 3)),
        "scatter_": (lambda x, s: (x * 1).scatter_(1, IDX[:2], s[:, :2]), arr(2, 3), arr(2, 3, seed=1)),
        "scatter_add_": (lambda x, s: (x * 1).scatter_add_(1, IDX[:2], s[:, :2]), arr(2, 3), arr(2, 3, seed=1)),
    }


@pytest.mark.parametrize("case", list(make_cases("cpu")))
def test_gradcheck_variant(case, device):
    fn, *inputs = make_cases(device)[case]
    check_grad(fn, *inputs, device=device)
