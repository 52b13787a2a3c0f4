"""The opt-in helper process (zoo.core.parallel): shared arena, job hand-off, failures, fork and exit safety, and
the ops that split their work on it giving the same results as without it."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import zoo
from zoo.core import parallel
from zoo.core.parallel.arena import Arena

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create") or not hasattr(os, "fork"),
                                reason="the helper process needs memfd_create and fork (Linux)")


# kernels the helper imports by name from this module ------------------------------------------------------------

def fill_range(start, stop, out, value):
    out[start:stop] = value + np.arange(start, stop)


def fail_in_helper(start, stop, out):
    out[start:stop] = 1
    if start > 0:
        raise ValueError(f"failing on purpose at {start}")


def slow_in_helper(start, stop, out):
    if start > 0:
        time.sleep(2.0)
    out[start:stop] = 7


def range_sum(start, stop, scale):
    return scale * np.arange(start, stop).sum(), (start, stop)


def too_large_result(start, stop):
    return np.zeros(8 << 20, np.uint8)


# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def helper():
    parallel.enable()
    deadline = time.monotonic() + 60
    while parallel._helper() is None:
        assert time.monotonic() < deadline, "the helper process did not become ready within 60 s"
        time.sleep(0.01)
    yield parallel._state["helper"]
    parallel.disable()


@pytest.fixture
def posted(helper, monkeypatch):
    """The names of the kernels posted to the helper (for run_chunks and blockwise: the kernel they run)."""
    names = set()
    post = helper.post

    def recording_post(fn, cut, n, args):
        ok = post(fn, cut, n, args)
        if ok:
            names.add(args[0].__name__ if fn.__name__ in ("_chunk_list", "_run_blocks") else fn.__name__)
        return ok

    monkeypatch.setattr(helper, "post", recording_post)
    return names


def _jobs():
    return parallel._state["jobs"]


def test_off_by_default():
    env = {k: v for k, v in os.environ.items() if k != "ZOO_HELPER_PROCESS"}
    code = ("import numpy as np, zoo; from zoo.core import parallel; a = parallel.empty((1000,), np.float32); "
            "print(parallel.is_enabled(), parallel._state['arena'] is None)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_split_runs_halves_on_both_processes(helper):
    out = parallel.empty((1000,), np.float64)
    assert parallel._state["arena"].offset_of(out) is not None
    before = _jobs()
    parallel.split(fill_range, 1000, out, 5.0)
    assert _jobs() == before + 1
    np.testing.assert_array_equal(out, 5.0 + np.arange(1000))


_AUTO = """
import os, time, numpy as np, zoo
from zoo.core import parallel
zoo.set_num_threads({threads})
x = zoo.ones(3, requires_grad=True)
before = parallel.is_enabled()
(x * 2).sum().backward()
print(before, parallel.is_enabled(), zoo.get_num_threads())
"""


@pytest.mark.parametrize("setting,threads,started", [("", 2, True), ("0", 2, False), ("", 3, False), ("", 1, False)])
def test_first_backward_on_two_threads_starts_the_helper(setting, threads, started):
    env = dict(os.environ, ZOO_HELPER_PROCESS=setting)
    out = subprocess.run([sys.executable, "-c", _AUTO.format(threads=threads)], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", str(started), str(threads)]


@pytest.fixture
def two_threads_auto(monkeypatch):
    """zoo on two threads, deciding about the helper by itself; the thread count and the helper restored after."""
    monkeypatch.setitem(parallel._state, "auto", True)
    before = zoo.get_num_threads()
    zoo.set_num_threads(2)
    yield
    parallel.disable()
    zoo.set_num_threads(before)


def test_set_num_threads_stops_an_automatic_helper_unless_two(two_threads_auto):
    parallel.start_for_training(np.ones(3))
    assert parallel.is_enabled() and zoo.get_num_threads() == 2
    zoo.set_num_threads(4)
    assert not parallel.is_enabled() and zoo.get_num_threads() == 4
    parallel.start_for_training(np.ones(3))  # four threads: BLAS's
    assert not parallel.is_enabled()
    zoo.set_num_threads(2)
    parallel.start_for_training(np.ones(3))
    assert parallel.is_enabled()
    parallel.disable()  # explicitly off: later backward passes leave it off
    parallel.start_for_training(np.ones(3))
    assert not parallel.is_enabled()


def test_limited_threads_stop_the_helper_for_a_block_and_restore_the_count(two_threads_auto):
    from zoo.core.threads import limited
    parallel.start_for_training(np.ones(3))
    assert parallel.is_enabled()
    with limited(1):
        assert not parallel.is_enabled() and zoo.get_num_threads() == 1
        parallel.start_for_training(np.ones(3))  # a backward pass inside the block: still one thread
        assert not parallel.is_enabled()
    assert zoo.get_num_threads() == 2
    parallel.start_for_training(np.ones(3))
    assert parallel.is_enabled()


def test_heap_memory_goes_back_once_after_the_first_backward_with_the_helper(helper, monkeypatch):
    calls = []
    monkeypatch.setattr(parallel._malloc, "release_free", lambda: calls.append(1))
    monkeypatch.setitem(parallel._state, "trimmed", False)
    x = zoo.ones(3, requires_grad=True)
    for _ in range(2):
        (x * 2).sum().backward()
    assert calls == [1]


def test_split_returns_what_both_ranges_return(helper):
    before = _jobs()
    halves = [(2.0 * sum(range(50)), (0, 50)), (2.0 * sum(range(50, 100)), (50, 100))]
    assert parallel.split(range_sum, 100, 2.0) == halves
    assert _jobs() == before + 1
    parallel.disable()
    assert parallel.split(range_sum, 100, 2.0) == [(2.0 * sum(range(100)), (0, 100))]


def test_result_too_large_for_the_control_block_raises(helper):
    with pytest.raises(RuntimeError, match="fit in the control block"):
        parallel.split(too_large_result, 2)
    assert parallel.split(range_sum, 4, 1.0)[1] == (5.0, (2, 4))  # the helper goes on


def test_split_with_array_outside_arena_runs_here(helper):
    out = np.zeros(100_000)  # 800 KB outside the arena: the helper could not write it
    before = _jobs()
    parallel.split(fill_range, out.size, out, 1.0)
    assert _jobs() == before
    np.testing.assert_array_equal(out, 1.0 + np.arange(out.size))


@pytest.mark.parametrize("shapes", [((300, 70), (70, 90)), ((40, 300), (300, 500)), ((6, 80, 50), (6, 50, 60))])
def test_matmul_splits_rows_reductions_and_batches(helper, shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    before = _jobs()
    got = parallel.matmul(a, b, batched=a.ndim == 3)
    assert _jobs() == before + 1
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-4)


def test_matmul_reads_strided_views(helper):
    rng = np.random.default_rng(1)
    g = parallel.shared(rng.standard_normal((700, 90)).astype(np.float32))
    x = rng.standard_normal((700, 300)).astype(np.float32)
    got = parallel.matmul(g.T, x)  # a weight gradient: g's columns as rows, a view of the arena
    np.testing.assert_allclose(got, g.T @ x, rtol=1e-5, atol=1e-3)


def test_error_in_helper_raises_here_and_helper_goes_on(helper):
    out = parallel.empty((64,), np.float32)
    with pytest.raises(RuntimeError, match="failing on purpose at 32"):
        parallel.split(fail_in_helper, 64, out)
    parallel.split(fill_range, 64, out, 0.0)
    np.testing.assert_array_equal(out, np.arange(64))


def test_helper_death_mid_job_finishes_here_and_turns_off(helper):
    out = parallel.empty((10,), np.float32)
    threading.Timer(0.3, helper.proc.kill).start()
    with pytest.warns(RuntimeWarning, match="helper process exited"):
        parallel.split(slow_in_helper, 10, out)
    np.testing.assert_array_equal(out, 7)
    assert not parallel.is_enabled()
    parallel.split(fill_range, 10, out, 1.0)  # alone now
    np.testing.assert_array_equal(out, 1.0 + np.arange(10))


def test_helper_killed_between_jobs_warns_once_and_turns_off(helper):
    helper.proc.kill()
    helper.proc.wait()
    out = parallel.empty((10,), np.float32)
    with pytest.warns(RuntimeWarning, match="exited with code"):
        parallel.split(fill_range, 10, out, 0.0)
    assert not parallel.is_enabled()
    np.testing.assert_array_equal(out, np.arange(10))


def test_helper_that_fails_to_start_warns_and_turns_off(monkeypatch):
    popen = subprocess.Popen

    def failing_start(args, **kwargs):
        return popen([sys.executable, "-c", "raise SystemExit(3)"], **kwargs)

    monkeypatch.setattr(parallel.helper.subprocess, "Popen", failing_start)
    parallel.enable()
    try:
        parallel._state["helper"].proc.wait()
        with pytest.warns(RuntimeWarning, match="exited with code 3"):
            out = parallel.empty((10,), np.float32)
            parallel.split(fill_range, 10, out, 0.0)
        assert not parallel.is_enabled()
        np.testing.assert_array_equal(out, np.arange(10))
    finally:
        parallel.disable()


def test_forked_child_keeps_a_private_copy(helper):
    a = parallel.empty((1000,), np.float64)
    a[:] = 1.0
    pid = os.fork()
    if pid == 0:  # child: its writes must not reach the parent; it computes alone
        try:
            ok = not parallel.is_enabled() and a[0] == 1.0
            a[:] = 2.0
            out = parallel.empty((1000,), np.float64)
            parallel.split(fill_range, 1000, out, 0.0)
            ok = ok and np.array_equal(out, np.arange(1000)) and a[5] == 2.0
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    np.testing.assert_array_equal(a, 1.0)
    parallel.split(fill_range, 1000, a, 3.0)  # the parent still uses its helper
    np.testing.assert_array_equal(a, 3.0 + np.arange(1000))


def test_helper_exits_with_its_parent():
    code = ("import os, time, zoo; from zoo.core import parallel; parallel.enable()\n"
            "while parallel._helper() is None: time.sleep(0.01)\n"
            "print(parallel._state['helper'].proc.pid, flush=True); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    pid = int(out.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    pytest.fail("the helper process outlived its parent by 10 s")


def test_set_num_threads_one_turns_helper_off(helper):
    zoo.set_num_threads(2)
    assert parallel.is_enabled()
    zoo.set_num_threads(1)
    assert not parallel.is_enabled()
    zoo.set_num_threads(2)


def test_arena_reuses_merges_and_reports_full():
    arena = Arena(parallel.arena.CONTROL_BYTES + (1 << 20))
    a = arena.empty((1000,), np.float32)
    offset = arena.offset_of(a)
    del a
    b = arena.empty((1000,), np.float32)  # the freed block of that size again
    assert arena.offset_of(b) == offset
    blocks = [arena.empty((64 << 10,), np.uint8) for _ in range(15)]
    assert all(x is not None for x in blocks)
    for i, x in enumerate(blocks):
        x[:] = i
    assert arena.empty((256 << 10,), np.uint8) is None  # full
    kept = blocks[:3] + blocks[7:]
    del blocks  # four neighbours freed: merged into one span of 256 KiB
    big = arena.empty((256 << 10,), np.uint8)
    assert big is not None
    big[:] = 255
    for value, x in zip(list(range(3)) + list(range(7, 15)), kept):
        assert (x == value).all()
    ones = np.ones(3)
    copy = arena.shared(ones)
    assert arena.offset_of(copy) is not None and arena.offset_of(ones) is None and (copy == 1).all()


def test_full_arena_falls_back_to_private_memory(helper, monkeypatch):
    monkeypatch.setitem(parallel._state, "arena", Arena(parallel.arena.CONTROL_BYTES))  # no room for arrays
    a = parallel.empty((1000,), np.float32)
    assert parallel._state["arena"].offset_of(a) is None and a.shape == (1000,)


def _mlp_step(x_np, seed=0):
    """Forward and backward of Linear → GELU → LayerNorm → Linear, large enough for every op to split."""
    zoo.manual_seed(seed)
    model = zoo.nn.Sequential(zoo.nn.Linear(128, 512), zoo.nn.GELU(), zoo.nn.LayerNorm(512), zoo.nn.Linear(512, 64))
    x = zoo.tensor(x_np, requires_grad=True)
    model(x).square().sum().backward()
    return [x.grad.numpy()] + [p.grad.numpy().copy() for p in model.parameters()]


def test_ops_on_helper_match_ops_without(helper):
    x = np.random.default_rng(0).standard_normal((768, 128)).astype(np.float32)
    before = _jobs()
    with_helper = _mlp_step(x)
    assert _jobs() - before >= 6  # two linears forward and backward (input and weight gradients), GELU
    parallel.disable()
    without = _mlp_step(x)
    for got, want in zip(with_helper, without):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


class _ConvNet(zoo.nn.Module):
    """Every CPU convolution kernel that run_chunks splits, batch norm, relu and residual adds."""

    def __init__(self):
        super().__init__()
        nn = zoo.nn
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)  # 3 input channels: columns on the grid
        self.bn1 = nn.BatchNorm2d(16)
        self.conv = nn.Conv2d(16, 16, 3, padding=1, bias=False)  # per-tap GEMMs, forward and both gradients
        self.bn2 = nn.BatchNorm2d(16)
        self.expand = nn.Conv2d(16, 32, 1)  # 1x1 with its bias as a weight column: per-sample GEMMs
        self.down = nn.Conv2d(32, 32, 3, stride=2, padding=1, bias=False)  # strided: exact columns
        self.shortcut = nn.Conv2d(32, 32, 1, stride=2, bias=False)
        self.head = nn.Conv2d(32, 4, 3, stride=2, padding=1)  # 4 channels: its input gradient on columns

    def forward(self, x):
        F = zoo.nn.functional
        y = F.relu(self.bn1(self.stem(x)))
        y = F.relu(self.bn2(self.conv(y)) + y)
        y = self.expand(y)
        return self.head(F.relu(self.down(y) + self.shortcut(y)))


def _conv_step(x_np, seed=0):
    zoo.manual_seed(seed)
    model = _ConvNet()
    x = zoo.tensor(x_np, requires_grad=True)
    model(x).square().sum().backward()
    return [x.grad.numpy()] + [p.grad.numpy().copy() for p in model.parameters()]


def test_conv_batch_norm_relu_on_helper_match_without(posted):
    x = np.random.default_rng(0).standard_normal((16, 3, 32, 32)).astype(np.float32)
    with_helper = _conv_step(x)
    assert posted >= {"_grid_cols_chunk", "_taps_chunk", "_per_sample_chunk", "_window_cols_chunk",
                      "_taps_input_grad_chunk", "_cols_input_grad_chunk", "_taps_weight_grad_chunk",
                      "_exact_weight_grad_chunk", "_pointwise_weight_grad_chunk", "_bn_stats", "_bn_normalise",
                      "_bn_sums", "_bn_input_grad", "_relu", "_relu_grad", "_add_range"}
    parallel.disable()
    without = _conv_step(x)
    for got, want in zip(with_helper, without):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def _attention_step(qkv_np, causal):
    """A heads-split projection through causal attention and back, as nanoGPT's attention block."""
    B, T, C3 = qkv_np.shape
    H, E = 4, C3 // 12
    qkv = zoo.tensor(qkv_np, requires_grad=True)
    q, k, v = (t.view(B, T, H, E).transpose(1, 2) for t in qkv.split(H * E, dim=2))
    y = zoo.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    y = y.transpose(1, 2).contiguous().view(B, T, H * E)
    (y * y).sum().backward()
    return y.detach().numpy().copy(), qkv.grad.numpy().copy()


@pytest.mark.parametrize("causal", [True, False])
def test_attention_on_helper_matches_without(posted, causal):
    qkv = np.random.default_rng(0).standard_normal((6, 16, 3 * 64)).astype(np.float32)
    with_helper = _attention_step(qkv, causal)
    assert posted >= {"_attention_forward", "_attention_backward"}
    parallel.disable()
    without = _attention_step(qkv, causal)
    for got, want in zip(with_helper, without):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_on_helper_matches_without(posted, affine):
    rng = np.random.default_rng(0)
    x_np, g_np = rng.standard_normal((2, 12, 64, 128)).astype(np.float32)
    params = [zoo.tensor(rng.standard_normal(128).astype(np.float32), requires_grad=True) if affine else None
              for _ in range(2)]

    def step():
        x = zoo.tensor(x_np, requires_grad=True)
        y = zoo.nn.functional.layer_norm(x, (128,), *params)
        (y * zoo.tensor(g_np)).sum().backward()
        grads = [p.grad.numpy().copy() for p in params if p is not None]
        for p in params:
            if p is not None:
                p.grad = None
        return [y.detach().numpy().copy(), x.grad.numpy().copy()] + grads

    with_helper = step()
    assert posted >= {"_layer_norm_rows", "_layer_norm_grad_rows"}
    parallel.disable()
    without = step()
    for got, want in zip(with_helper, without):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_small_arrays_travel_read_only_and_writable_ones_stay_here(helper):
    small = np.zeros(8, np.float32)  # outside the arena and writable: the helper's writes would be lost
    before = _jobs()
    parallel.split(fill_range, 8, small, 0.0)
    assert _jobs() == before  # so the whole job ran here
    np.testing.assert_array_equal(small, np.arange(8))
    readable = parallel.shared(small)  # a read-only view: travels by value
    assert parallel._state["arena"].offset_of(readable) is None and not readable.flags.writeable
    with pytest.raises(RuntimeError, match="read-only"):
        parallel.split(fill_range, 8, readable, 0.0)
    out = parallel.empty((64,), np.float32)
    parallel.split(fill_range, 64, out, 0.0)
    np.testing.assert_array_equal(out, np.arange(64))


def test_single_sample_conv_shares_channels_and_columns(posted):
    x = np.random.default_rng(1).standard_normal((1, 3, 128, 128)).astype(np.float32)
    with_helper = _conv_step(x)
    # per-tap GEMMs split by output channels (forward) and input channels (a strided input gradient), column
    # GEMMs by columns
    assert posted >= {"_tap_gemms", "_tap_gemms_adjoint", "_matmul_columns"}
    parallel.disable()
    without = _conv_step(x)
    for got, want in zip(with_helper, without):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shapes", [((300, 200), (200, 500)), ((500, 200), (200, 300)), ((4, 100, 300), (4, 300, 90))])
def test_matmul_op_on_helper_matches_without(posted, shapes):
    rng = np.random.default_rng(2)
    a_np, b_np = (rng.standard_normal(s).astype(np.float32) for s in shapes)

    def step():
        a, b = zoo.tensor(a_np, requires_grad=True), zoo.tensor(b_np, requires_grad=True)
        y = zoo.matmul(a, b)
        (y * y).sum().backward()
        return y.detach().numpy().copy(), a.grad.numpy().copy(), b.grad.numpy().copy()

    with_helper = step()
    assert posted & {"_matmul_rows", "_matmul_columns", "_matmul_batches"}
    parallel.disable()
    for got, want in zip(with_helper, step()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def _depthwise_step(x_np, channels_last):
    """Depthwise layers through every CPU depthwise kernel: polyphase planes (stride 1, also its input gradient),
    small planes last (stride 2) with its polyphase input gradient, or channels last; and the weight gradients."""
    zoo.manual_seed(0)
    C = x_np.shape[1]
    layers = [zoo.nn.Conv2d(C, C, 3, padding=1, groups=C), zoo.nn.Conv2d(C, C, 3, stride=2, padding=1, groups=C)]
    x = zoo.tensor(x_np, requires_grad=True)
    y = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) if channels_last else x
    for layer in layers:
        y = layer(y)
    y.square().sum().backward()
    return [x.grad.numpy()] + [p.grad.numpy().copy() for layer in layers for p in layer.parameters()]


@pytest.mark.parametrize("channels_last", [False, True])
def test_depthwise_on_helper_matches_without(posted, channels_last):
    x = np.random.default_rng(3).standard_normal((8, 32, 40, 40)).astype(np.float32)
    with_helper = _depthwise_step(x, channels_last)
    if channels_last:  # both layers keep the layout
        assert posted >= {"_dw_channels_last_rows", "_dw_weight_grad_chunk"}
    else:
        assert posted >= {"_dw_chunk", "_dw_planes_last_chunk", "_dw_input_grad_chunk", "_dw_weight_grad_chunk"}
    parallel.disable()
    without = _depthwise_step(x, channels_last)
    for got, want in zip(with_helper, without):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def _train_two_layers(steps=3):
    zoo.manual_seed(0)
    model = zoo.nn.Sequential(zoo.nn.Linear(256, 256), zoo.nn.GELU(), zoo.nn.Linear(256, 128), zoo.nn.GELU(),
                              zoo.nn.Linear(128, 4))  # weights of 256 KB, 128 KB and 2 KB
    opt = zoo.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    x = zoo.tensor(np.random.default_rng(4).standard_normal((512, 256)).astype(np.float32))
    for _ in range(steps):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    return model, opt


def test_training_with_the_helper_updates_parameters_in_place(posted):
    model, opt = _train_two_layers()
    assert "_adam_update_list" in posted
    arena = parallel._state["arena"]
    big = model[0].weight
    assert arena.offset_of(big._data) is not None  # the large weight and its moments moved into the arena
    assert all(arena.offset_of(opt.state[big][k]._data) is not None for k in ("exp_avg", "exp_avg_sq"))
    with_helper = [p.detach().numpy().copy() for p in model.parameters()]
    assert all(p._data.flags.writeable for p in model.parameters())
    parallel.disable()
    model, _ = _train_two_layers()
    for got, p in zip(with_helper, model.parameters()):
        np.testing.assert_allclose(got, p.detach().numpy(), rtol=1e-4, atol=1e-5)
