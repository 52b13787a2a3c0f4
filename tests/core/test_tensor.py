"""Tensor basics: creation, dtype inference, conversions, zero-copy NumPy interop, devices, repr."""
import pickle

import numpy as np
import pytest

import zoo


def test_dtype_inference_like_pytorch():
    assert zoo.tensor([1.0, 2.0]).dtype is zoo.float32
    assert zoo.tensor([1, 2]).dtype is zoo.int64
    assert zoo.tensor([True]).dtype is zoo.bool
    assert zoo.tensor(np.array([1.0])).dtype is zoo.float64  # NumPy float64 is kept
    assert zoo.tensor(np.float64(1.0)).dtype is zoo.float64
    assert zoo.tensor([1, 2.5]).dtype is zoo.float32
    assert zoo.tensor(3).shape == () and zoo.tensor(3).dim() == 0
    assert zoo.tensor([[1, 2]], dtype=zoo.float16).dtype is zoo.float16
    assert zoo.tensor([1], dtype="float64").dtype is zoo.float64
    assert zoo.tensor([1], dtype=np.int32).dtype is zoo.int32


def test_all_supported_dtypes_round_trip():
    for name in ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]:
        d = getattr(zoo, name)
        t = zoo.zeros(2, dtype=d)
        assert t.dtype is d and t.numpy().dtype == np.dtype(name if name != "bool" else np.bool_)
        assert repr(d) == f"zoo.{name}"
    assert zoo.float is zoo.float32 and zoo.long is zoo.int64 and zoo.half is zoo.float16


def test_unsupported_dtypes_are_named():
    with pytest.raises(NotImplementedError, match="bfloat16"):
        zoo.bfloat16
    with pytest.raises(TypeError, match="complex128"):
        zoo.tensor(np.array([1j]))
    with pytest.raises(TypeError, match="non-numeric"):
        zoo.tensor(["a", 1])


def test_ragged_data_error():
    with pytest.raises(ValueError, match="could not make a tensor"):
        zoo.tensor([[1, 2], [3]])


def test_shape_size_numel():
    t = zoo.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, zoo.Size)
    assert t.size() == zoo.Size([2, 3, 4]) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24 and len(t) == 2
    assert repr(t.shape) == "zoo.Size([2, 3, 4])"
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(3)


def test_item_tolist_numpy_zero_copy():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = zoo.from_numpy(a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42.0 if hasattr(t, "__getitem__") else True
    assert t.numpy() is a
    assert zoo.as_tensor(a).numpy() is a
    assert zoo.tensor(a).numpy() is not a  # tensor() copies
    assert t.tolist() == a.tolist()
    assert zoo.tensor(2.5).item() == 2.5
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        zoo.ones(2).item()
    with pytest.raises(RuntimeError, match="requires grad"):
        zoo.ones(2, requires_grad=True).numpy()
    assert np.asarray(zoo.ones(2)).tolist() == [1.0, 1.0]


def test_to_and_type_conversions():
    t = zoo.tensor([1.7, -2.2])
    assert t.to(zoo.int64).tolist() == [1, -2]
    assert t.long().dtype is zoo.int64 and t.half().dtype is zoo.float16 and t.double().dtype is zoo.float64
    assert t.int().dtype is zoo.int32 and t.bool().tolist() == [True, True] and t.byte().dtype is zoo.uint8
    assert t.to("cpu") is t and t.to(zoo.float32) is t
    assert t.to(zoo.float32, copy=True) is not t
    assert t.to(zoo.zeros(1, dtype=zoo.float64)).dtype is zoo.float64
    assert t.float() is t and t.cpu() is t
    assert t.type() == "zoo.float32"


def test_to_dtype_is_differentiable():
    x = zoo.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn is not None
    (y * y).backward(zoo.ones(2, dtype=zoo.float64))
    assert x.grad.dtype is zoo.float32 and x.grad.tolist() == [2.0, 4.0]


def test_clone_contiguous_and_detach():
    x = zoo.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c.numpy(force=True) is not x.numpy(force=True)
    assert x.contiguous() is x
    assert x.is_contiguous()


def test_python_protocols():
    assert float(zoo.tensor(2.5)) == 2.5 and int(zoo.tensor(3)) == 3
    assert [1, 2, 3][zoo.tensor(1)] == 2
    assert bool(zoo.tensor([1.0])) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(zoo.ones(2))
    with pytest.raises(TypeError, match="0-d"):
        len(zoo.tensor(1.0))
    assert f"{zoo.tensor(0.5):.2f}" == "0.50"
    t = zoo.ones(2)
    assert {t: 1}[t] == 1  # hashable by identity


def test_pickle_round_trip():
    t = zoo.tensor([[1.5, 2.0]], dtype=zoo.float64)
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype is zoo.float64 and u.tolist() == t.tolist()


def test_repr_like_pytorch():
    assert repr(zoo.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(zoo.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(zoo.tensor([1.0], dtype=zoo.float64)) == "tensor([1.], dtype=zoo.float64)"
    assert repr(zoo.ones(1, requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(zoo.ones(1, requires_grad=True) * 2)
    assert repr(zoo.tensor(3.5)) == "tensor(3.5000)"


def test_creation_functions():
    assert zoo.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert zoo.ones((2,)).dtype is zoo.float32
    assert zoo.full((2,), 7).dtype is zoo.int64 and zoo.full((2,), 7.0).dtype is zoo.float32
    assert zoo.full((1,), True).dtype is zoo.bool
    assert zoo.empty(3).shape == (3,)
    assert zoo.arange(5).tolist() == [0, 1, 2, 3, 4] and zoo.arange(5).dtype is zoo.int64
    assert zoo.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert zoo.arange(0, 1, 0.1).shape == (10,)
    assert zoo.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert zoo.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    x = zoo.ones(2, dtype=zoo.float64)
    assert zoo.zeros_like(x).dtype is zoo.float64 and zoo.full_like(x, 3).tolist() == [3.0, 3.0]
    assert zoo.ones_like(x, dtype=zoo.int32).dtype is zoo.int32 and zoo.empty_like(x).shape == (2,)
    assert x.new_zeros(3).dtype is zoo.float64 and x.new_tensor([1]).dtype is zoo.float64
    assert x.new_full((2,), 5.0).tolist() == [5.0, 5.0] and x.new_ones(1).tolist() == [1.0]
    assert zoo.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        zoo.zeros(-1)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        zoo.arange(0, 1, 0)


def test_devices():
    assert zoo.ones(1).device == zoo.device("cpu") == "cpu"
    assert str(zoo.device("cuda", 1)) == "cuda:1" and zoo.device("cuda:1").index == 1
    assert repr(zoo.device("cpu")) == "device(type='cpu')"
    with pytest.raises(RuntimeError, match="unknown device type"):
        zoo.device("tpu")
    with pytest.raises(NotImplementedError, match="mps"):
        zoo.device("mps")
    assert zoo.cuda.device_count() >= 0
    assert isinstance(zoo.cuda.is_available(), bool)
    assert zoo.cuda.memory_allocated() >= 0


def test_cuda_tensor_without_gpu_is_a_clear_error():
    if zoo.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy|CUDA|cuda"):
        zoo.ones(2).cuda()


def test_num_threads():
    n = zoo.get_num_threads()
    assert n >= 1
    zoo.set_num_threads(1)
    assert zoo.get_num_threads() == 1
    zoo.set_num_threads(n)
    with pytest.raises(ValueError):
        zoo.set_num_threads(0)


@pytest.mark.gpu
def test_device_round_trip_and_mixing(device):
    if device == "cpu":
        pytest.skip("needs cuda")
    x = zoo.tensor([1.0, 2.0], requires_grad=True)
    y = x.cuda()
    assert y.device == zoo.device("cuda", 0) and y.is_cuda
    (y * 2).cpu().backward(zoo.ones(2))
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="cpu.*cuda:0|cuda:0.*cpu"):
        y + zoo.ones(2)
