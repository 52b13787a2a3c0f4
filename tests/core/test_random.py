"""Random generation: seeding, Generator objects, distributions' basic statistics, state round trips."""
import numpy as np
import pytest

import zoo


def test_manual_seed_reproducible():
    zoo.manual_seed(123)
    a = zoo.randn(5)
    zoo.manual_seed(123)
    assert zoo.randn(5).tolist() == a.tolist()
    assert zoo.initial_seed() == 123


def test_generator_objects_are_independent():
    g1 = zoo.Generator().manual_seed(7)
    g2 = zoo.Generator().manual_seed(7)
    zoo.randn(3)  # the default generator does not affect g1/g2
    assert zoo.rand(4, generator=g1).tolist() == zoo.rand(4, generator=g2).tolist()
    assert g1.initial_seed() == 7


def test_rng_state_round_trip():
    zoo.manual_seed(1)
    zoo.rand(3)
    state = zoo.get_rng_state()
    a = zoo.rand(3).tolist()
    zoo.set_rng_state(state)
    assert zoo.rand(3).tolist() == a


def test_distributions():
    zoo.manual_seed(0)
    u = zoo.rand(20000)
    assert u.dtype is zoo.float32 and 0 <= u.min().item() if hasattr(u, "min") else True
    assert abs(float(np.mean(u.numpy())) - 0.5) < 0.02
    n = zoo.randn(20000, dtype=zoo.float64)
    assert n.dtype is zoo.float64 and abs(float(np.std(n.numpy())) - 1) < 0.03
    r = zoo.randint(3, 7, (1000,))
    assert r.dtype is zoo.int64 and set(np.unique(r.numpy())) == {3, 4, 5, 6}
    assert zoo.randint(5, (3,)).shape == (3,)
    p = zoo.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    m = zoo.normal(2.0, 3.0, size=(20000,))
    assert abs(float(np.mean(m.numpy())) - 2) < 0.1
    mt = zoo.normal(zoo.zeros(3), zoo.ones(3))
    assert mt.shape == (3,)
    b = zoo.bernoulli(zoo.full((10000,), 0.3))
    assert abs(float(np.mean(b.numpy())) - 0.3) < 0.03
    assert zoo.rand_like(zoo.zeros(2, dtype=zoo.float64)).dtype is zoo.float64
    assert zoo.randn(2, 3).shape == (2, 3) and zoo.randn((2, 3)).shape == (2, 3)


def test_multinomial():
    zoo.manual_seed(0)
    probs = zoo.tensor([0.0, 0.2, 0.8])
    s = zoo.multinomial(probs, 2000, replacement=True)
    counts = np.bincount(s.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 2000 - 0.8) < 0.04
    w = zoo.multinomial(zoo.tensor([[1.0, 1.0, 1.0, 0.0]]), 3)
    assert sorted(w[0].tolist()) == [0, 1, 2] if hasattr(w, "__getitem__") else True
    with pytest.raises(RuntimeError, match="without replacement"):
        zoo.multinomial(probs, 5)
    with pytest.raises(RuntimeError, match="element < 0"):
        zoo.multinomial(zoo.tensor([-1.0, 2.0]), 1)


def test_inplace_random_fills():
    t = zoo.empty(1000)
    t.uniform_(-2, 2)
    assert -2 <= float(t.numpy().min()) and float(t.numpy().max()) < 2
    t.normal_(5.0, 0.1)
    assert abs(float(t.numpy().mean()) - 5) < 0.05
    with pytest.raises(RuntimeError, match="leaf Variable"):
        zoo.zeros(2, requires_grad=True).uniform_()


def test_randint_argument_errors():
    with pytest.raises(RuntimeError, match="from=5"):
        zoo.randint(5, 5, (2,))
    with pytest.raises(RuntimeError, match="floating point"):
        zoo.rand(2, dtype=zoo.int64)
