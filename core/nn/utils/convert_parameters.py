"""Flatten parameters into one vector and back (e.g. for second-order or evolutionary optimisers)."""
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param, device):
    if device is None:
        return param.device
    if param.device != device:
        raise TypeError(f"Found two parameters on different devices ({device} and {param.device}), this is "
                        f"currently not supported.")
    return device


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable, like PyTorch's)."""
    from ...ops.shape import cat
    device = None
    flat = []
    for p in parameters:
        device = _check_same_device(p, device)
        flat.append(p.reshape(-1))
    return cat(flat)


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the next slice of the 1-D ``vec`` (shared memory, as PyTorch's ``.data =``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected zoo.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() < total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of at least {total} elements (the "
                           f"parameters' total size), got shape {tuple(vec.shape)}")
    device = None
    pointer = 0
    data = vec._data
    for p in params:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = Tensor._make(data[pointer:pointer + n].reshape(p._data.shape))
        pointer += n
