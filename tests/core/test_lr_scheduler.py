"""zoo.optim.lr_scheduler: learning-rate (and momentum) sequences identical to PyTorch's, state dicts, errors."""
import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import zoo
import zoo.optim.lr_scheduler
from tests.helpers import torch_or_skip
from zoo.optim.lr_scheduler import StepLR

STEPS = 50
PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.7, 0.7, 0.7, 0.7, 0.7,
                   0.69999, 0.71, 0.72, 0.6, 0.61, 0.62, 0.63, 0.64, 0.65, 0.66, 0.5, 0.5, 0.5] * 2


def _optimizer(lib, kind="SGD"):
    """An optimizer with two param groups (different lrs) from ``lib`` (zoo or torch)."""
    ps = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return getattr(lib.optim, kind)(groups, lr=0.1)


# name -> (optimizer kind, factory(lr_scheduler module, optimizer), whether step() takes a metric)
SCHEDULERS = {
    "StepLR": ("SGD", lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    "ExponentialLR": ("SGD", lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    "CosineAnnealingLR": ("SGD", lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "CosineAnnealingLR-long": ("SGD", lambda m, o: m.CosineAnnealingLR(o, T_max=70)),
    "LinearLR": ("SGD", lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=15)),
    "LinearLR-decay": ("SGD", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30)),
    "ConstantLR": ("SGD", lambda m, o: m.ConstantLR(o, factor=0.4, total_iters=8)),
    "LambdaLR": ("SGD", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * e)),
    "LambdaLR-per-group": ("SGD", lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e])),
    "MultiplicativeLR": ("SGD", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97 if e % 2 else 0.99)),
    "PolynomialLR": ("SGD", lambda m, o: m.PolynomialLR(o, total_iters=30, power=2.0)),
    "CosineAnnealingWarmRestarts": ("SGD", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2,
                                                                                       eta_min=1e-4)),
    "CosineAnnealingWarmRestarts-mult1": ("SGD", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=6)),
    "OneCycleLR": ("SGD", lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS)),
    "OneCycleLR-linear": ("SGD", lambda m, o: m.OneCycleLR(o, max_lr=0.8, epochs=5, steps_per_epoch=10,
                                                           anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR-three-phase": ("SGD", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, three_phase=True,
                                                                base_momentum=0.8, max_momentum=0.9)),
    "OneCycleLR-adam": ("Adam", lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS)),
    "OneCycleLR-no-momentum": ("Adam", lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS,
                                                                 cycle_momentum=False)),
    "CyclicLR": ("SGD", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5)),
    "CyclicLR-triangular2": ("SGD", lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4,
                                                            step_size_down=6, mode="triangular2")),
    "CyclicLR-exp-range-adam": ("Adam", lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=3,
                                                                mode="exp_range", gamma=0.97)),
    "SequentialLR": ("SGD", lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=10),
                                                            m.ExponentialLR(o, gamma=0.9)], milestones=[10])),
    "SequentialLR-three": ("SGD", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=5), m.CosineAnnealingLR(o, T_max=15),
            m.StepLR(o, step_size=4, gamma=0.5)], milestones=[8, 25])),
    "ChainedScheduler": ("SGD", lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=6),
                                                                 m.ExponentialLR(o, gamma=0.95)])),
    "ReduceLROnPlateau": ("SGD", lambda m, o: m.ReduceLROnPlateau(o, patience=2)),
    "ReduceLROnPlateau-max-abs": ("SGD", lambda m, o: m.ReduceLROnPlateau(
        o, mode="max", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.02])),
    "ReduceLROnPlateau-cooldown-eps": ("SGD", lambda m, o: m.ReduceLROnPlateau(
        o, factor=0.5, patience=0, cooldown=3, min_lr=0.02, eps=1e-3)),
}


def _step(sched, i):
    if sched.__class__.__name__ == "ReduceLROnPlateau":
        sched.step(PLATEAU_METRICS[i])
    else:
        sched.step()


def _record(opt, sched):
    groups = opt.param_groups
    return ([float(lr) for lr in sched.get_last_lr()], [float(g["lr"]) for g in groups],
            [g["momentum"] for g in groups] if "momentum" in groups[0] else [g["betas"][0] for g in groups])


def _sequence(lib, name, steps=STEPS):
    kind, factory = SCHEDULERS[name]
    opt = _optimizer(lib, kind)
    sched = factory(lib.optim.lr_scheduler, opt)
    out = [_record(opt, sched)]
    for i in range(steps):
        opt.step()
        _step(sched, i)
        out.append(_record(opt, sched))
    return out


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_sequence_matches_torch(name):
    torch = torch_or_skip()
    ours = _sequence(zoo, name)
    theirs = _sequence(torch, name)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"{name}, step {i}")


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR",
                                  "CosineAnnealingWarmRestarts", "LambdaLR"])
def test_state_dict_keys_match_torch(name):
    torch = torch_or_skip()
    kind, factory = SCHEDULERS[name]
    ours = factory(zoo.optim.lr_scheduler, _optimizer(zoo, kind)).state_dict()
    theirs = factory(torch.optim.lr_scheduler, _optimizer(torch, kind)).state_dict()
    assert sorted(ours) == sorted(theirs)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_state_dict_round_trip_continues_identically(name):
    kind, factory = SCHEDULERS[name]
    opt_a = _optimizer(zoo, kind)
    sched_a = factory(zoo.optim.lr_scheduler, opt_a)
    for i in range(20):
        opt_a.step()
        _step(sched_a, i)
    saved_opt = pickle.loads(pickle.dumps(opt_a.state_dict()))
    sched_state = sched_a.state_dict()
    if name == "LambdaLR" or name.startswith("LambdaLR") or name == "MultiplicativeLR":
        saved_sched = copy.deepcopy(sched_state)  # plain functions are not part of the state
    else:
        saved_sched = pickle.loads(pickle.dumps(sched_state))

    opt_b = _optimizer(zoo, kind)
    sched_b = factory(zoo.optim.lr_scheduler, opt_b)
    sched_b.load_state_dict(saved_sched)
    opt_b.load_state_dict(saved_opt)
    assert sched_b.get_last_lr() == sched_a.get_last_lr()
    for i in range(20, STEPS):
        for opt, sched in ((opt_a, sched_a), (opt_b, sched_b)):
            opt.step()
            _step(sched, i)
        assert _record(opt_a, sched_a) == _record(opt_b, sched_b), f"step {i}"


@pytest.mark.oracle
def test_tensor_lr_is_updated_in_place_like_torch():
    torch = torch_or_skip()
    seqs = []
    for lib in (zoo, torch):
        p = lib.zeros(2, requires_grad=True)
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([p], lr=lr)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        seq = []
        for _ in range(12):
            opt.step()
            sched.step()
            assert opt.param_groups[0]["lr"] is lr
            seq.append(float(lr))
        seqs.append(seq)
    np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-6)


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                  "ConstantLR", "PolynomialLR"])
def test_step_with_epoch_uses_the_closed_form_like_torch(name):
    torch = torch_or_skip()
    kind, factory = SCHEDULERS[name]
    results = []
    for lib in (zoo, torch):
        opt = _optimizer(lib, kind)
        sched = factory(lib.optim.lr_scheduler, opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 17, 9, 40):
                opt.step()
                sched.step(epoch)
                results.append(list(sched.get_last_lr()))
    half = len(results) // 2
    np.testing.assert_allclose(results[:half], results[half:], rtol=1e-12)


def test_step_lr_values_and_initial_lr():
    p = zoo.zeros(2, requires_grad=True)
    opt = zoo.optim.SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 1.0 and sched.base_lrs == [1.0]
    lrs = []
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert sched.last_epoch == 6


def test_cosine_annealing_follows_the_closed_form():
    p = zoo.zeros(2, requires_grad=True)
    opt = zoo.optim.SGD([p], lr=0.2)
    sched = zoo.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for t in range(1, 25):
        opt.step()
        sched.step()
        expected = 0.01 + (0.2 - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_reduce_on_plateau_reduces_after_patience():
    p = zoo.zeros(2, requires_grad=True)
    opt = zoo.optim.SGD([p], lr=1.0)
    sched = zoo.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    for metric in [1.0, 1.0, 1.0]:
        sched.step(metric)
    assert sched.get_last_lr() == [1.0]
    sched.step(zoo.tensor(1.0))  # a 1-element tensor works too
    assert sched.get_last_lr() == [0.5]


def test_resuming_needs_initial_lr():
    p = zoo.zeros(2, requires_grad=True)
    opt = zoo.optim.SGD([p], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(opt, step_size=2, last_epoch=3)


def test_warnings():
    p = zoo.zeros(2, requires_grad=True)
    opt = zoo.optim.SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    opt2 = zoo.optim.SGD([zoo.zeros(2, requires_grad=True)], lr=1.0)
    sched2 = StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_errors():
    m = zoo.optim.lr_scheduler
    p = zoo.zeros(2, requires_grad=True)
    opt = zoo.optim.SGD([p], lr=1.0, momentum=0.9)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        m.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        m.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        m.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        m.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        m.ReduceLROnPlateau(opt, mode="median")
    with pytest.raises(ValueError, match="number of milestones"):
        m.SequentialLR(opt, [m.ExponentialLR(opt, 0.9), m.ExponentialLR(opt, 0.8)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        m.ChainedScheduler([m.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="total_steps OR"):
        m.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer T_0"):
        m.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="must have the same length"):
        m.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10)
    sched = m.OneCycleLR(zoo.optim.SGD([p], lr=1.0, momentum=0.9), max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.optimizer.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()
    with pytest.raises(ValueError, match="momentum or beta1"):
        m.OneCycleLR(zoo.optim.Adagrad([p]), max_lr=1.0, total_steps=10)
