"""zoo.optim optimizers: trajectories against PyTorch, state dicts (round trip, PyTorch's layout), errors."""
import copy
import pickle

import numpy as np
import pytest

import zoo
from tests.helpers import to_numpy, torch_or_skip

SHAPES = [(4, 3), (5,), ()]
STEPS = 20

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.9), eps=1e-6)),  # beta1 < 0.5: PyTorch's second lerp formula
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True)),  # 1 - alpha >= 0.5: the other lerp formula
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-6)),
]


def _ids(cfg):
    name, kw = cfg
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


def _initial(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grads(n=STEPS, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(n)]


def _zoo_params(arrays, device="cpu"):
    return [zoo.tensor(a, device=device, requires_grad=True) for a in arrays]


def _feed(params, grads, device="cpu"):
    for p, g in zip(params, grads):
        p.grad = zoo.tensor(g, device=device)


def _run(opt, params, grads, device="cpu"):
    out = []
    for gs in grads:
        _feed(params, gs, device)
        opt.step()
        out.append([to_numpy(p).copy() for p in params])
    return out


def _torch_run(torch, name, kw, arrays, grads, groups=None):
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = getattr(torch.optim, name)(params if groups is None else groups(params), **kw)
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt


def _assert_trajectories(ours, theirs, atol=1e-5, rtol=1e-5):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, atol=atol, rtol=rtol, err_msg=f"step {step + 1}, param {i}")


@pytest.mark.oracle
@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_trajectory_matches_torch(cfg, device):
    torch = torch_or_skip()
    name, kw = cfg
    arrays, grads = _initial(), _grads()
    params = _zoo_params(arrays, device)
    ours = _run(getattr(zoo.optim, name)(params, **kw), params, grads, device)
    theirs, _ = _torch_run(torch, name, kw, arrays, grads)
    _assert_trajectories(ours, theirs)


GROUP_CONFIGS = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01)),
                 ("RMSprop", dict(lr=0.01, momentum=0.5)), ("Adagrad", dict(lr=0.1))]


@pytest.mark.oracle
@pytest.mark.parametrize("cfg", GROUP_CONFIGS, ids=_ids)
def test_param_groups_with_own_options_match_torch(cfg, device):
    torch = torch_or_skip()
    name, kw = cfg

    def groups(ps):
        return [{"params": ps[:1], "lr": 0.3, "weight_decay": 0.05}, {"params": ps[1:]}]

    arrays, grads = _initial(), _grads()
    params = _zoo_params(arrays, device)
    opt = getattr(zoo.optim, name)(groups(params), **kw)
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[1]["lr"] == kw["lr"]
    ours = _run(opt, params, grads, device)
    theirs, _ = _torch_run(torch, name, kw, arrays, grads, groups)
    _assert_trajectories(ours, theirs)


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_tensor_lr_matches_torch(name):
    torch = torch_or_skip()
    arrays, grads = _initial(), _grads(5)
    params = _zoo_params(arrays)
    ours = _run(getattr(zoo.optim, name)(params, lr=zoo.tensor(0.02)), params, grads)
    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    topt = getattr(torch.optim, name)(tparams, lr=torch.tensor(0.02))
    theirs = []
    for gs in grads:
        for p, g in zip(tparams, gs):
            p.grad = torch.tensor(g)
        topt.step()
        theirs.append([p.detach().numpy().copy() for p in tparams])
    _assert_trajectories(ours, theirs)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_float64_params_keep_float64_state(cfg):
    name, kw = cfg
    params = _zoo_params(_initial(dtype=np.float64))
    opt = getattr(zoo.optim, name)(params, **kw)
    _run(opt, params, _grads(2, dtype=np.float64))
    for p in params:
        assert p.dtype == zoo.float64
        for key, value in opt.state[p].items():
            if key == "step":
                assert value.dtype == zoo.float32 and value.shape == ()
            else:
                assert value.dtype == zoo.float64 and value.shape == p.shape and value.device == p.device


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_state_dict_round_trip_continues_identically(cfg, device):
    name, kw = cfg
    cls = getattr(zoo.optim, name)
    arrays, grads = _initial(), _grads()
    params_a = _zoo_params(arrays, device)
    opt_a = cls(params_a, **kw)
    _run(opt_a, params_a, grads[:10], device)
    saved = pickle.loads(pickle.dumps(opt_a.state_dict()))  # as written to and read from a checkpoint

    params_b = _zoo_params([to_numpy(p) for p in params_a], device)
    opt_b = cls(params_b, lr=123.0)  # options come from the state dict
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"]
    ours_a = _run(opt_a, params_a, grads[10:], device)
    ours_b = _run(opt_b, params_b, grads[10:], device)
    for a, b in zip(ours_a, ours_b):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_load_state_dict_copies_the_buffers():
    params = _zoo_params(_initial())
    opt = zoo.optim.Adam(params, lr=0.1)
    _run(opt, params, _grads(2))
    sd = opt.state_dict()
    other = zoo.optim.Adam(_zoo_params(_initial()), lr=0.1)
    other.load_state_dict(sd)
    before = to_numpy(sd["state"][0]["exp_avg"]).copy()
    _run(other, other.param_groups[0]["params"], _grads(1))
    np.testing.assert_array_equal(to_numpy(sd["state"][0]["exp_avg"]), before)


@pytest.mark.oracle
@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_state_dict_structure_matches_torch(cfg):
    torch = torch_or_skip()
    name, kw = cfg
    arrays, grads = _initial(), _grads(3)
    params = _zoo_params(arrays)
    opt = getattr(zoo.optim, name)(params, **kw)
    _run(opt, params, grads)
    ours = opt.state_dict()
    _, topt = _torch_run(torch, name, kw, arrays, grads)
    theirs = topt.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert [list(g) for g in ours["param_groups"]] == [list(g) for g in theirs["param_groups"]]  # key order too
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for pid, tstate in theirs["state"].items():
        zstate = ours["state"][pid]
        assert list(zstate) == list(tstate)
        for key, tv in tstate.items():
            zv = zstate[key]
            assert tuple(zv.shape) == tuple(tv.shape), key
            assert zv.dtype.name == str(tv.dtype).replace("torch.", ""), key
            np.testing.assert_allclose(to_numpy(zv), tv.numpy(), atol=1e-5, rtol=1e-5, err_msg=key)


@pytest.mark.oracle
@pytest.mark.parametrize("cfg", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                 ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1))],
                         ids=_ids)
def test_resume_from_a_torch_state_dict(cfg):
    """A PyTorch optimizer checkpoint (tensors converted) resumes in zoo exactly where torch goes on."""
    torch = torch_or_skip()
    name, kw = cfg
    arrays, grads = _initial(), _grads()
    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    topt = getattr(torch.optim, name)(tparams, **kw)

    def torch_steps(gs_list):
        out = []
        for gs in gs_list:
            for p, g in zip(tparams, gs):
                p.grad = torch.tensor(g)
            topt.step()
            out.append([p.detach().numpy().copy() for p in tparams])
        return out

    torch_steps(grads[:10])
    tsd = topt.state_dict()
    converted = {"state": {k: {kk: zoo.tensor(vv.numpy()) if isinstance(vv, torch.Tensor) else vv
                               for kk, vv in v.items()} for k, v in tsd["state"].items()},
                 "param_groups": tsd["param_groups"]}
    params = _zoo_params([p.detach().numpy().copy() for p in tparams])
    opt = getattr(zoo.optim, name)(params)
    opt.load_state_dict(converted)
    _assert_trajectories(_run(opt, params, grads[10:]), torch_steps(grads[10:]))


def test_params_without_grad_are_skipped():
    params = _zoo_params(_initial())
    frozen = zoo.tensor(np.ones(3, np.float32))  # does not require grad: accepted, like PyTorch
    opt = zoo.optim.Adam(params + [frozen], lr=0.1)
    _feed(params[:1], _grads(1)[0][:1])
    before = [to_numpy(p).copy() for p in params]
    opt.step()
    assert not np.array_equal(to_numpy(params[0]), before[0])
    for p, b in zip(params[1:], before[1:]):
        np.testing.assert_array_equal(to_numpy(p), b)
        assert p not in opt.state
    np.testing.assert_array_equal(to_numpy(frozen), np.ones(3))
    assert len(opt.state) == 1


def test_step_bumps_the_version_so_stale_graphs_refuse_backward():
    p = zoo.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = zoo.optim.SGD([p], lr=0.1)
    y = (p * p).sum()
    version = p._version
    p.grad = zoo.ones(3)
    opt.step()
    assert p._version == version + 1
    with pytest.raises(RuntimeError):
        y.backward()


def test_training_a_linear_model_converges():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3
    w = zoo.zeros(3, requires_grad=True)
    b = zoo.zeros(1, requires_grad=True)
    opt = zoo.optim.Adam([w, b], lr=0.1)
    xt, yt = zoo.tensor(x), zoo.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        loss = ((xt @ w + b - yt) ** 2).mean()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(to_numpy(w.detach()), [1.5, -2.0, 0.5], atol=1e-2)
    np.testing.assert_allclose(to_numpy(b.detach()), [0.3], atol=1e-2)


def test_zero_grad():
    p = zoo.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = zoo.optim.SGD([p], lr=0.1)
    p.grad = zoo.ones(3)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(to_numpy(p.grad), np.zeros(3))
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_evaluated_with_grad_enabled():
    p = zoo.tensor(np.array([2.0], np.float32), requires_grad=True)
    opt = zoo.optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with zoo.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 4.0
    np.testing.assert_allclose(to_numpy(p.detach()), [1.0])  # 2 - 0.25 * 4


def test_add_param_group_and_named_params():
    a, b = _zoo_params(_initial())[:2]
    opt = zoo.optim.SGD([("a", a)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [b]})
    opt.add_param_group({"params": [("b", b)], "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.state_dict()["param_groups"][1]["param_names"] == ["b"]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [("a", a)]})


def test_step_hooks_and_state_dict_hooks():
    p = zoo.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = zoo.optim.SGD([p], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    p.grad = zoo.ones(2)
    opt.step()
    assert calls == ["pre", "post"]
    pre.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)


def test_repr_and_deepcopy():
    p = zoo.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = zoo.optim.Adam([p], lr=0.1)
    text = repr(opt)
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.1" in text
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["lr"] == 0.1


# --- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_negative_lr_is_refused(name):
    p = zoo.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        getattr(zoo.optim, name)([p], lr=-0.1)
    with pytest.raises(ValueError, match="1-element"):
        getattr(zoo.optim, name)([p], lr=zoo.tensor([0.1, 0.2]))


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_bad_betas_and_eps(name):
    p = zoo.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="beta parameter at index 0"):
        getattr(zoo.optim, name)([p], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        getattr(zoo.optim, name)([p], betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="epsilon"):
        getattr(zoo.optim, name)([p], eps=-1.0)


def test_bad_hyper_parameters():
    p = zoo.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="momentum"):
        zoo.optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov"):
        zoo.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="weight_decay"):
        zoo.optim.Adam([p], weight_decay=-1)
    with pytest.raises(ValueError, match="alpha"):
        zoo.optim.RMSprop([p], alpha=-0.1)
    with pytest.raises(ValueError, match="lr_decay"):
        zoo.optim.Adagrad([p], lr_decay=-0.1)
    with pytest.raises(NotImplementedError, match="differentiable"):
        zoo.optim.Adam([p], differentiable=True)


def test_bad_params():
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        zoo.optim.SGD([1, 2], lr=0.1)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        zoo.optim.SGD([np.zeros(2)], lr=0.1)
    leaf = zoo.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        zoo.optim.SGD([leaf * 2], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        zoo.optim.SGD(leaf, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        zoo.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        zoo.optim.SGD([{"params": {leaf}}], lr=0.1)


def test_grad_that_does_not_fit_the_param():
    p = zoo.zeros(3, requires_grad=True)
    opt = zoo.optim.Adam([p])
    p.grad = zoo.zeros(4)
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*shape \(4,\)"):
        opt.step()
    p.grad = zoo.zeros(3, dtype=zoo.float64)
    with pytest.raises(RuntimeError, match="float64"):
        opt.step()


def test_load_state_dict_errors():
    params = _zoo_params(_initial())
    opt = zoo.optim.Adam(params, lr=0.1)
    _run(opt, params, _grads(1))
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        zoo.optim.Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        zoo.optim.Adam(params[:2]).load_state_dict(sd)
    other = _zoo_params([np.zeros((2, 2), np.float32), np.zeros(5, np.float32), np.zeros((), np.float32)])
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(4, 3\).*\(2, 2\)"):
        zoo.optim.Adam(other).load_state_dict(sd)
    with pytest.raises(KeyError, match="param_groups"):
        zoo.optim.Adam(params).load_state_dict({"state": {}})
