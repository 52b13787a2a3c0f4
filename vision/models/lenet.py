"""LeNet-5 (LeCun et al., 1998) with PyTorch-tutorial parameter names.

``conv1`` (1 -> 6, 5x5), subsampling, ``conv2`` (6 -> 16, 5x5), subsampling, then ``fc1`` (400 -> 120), ``fc2``
(120 -> 84) and ``fc3`` (84 -> classes), for 32x32 inputs (28x28 MNIST digits with ``padding=2``). The paper's
network uses a squashing function (tanh here) and average-pooling subsampling; ``activation="relu"`` and
``pooling="max"`` give the common modern variant. The paper's sparse C3 connection table and RBF output layer are
replaced by a full convolution and a linear layer, as every PyTorch port does.
"""
from ...core import nn
from ._api import build, register_builder

__all__ = ["LeNet5", "lenet5"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(nn.Module):
    """LeNet-5 for ``in_channels`` x 32 x 32 images (pass ``padding=2`` for 28 x 28)."""

    def __init__(self, num_classes=10, in_channels=1, activation="tanh", pooling="avg", padding=0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if pooling not in _POOLS:
            raise ValueError(f"LeNet5: pooling must be one of {sorted(_POOLS)}, got {pooling!r}")
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool = _POOLS[pooling](kernel_size=2, stride=2)
        self.act = _ACTIVATIONS[activation]()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.num_features = 16

    def forward_features(self, x):
        """The feature map after the second subsampling, (N, 16, 5, 5) for 32x32 inputs."""
        if x.shape[-2:] != ((32, 32) if self.conv1.padding[0] == 0 else (28, 28)):
            raise ValueError(f"LeNet5 expects {'32x32' if self.conv1.padding[0] == 0 else '28x28'} images, got "
                             f"{tuple(x.shape[-2:])}")
        x = self.pool(self.act(self.conv1(x)))
        return self.pool(self.act(self.conv2(x)))

    def forward(self, x):
        x = self.forward_features(x).flatten(1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.fc3(x)


@register_builder
def lenet5(*, weights=None, num_classes=None, **kwargs):
    """LeNet-5 (no pretrained weights are registered; train it, e.g. on MNIST)."""
    return build("lenet5", LeNet5, weights, num_classes, default_classes=10, **kwargs)
