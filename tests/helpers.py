"""Shared test helpers: random inputs, gradient checks, non-contiguous views, and differential checks against
PyTorch for functions (compare_with_torch) and for whole modules (copy_weights, compare_module_with_torch)."""
import importlib.util
import sys

import numpy as np
import pytest

import zoo
from zoo.core.autograd.function import Function


def arr(*shape, seed=0, low=-1.0, high=1.0, dtype=np.float64):
    """A reproducible random NumPy array."""
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def leaf(a, device="cpu", requires_grad=True):
    """A zoo leaf tensor from a NumPy array (float64 by default, for gradchecks)."""
    return zoo.tensor(a, device=device, requires_grad=requires_grad and np.asarray(a).dtype.kind == "f")


def check_grad(fn, *arrays, device="cpu", atol=1e-5, rtol=1e-3, eps=1e-6):
    """gradcheck ``fn`` on float64 leaves made from ``arrays`` (non-arrays are passed through)."""
    inputs = [leaf(a, device) if isinstance(a, np.ndarray) else a for a in arrays]
    assert zoo.gradcheck(fn, inputs, atol=atol, rtol=rtol, eps=eps)


def torch_or_skip():
    return pytest.importorskip("torch")


def to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def compare_with_torch(zoo_fn, torch_fn, *arrays, atol=1e-6, rtol=1e-5, grad=True, device="cpu", n_grad=None):
    """Run the same function in zoo and PyTorch on the same inputs; compare outputs and input gradients.

    ``arrays`` are NumPy arrays (float ones among the first ``n_grad`` — all by default — get requires_grad
    when ``grad``) or plain values passed as is. Outputs may be tensors or tuples of tensors; gradients are
    compared for one random upstream gradient.
    """
    torch = torch_or_skip()
    n_grad = len(arrays) if n_grad is None else n_grad
    wants = [grad and isinstance(a, np.ndarray) and a.dtype.kind == "f" and i < n_grad for i, a in enumerate(arrays)]
    z_in = [zoo.tensor(a, device=device, requires_grad=w) if isinstance(a, np.ndarray) else a
            for a, w in zip(arrays, wants)]
    t_in = [torch.tensor(a, requires_grad=w) if isinstance(a, np.ndarray) else a for a, w in zip(arrays, wants)]
    z_out, t_out = zoo_fn(*z_in), torch_fn(*t_in)
    z_outs = z_out if isinstance(z_out, (tuple, list)) else (z_out,)
    t_outs = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
    assert len(z_outs) == len(t_outs)
    for zo, to in zip(z_outs, t_outs):
        zn, tn = to_numpy(zo), to_numpy(to)
        assert zn.shape == tn.shape, f"shape {zn.shape} != torch {tn.shape}"
        assert zn.dtype == tn.dtype, f"dtype {zn.dtype} != torch {tn.dtype}"
        np.testing.assert_allclose(zn, tn, atol=atol, rtol=rtol)
    if not grad:
        return
    pairs = [(zo, to) for zo, to in zip(z_outs, t_outs)
             if getattr(to, "requires_grad", False) and to.dtype.is_floating_point]
    if not pairs:
        return
    rng = np.random.default_rng(1)
    z_loss, t_loss = 0, 0
    for zo, to in pairs:
        w = rng.standard_normal(tuple(to.shape)).astype(to_numpy(to).dtype)
        z_loss = z_loss + (zo * zoo.tensor(w, device=device)).sum()
        t_loss = t_loss + (to * torch.tensor(w)).sum()
    z_loss.backward()
    t_loss.backward()
    for zi, ti in zip(z_in, t_in):
        if isinstance(ti, torch.Tensor) and ti.requires_grad:
            if ti.grad is None:
                assert zi.grad is None or not to_numpy(zi.grad).any()
                continue
            assert zi.grad is not None, "zoo produced no gradient where PyTorch did"
            np.testing.assert_allclose(to_numpy(zi.grad), to_numpy(ti.grad), atol=atol, rtol=rtol)


class _SwapLast(Function):
    """A local view swapping the last two axes, so tests get non-contiguous inputs without the shape ops."""
    is_view = True

    def forward(self, x):
        return x.swapaxes(-1, -2)

    def backward(self, g):
        return g.swapaxes(-1, -2)


def swap_last(x):
    """``x`` with its last two axes swapped, as a non-contiguous view (for gradchecks on strided inputs)."""
    return _SwapLast().apply(x)


def torch_functional():
    """torch.nn.functional, or skip the test when PyTorch is absent."""
    return torch_or_skip().nn.functional


# ----------------------------------------------------------------------------------------------------------------
# module oracles: the same layer in zoo and PyTorch, weights copied from PyTorch through state_dict
# ----------------------------------------------------------------------------------------------------------------

TOL = {np.float32: 1e-5, np.float64: 1e-10}


def module_dtypes(dtype):
    """(zoo dtype, torch dtype) for a NumPy float dtype."""
    torch = torch_or_skip()
    return {np.float32: (zoo.float32, torch.float32), np.float64: (zoo.float64, torch.float64)}[dtype]


def assert_close_scaled(z, t, dtype, name=""):
    """Equal within TOL[dtype], relative to the scale of the reference ``t`` (float32 sums carry rounding noise
    proportional to their largest entries, in PyTorch too). NaNs must match."""
    tol = TOL[dtype]
    np.testing.assert_allclose(z, t, rtol=tol, atol=tol * max(1.0, float(np.nanmax(np.abs(t), initial=0))),
                               err_msg=name)


def copy_weights(zoo_module, torch_module):
    """Load torch_module's state_dict into zoo_module after checking that both have the same keys, in order,
    shapes and dtypes."""
    zs, ts = zoo_module.state_dict(), torch_module.state_dict()
    assert list(zs) == list(ts)
    for k, v in ts.items():
        assert tuple(zs[k].shape) == tuple(v.shape), k
        assert zs[k].dtype.name == str(v.dtype).replace("torch.", ""), k
    result = zoo_module.load_state_dict({k: zoo.tensor(to_numpy(v)) for k, v in ts.items()})
    assert not result.missing_keys and not result.unexpected_keys


def compare_module_with_torch(zoo_module, torch_module, args, kwargs=None, dtype=np.float64, grad=True,
                              n_grad=None, tol=None, copy=True, device="cpu"):
    """Run the same module in zoo and PyTorch; compare outputs and (with ``grad``) the gradients of the inputs
    and of every parameter for one random upstream gradient. Returns zoo's outputs as a tuple.

    ``copy``: first convert both modules to ``dtype`` and copy PyTorch's weights into zoo's (False: compare them
    as they are, e.g. after training steps). ``args``: NumPy arrays (float ones cast to ``dtype``; the same array
    object passed twice becomes the same tensor, e.g. self-attention's query/key/value; float ones among the
    first ``n_grad`` — all by default — require grad) or plain values. ``kwargs``: NumPy arrays (bool kept, float
    cast to ``dtype``, e.g. masks) or plain values. Float outputs are compared with assert_close_scaled, or with
    ``tol`` (assert_allclose's atol/rtol) when given; other outputs exactly; None outputs must match.
    """
    torch = torch_or_skip()
    if copy:
        zdt, tdt = module_dtypes(dtype)
        torch_module.to(tdt)
        zoo_module.to(zdt)
        copy_weights(zoo_module, torch_module)
    zoo_module.to(device)
    n_grad = len(args) if n_grad is None else n_grad

    def cast(a):
        return a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a

    z_of, t_of = {}, {}  # id(array) -> tensor
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and id(a) not in z_of:
            wants = grad and a.dtype.kind == "f" and i < n_grad
            z_of[id(a)] = zoo.tensor(cast(a), requires_grad=wants, device=device)
            t_of[id(a)] = torch.tensor(cast(a), requires_grad=wants)
    kwargs = kwargs or {}
    z_kw = {k: zoo.tensor(cast(v), device=device) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_kw = {k: torch.tensor(cast(v)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    z_out = zoo_module(*[z_of.get(id(a), a) for a in args], **z_kw)
    t_out = torch_module(*[t_of.get(id(a), a) for a in args], **t_kw)
    z_outs = z_out if isinstance(z_out, tuple) else (z_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    assert len(z_outs) == len(t_outs)

    def check(z, t, name):
        if tol is None:
            assert_close_scaled(z, t, dtype, name)
        else:
            np.testing.assert_allclose(z, t, err_msg=name, **tol)

    rng = np.random.default_rng(7)
    z_loss, t_loss = [], []  # one weighted sum per output that requires grad
    for zo, to in zip(z_outs, t_outs):
        if to is None:
            assert zo is None
            continue
        zn, tn = to_numpy(zo), to_numpy(to)
        assert zn.shape == tn.shape and zn.dtype == tn.dtype, f"{zn.shape} {zn.dtype} != torch {tn.shape} {tn.dtype}"
        if tn.dtype.kind != "f":
            np.testing.assert_array_equal(zn, tn)
            continue
        check(zn, tn, "output")
        assert zo.requires_grad == to.requires_grad
        if to.requires_grad:
            w = rng.standard_normal(tn.shape).astype(tn.dtype)
            z_loss.append((zo * zoo.tensor(w, device=device)).sum())
            t_loss.append((to * torch.tensor(w)).sum())
    if not grad or not t_loss:
        return z_outs
    sum(z_loss).backward()
    sum(t_loss).backward()
    grads = [("input", z_of[k].grad, t_of[k].grad) for k in z_of if t_of[k].requires_grad]
    z_params, t_params = dict(zoo_module.named_parameters()), dict(torch_module.named_parameters())
    assert list(z_params) == list(t_params)
    grads += [(name, z_params[name].grad, tp.grad) for name, tp in t_params.items()]
    for name, zg, tg in grads:
        if tg is None:
            assert zg is None or not to_numpy(zg).any(), name
        else:
            assert zg is not None, f"zoo produced no gradient for {name} where PyTorch did"
            check(to_numpy(zg), to_numpy(tg), name)
    return z_outs


def add_snapshot(cache, repo_id, commit, files, refs=("main",)):
    """Add one commit's ``files`` ({path in repo: bytes}) to a Hugging Face hub cache folder, laid out exactly as
    huggingface_hub writes it (models--org--name/blobs/<sha256>, snapshots/<commit>/<path> symlinks,
    refs/<branch or tag>), so the real hub code path runs offline. Returns the snapshot folder."""
    import hashlib
    import os
    import pathlib
    repo = pathlib.Path(cache) / ("models--" + repo_id.replace("/", "--"))
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = repo / "snapshots" / commit / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            os.symlink(os.path.relpath(blob, link.parent), link)
    for ref in refs:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return repo / "snapshots" / commit


def torchvision_or_skip():
    """torchvision for the oracle tier, or skip.

    The PyPI wheel of torchvision is built against CUDA torch; next to a CPU-only torch its compiled ops (nms,
    roi_align …) cannot load and ``import torchvision`` fails while registering their fake kernels. The
    transforms compared here never use those ops, so the import is retried with that registration disabled.
    """
    if importlib.util.find_spec("torchvision") is None:  # checked first: importing torch alone takes seconds
        pytest.skip("torchvision is not installed")
    pytest.importorskip("torch")
    try:
        import torchvision
    except RuntimeError:
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        import torch
        ops = getattr(torch, "library")  # where torchvision registers its compiled ops' fake kernels
        original = ops.register_fake
        ops.register_fake = lambda *args, **kwargs: (lambda fn: fn)
        try:
            import torchvision
        except Exception as e:  # noqa: BLE001 - any failure means there is no usable oracle
            pytest.skip(f"torchvision does not import here: {e}")
        finally:
            ops.register_fake = original
    return torchvision


def torch_run(model, x):
    """A PyTorch model's output on the NumPy input ``x``, computed on one thread (small inputs; avoids thread
    contention with zoo's pool)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()
    finally:
        torch.set_num_threads(threads)
