"""nn.Module and the containers: registration, traversal order, shared parameters, buffers, train/eval, dtype
conversion, state_dict round trips and load_state_dict's errors, hooks, and repr equal to PyTorch's."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
from helpers import to_numpy, torch_or_skip

import zoo
import zoo.nn as nn


def _build(lib):
    """The same small architecture in zoo or PyTorch: nested modules, a buffer, containers."""
    class Block(lib.nn.Module):
        def __init__(self, c, eps):
            super().__init__()
            self.fc = lib.nn.Linear(c, c)
            self.norm = lib.nn.LayerNorm(c, eps=eps)
            self.register_buffer("scale", lib.ones(c))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.norm(self.fc(x)) * self.scale + x

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(10, 4)
            self.blocks = lib.nn.ModuleList([Block(4, 1e-5), Block(4, 1e-6)])
            self.heads = lib.nn.ModuleDict({"cls": lib.nn.Linear(4, 3), "reg": lib.nn.Sequential(
                lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Dropout(0.1), lib.nn.Linear(8, 1))})
            self.bn = lib.nn.BatchNorm1d(4)
            self.temperature = lib.nn.Parameter(lib.ones(1))

        def forward(self, ids):
            h = self.embed(ids)
            for b in self.blocks:
                h = b(h)
            h = self.bn(h)
            return self.heads["cls"](h) / self.temperature, self.heads["reg"](h)

    return Net()


# ------------------------------------------------------------------------------------------------------------
# registration and traversal
# ------------------------------------------------------------------------------------------------------------


def test_registration_by_assignment():
    m = nn.Module()
    m.w = nn.Parameter(zoo.ones(2))
    m.child = nn.Linear(2, 2)
    m.register_buffer("buf", zoo.zeros(3))
    m.plain = zoo.ones(1)  # a plain tensor attribute is neither a parameter nor a buffer
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"] and list(m._buffers) == ["buf"]
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_buffers()] == ["buf"]
    assert m.w is m._parameters["w"] and m.child is m._modules["child"]
    m.w = None  # a registered parameter may be set to None, and is skipped from then on
    assert [n for n, _ in m.named_parameters()] == ["child.weight", "child.bias"]
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = zoo.ones(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'child'"):
        m.child = 3
    with pytest.raises(TypeError, match="cannot assign 'list' as buffer 'buf'"):
        m.buf = [1]
    m.buf = zoo.ones(3)  # buffers can be replaced by tensors
    np.testing.assert_array_equal(to_numpy(m.buf), 1)
    m.child = nn.ReLU()  # replacing a child keeps its registration
    assert isinstance(m._modules["child"], nn.ReLU)
    del m.child
    assert "child" not in m._modules and not hasattr(m, "child")
    with pytest.raises(KeyError, match='contain "."'):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", zoo.ones(1))
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        m.missing


def test_assignment_before_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(zoo.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


@pytest.mark.oracle
def test_traversal_order_matches_pytorch():
    torch = torch_or_skip()
    z, t = _build(zoo), _build(torch)
    assert [n for n, _ in z.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in z.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in z.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in z.named_children()] == [n for n, _ in t.named_children()]
    assert list(z.state_dict()) == list(t.state_dict())
    for (n, zp), tp in zip(z.named_parameters(), t.parameters()):
        assert tuple(zp.shape) == tuple(tp.shape), n
    assert [n for n, _ in z.named_parameters(prefix="model")][0] == "model.temperature"


def test_shared_parameters_and_modules_are_deduplicated():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch: every name

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 3)
            self.head = nn.Linear(3, 5, bias=False)
            self.head.weight = self.embed.weight

    m = Tied()
    assert [n for n, _ in m.named_parameters()] == ["embed.weight"]
    out = m.head(m.embed(zoo.tensor([1, 2])))
    out.sum().backward()
    assert m.embed.weight.grad is not None  # both uses accumulate into the one tensor


def test_get_submodule_parameter_buffer_and_apply():
    net = _build(zoo)
    assert net.get_submodule("heads.reg.0") is net.heads["reg"][0]
    assert net.get_parameter("blocks.1.fc.bias") is net.blocks[1].fc.bias
    assert net.get_buffer("bn.running_mean") is net.bn.running_mean
    with pytest.raises(AttributeError, match="no submodule `nope`"):
        net.get_submodule("heads.nope")
    with pytest.raises(AttributeError, match="not a parameter"):
        net.get_parameter("bn.running_mean")
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 5  # children first, then the module itself
    assert sum(1 for _ in net.modules()) == len(list(net.named_modules()))


# ------------------------------------------------------------------------------------------------------------
# buffers, modes, conversions
# ------------------------------------------------------------------------------------------------------------


def test_buffers_persistent_and_non_persistent():
    net = _build(zoo)
    names = [n for n, _ in net.named_buffers()]
    assert "blocks.0.cache" in names and "blocks.0.scale" in names
    sd = net.state_dict()
    assert "blocks.0.scale" in sd and "blocks.0.cache" not in sd
    net.blocks[0].register_buffer("cache", zoo.ones(2), persistent=True)
    assert "blocks.0.cache" in net.state_dict()
    net.blocks[0].register_buffer("none_buf", None)
    assert "blocks.0.none_buf" not in net.state_dict()
    assert net.blocks[0].none_buf is None


def test_train_eval_propagate():
    net = _build(zoo)
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.heads.train()
    assert net.heads["reg"][2].training and not net.bn.training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_dropout_and_batchnorm_follow_the_mode():
    net = _build(zoo).eval()
    ids = zoo.tensor([[1, 2, 3], [4, 5, 6]])
    ids = ids.reshape(-1)
    a = to_numpy(net(ids)[1])
    b = to_numpy(net(ids)[1])
    np.testing.assert_array_equal(a, b)  # eval: deterministic, running statistics untouched
    assert net.bn.num_batches_tracked.item() == 0
    net.train()
    net(ids)
    assert net.bn.num_batches_tracked.item() == 1


def test_to_dtype_keeps_parameter_identity():
    net = _build(zoo)
    params = list(net.parameters())
    net(zoo.tensor([1, 2, 3]))[0].sum().backward()
    assert net.to(zoo.float64) is net
    assert all(p is q for p, q in zip(params, net.parameters()))
    assert all(p.dtype == zoo.float64 and isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert all(p.grad is None or p.grad.dtype == zoo.float64 for p in params)
    assert net.blocks[0].scale.dtype == zoo.float64 and net.bn.running_var.dtype == zoo.float64
    assert net.bn.num_batches_tracked.dtype == zoo.int64  # integer buffers keep their dtype
    net.float()
    assert all(p.dtype == zoo.float32 for p in params)
    net.half()
    assert params[0].dtype == zoo.float16
    net.to(dtype=zoo.float32, device="cpu")
    assert params[0].dtype == zoo.float32 and params[0].device.type == "cpu"
    with pytest.raises(TypeError, match="floating point"):
        net.to(zoo.int64)
    with pytest.raises(NotImplementedError, match="bfloat16"):
        net.bfloat16()


def test_requires_grad_and_zero_grad():
    lin = nn.Linear(2, 2)
    lin(zoo.ones(1, 2)).sum().backward()
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(to_numpy(lin.weight.grad), 0)
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    lin.requires_grad_(False)
    assert not any(p.requires_grad for p in lin.parameters())
    assert not lin(zoo.ones(1, 2)).requires_grad


# ------------------------------------------------------------------------------------------------------------
# state_dict
# ------------------------------------------------------------------------------------------------------------


def test_state_dict_round_trip_and_detach():
    a, b = _build(zoo), _build(zoo)
    ids = zoo.tensor([3, 1, 4, 1, 5])
    a.train()
    a(ids)  # move the running statistics away from their initial values
    sd = a.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    assert a.state_dict(keep_vars=True)["embed.weight"] is a.embed.weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == [] and result.mismatched_keys == []
    assert repr(result) == "<All keys matched successfully>"
    a.eval(), b.eval()
    for x, y in zip(a(ids), b(ids)):
        np.testing.assert_array_equal(to_numpy(x), to_numpy(y))
    params = list(b.parameters())
    b.load_state_dict(sd)
    assert all(p is q for p, q in zip(params, b.parameters()))  # copied into, not replaced
    sd["embed.weight"].fill_(0.0)  # state_dict tensors share memory with the parameters, as in PyTorch
    assert not to_numpy(a.embed.weight).any()
    # a state_dict of NumPy arrays loads too
    b.load_state_dict({k: to_numpy(v) for k, v in a.state_dict().items()})
    assert not to_numpy(b.embed.weight).any()


def test_load_state_dict_strict_errors_list_every_problem():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = dict(net.state_dict())
    del sd["0.bias"]
    sd["extra.weight"] = zoo.zeros(1)
    sd["1.weight"] = zoo.zeros(4)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "0.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for 1.weight: copying a param with shape (4,) from checkpoint, the shape in current " \
           "model is (3,)" in msg
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_load_state_dict_non_strict_result():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    before = to_numpy(net[1].weight).copy()
    sd = dict(net.state_dict())
    del sd["0.bias"]
    sd["extra"] = zoo.zeros(1)
    sd["1.weight"] = zoo.zeros(4)
    sd["0.weight"] = zoo.full((3, 2), 2.0)
    missing, unexpected = result = net.load_state_dict(sd, strict=False)
    assert missing == ["0.bias"] and unexpected == ["extra"]
    assert result.mismatched_keys == [("1.weight", (4,), (3,))]
    np.testing.assert_array_equal(to_numpy(net[0].weight), 2)  # the matching entries were loaded
    np.testing.assert_array_equal(to_numpy(net[1].weight), before)  # the mismatched one was left alone
    assert "mismatched_keys=[('1.weight', (4,), (3,))]" in repr(result)


@pytest.mark.oracle
def test_load_state_dict_error_message_matches_pytorch_layout():
    torch = torch_or_skip()
    msgs = []
    for lib in (zoo, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU())
        sd = dict(m.state_dict())
        del sd["0.bias"]
        sd["x"] = lib.zeros(1)
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(sd)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.oracle
def test_pytorch_state_dict_loads_into_zoo_model():
    torch = torch_or_skip()
    t, z = _build(torch), _build(zoo)
    z.load_state_dict({k: zoo.tensor(v.numpy()) for k, v in t.state_dict().items()})
    t.eval(), z.eval()
    ids = np.array([0, 3, 9, 2])
    for zo, to in zip(z(zoo.tensor(ids)), t(torch.tensor(ids))):
        np.testing.assert_allclose(to_numpy(zo), to.detach().numpy(), atol=1e-5, rtol=1e-5)


def test_copy_and_pickle():
    net = _build(zoo)
    clone = copy.deepcopy(net)
    assert clone.embed.weight is not net.embed.weight
    np.testing.assert_array_equal(to_numpy(clone.embed.weight), to_numpy(net.embed.weight))
    assert isinstance(clone.embed.weight, nn.Parameter) and clone.embed.weight.requires_grad
    seq = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Dropout(0.5)).eval()
    restored = pickle.loads(pickle.dumps(seq))
    assert list(restored.state_dict()) == list(seq.state_dict()) and not restored[2].training
    x = zoo.randn(4, 2)
    np.testing.assert_array_equal(to_numpy(restored(x)), to_numpy(seq(x)))


# ------------------------------------------------------------------------------------------------------------
# hooks
# ------------------------------------------------------------------------------------------------------------


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    y = lin(zoo.ones(3, 2))
    np.testing.assert_allclose(to_numpy(y), to_numpy(lin.bias + 1).reshape(1, 2).repeat(3, 0), rtol=1e-6)
    assert calls == [(3, 2)]
    pre.remove()
    post.remove()
    np.testing.assert_allclose(to_numpy(lin(zoo.ones(1, 2))), to_numpy(lin.weight.sum(1) + lin.bias)[None],
                               rtol=1e-6)
    assert calls == [(3, 2)]
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("second"))
    lin.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
    with lin.register_forward_pre_hook(lambda m, a, k: (a, {}), with_kwargs=True):
        lin(zoo.ones(1, 2))
    assert order == ["first", "second"]
    assert len(lin._forward_pre_hooks) == 0  # the context manager removed it
    assert not lin._forward_pre_hooks_with_kwargs  # and its "called with kwargs" mark
    kw = []
    lin.register_forward_hook(lambda m, a, k, o: kw.append(sorted(k)), with_kwargs=True)
    lin(input=zoo.ones(1, 2))
    assert kw == [["input"]]
    with pytest.raises(NotImplementedError, match="backward_hook"):
        lin.register_full_backward_hook(lambda *a: None)


def test_hooks_on_children_run_inside_parent():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    captured = {}
    def keep(module, args, output):
        captured["relu"] = to_numpy(output)

    net[1].register_forward_hook(keep)
    net(zoo.randn(4, 2))
    assert captured["relu"].shape == (4, 3) and (captured["relu"] >= 0).all()


# ------------------------------------------------------------------------------------------------------------
# containers
# ------------------------------------------------------------------------------------------------------------


def test_sequential_and_lists():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert seq.fc is seq[0] and isinstance(seq[-1], nn.Tanh) and len(seq) == 2
    assert isinstance(seq[0:1], nn.Sequential) and len(seq[0:1]) == 1
    seq.append(nn.Linear(3, 1))
    assert seq(zoo.ones(5, 2)).shape == (5, 1)
    ml = nn.ModuleList([nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml.insert(0, nn.GELU())
    assert [type(m).__name__ for m in ml] == ["GELU", "ReLU", "Tanh", "Sigmoid"]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2", "3"]
    md = nn.ModuleDict({"a": nn.ReLU()})
    md["b"] = nn.Linear(1, 1)
    assert list(md.keys()) == ["a", "b"] and "b" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias"]
    pl = nn.ParameterList([nn.Parameter(zoo.ones(2)), zoo.zeros(3)])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"] and isinstance(pl[1], nn.Parameter)
    pd = nn.ParameterDict({"w": zoo.ones(2)})
    assert [n for n, _ in pd.named_parameters()] == ["w"] and pd["w"].requires_grad


def _kinds(container):
    return [type(m).__name__ for m in container]


def test_list_containers_index_delete_insert_and_renumber():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.GELU()])
    assert isinstance(ml[1:3], nn.ModuleList) and _kinds(ml[1:3]) == ["Tanh", "Sigmoid"]
    assert [n for n, _ in ml[1:3].named_children()] == ["0", "1"]
    ml[-1] = nn.SiLU()
    del ml[0]
    assert _kinds(ml) == ["Tanh", "Sigmoid", "SiLU"] and list(ml._modules) == ["0", "1", "2"]
    del ml[0:2]
    ml.insert(-1, nn.ReLU())  # list semantics: before the last entry
    assert _kinds(ml) == ["ReLU", "SiLU"] and list(ml._modules) == ["0", "1"]
    ml += [nn.Tanh()]
    assert _kinds(ml + nn.ModuleList([nn.GELU()])) == ["ReLU", "SiLU", "Tanh", "GELU"]
    for bad in (3, -4):
        with pytest.raises(IndexError, match="out of range"):
            ml[bad]
    with pytest.raises(TypeError, match="not a Module subclass"):
        ml.append(zoo.ones(2))

    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh()), ("out", nn.Linear(3, 1))]))
    seq[1] = nn.ReLU()  # by position, keeping the name
    del seq[0]
    assert list(seq._modules) == ["act", "out"] and isinstance(seq.act, nn.ReLU)  # names kept
    seq = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    del seq[-2]
    seq.insert(1, nn.GELU())
    assert _kinds(seq) == ["ReLU", "GELU", "Sigmoid"] and list(seq._modules) == ["0", "1", "2"]
    assert _kinds(seq.extend([nn.SiLU()])) == ["ReLU", "GELU", "Sigmoid", "SiLU"]

    pl = nn.ParameterList([zoo.ones(2)])
    pl.extend([zoo.zeros(3), zoo.ones(1)]).append(zoo.zeros(4))
    pl[-1] = zoo.ones(5)
    assert [tuple(p.shape) for p in pl] == [(2,), (3,), (1,), (5,)] and len(pl) == 4
    assert isinstance(pl[1:3], nn.ParameterList) and [tuple(p.shape) for p in pl[1:3]] == [(3,), (1,)]
    assert isinstance(pl[-1], nn.Parameter) and [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="out of range"):
        pl[4]


def test_dict_containers():
    md = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
    md.update({"c": nn.GELU()})
    assert list(md) == ["a", "b", "c"] and _kinds(md.values()) == ["ReLU", "Tanh", "GELU"]
    assert isinstance(md.pop("b"), nn.Tanh) and "b" not in md and len(md) == 2
    del md["a"]
    assert [k for k, _ in md.items()] == ["c"]
    md.clear()
    assert len(md) == 0 and not list(md.keys())
    pd = nn.ParameterDict([("w", zoo.ones(2)), ("b", nn.Parameter(zoo.zeros(1)))])
    pd["v"] = zoo.ones(3)
    del pd["w"]
    assert list(pd) == ["b", "v"] and "v" in pd and isinstance(pd["v"], nn.Parameter)
    assert [tuple(p.shape) for p in pd.values()] == [(1,), (3,)]
    with pytest.raises(KeyError):
        pd["w"]
    assert tuple(pd.pop("b").shape) == (1,) and list(pd) == ["v"]
    pd.clear()
    assert len(pd) == 0 and not list(pd.named_parameters())


# ------------------------------------------------------------------------------------------------------------
# repr
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
def test_repr_matches_pytorch():
    torch = torch_or_skip()
    assert repr(_build(zoo)) == repr(_build(torch))

    def mlp(lib):
        n = lib.nn
        return n.Sequential(OrderedDict([
            ("flatten", n.Flatten()), ("body", n.Sequential(n.Linear(784, 256), n.BatchNorm1d(256), n.GELU())),
            ("drop", n.Dropout(0.2)), ("out", n.Linear(256, 10)), ("empty", n.Sequential()),
            ("list", n.ModuleList()), ("none_dict", n.ModuleDict())]))

    assert repr(mlp(zoo)) == repr(mlp(torch))
    assert repr(nn.Module()) == repr(torch.nn.Module()) == "Module()"
    for cls in ("ParameterList", "ParameterDict"):  # PyTorch names the dtype, ParameterDict the tensor type
        for values in ([], [2], [(2, 3), ()]):
            z = getattr(nn, cls)([zoo.ones(s) for s in values] if cls == "ParameterList" else
                                 {str(i): zoo.ones(s, dtype=zoo.float64) for i, s in enumerate(values)})
            t = getattr(torch.nn, cls)([torch.ones(s) for s in values] if cls == "ParameterList" else
                                       {str(i): torch.ones(s, dtype=torch.float64) for i, s in enumerate(values)})
            expected = repr(t).replace("torch.DoubleTensor", "torch.float64").replace("torch.", "zoo.")
            assert repr(z) == expected
    assert repr(nn.ModuleList([nn.ReLU(), nn.Linear(1, 2)])) == repr(torch.nn.ModuleList([torch.nn.ReLU(),
                                                                                         torch.nn.Linear(1, 2)]))

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(1, 1)

        def extra_repr(self):
            return "k=1\nline2"

    assert repr(WithExtra()) == ("WithExtra(\n  k=1\n  line2\n  (inner): Linear(in_features=1, out_features=1, "
                                 "bias=True)\n)")


@pytest.mark.oracle
def test_modulelist_repr_compresses_repeated_modules_like_pytorch():
    """PyTorch prints runs of identical children of a ModuleList as "(0-1): 2 x Block(...)"."""
    torch = torch_or_skip()

    def layers(lib):
        n = lib.nn
        return n.ModuleList([n.Linear(2, 2), n.Linear(2, 2), n.Linear(2, 2), n.ReLU(), n.Linear(2, 2)])

    assert repr(layers(zoo)) == repr(layers(torch))
