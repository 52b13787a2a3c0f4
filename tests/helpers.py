"""Shared test helpers: random inputs, gradient checks, and differential checks against PyTorch."""
import numpy as np
import pytest

import zoo


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
