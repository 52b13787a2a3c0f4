"""DCGAN (Radford, Metz and Chintala, 2015) with the parameter names of PyTorch's DCGAN tutorial / example.

Both networks are one ``main`` Sequential, so the state-dict keys are ``main.N.weight`` etc., as in
pytorch/examples' ``dcgan/main.py`` and the PyTorch DCGAN tutorial:

* :class:`DCGANGenerator`: latent ``z`` (N, nz, 1, 1) -> ConvTranspose2d(nz, ngf*2^k, 4, 1, 0) to 4x4, then
  ConvTranspose2d(4, stride 2, padding 1) blocks that double the size and halve the channels, each followed by
  BatchNorm2d and ReLU, and a last ConvTranspose2d to ``nc`` channels with Tanh: images in [-1, 1].
* :class:`DCGANDiscriminator`: image (N, nc, S, S) -> Conv2d(4, stride 2, padding 1) blocks that halve the size and
  double the channels (LeakyReLU(0.2); BatchNorm2d on all but the first), then Conv2d(…, 1, 4, 1, 0) and Sigmoid:
  the probability that each image is real, shape (N,).

Every convolution is bias-free. ``image_size`` is 64 (the paper's and the tutorial's: 5 layers each, ``main.0`` …
``main.13`` / ``main.12``) or 32 (one stride-2 block fewer), or any power of two from 16 to 256. New models are
initialised as in the paper: convolution weights from N(0, 0.02), BatchNorm weights from N(1, 0.02) and biases 0
(:func:`weights_init`, applied by the constructors; pass ``init=False`` to keep PyTorch's default init).
"""
import json
import math

from ...core import nn
from ...core.nn import init as nn_init
from ._api import load_pretrained, register_builder, resolve_weights

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "weights_init", "dcgan_generator", "dcgan_discriminator"]


def _check_config(cls, image_size, **channels):
    for name, value in channels.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{cls}: {name} must be a positive integer, got {value!r}")
    if (not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 16 or image_size > 256
            or image_size & (image_size - 1)):
        raise ValueError(f"{cls}: image_size must be a power of two from 16 to 256 (32 or 64 as in DCGAN), got "
                         f"{image_size!r}")
    return int(math.log2(image_size)) - 3  # the number of stride-2 blocks between the 4x4 map and the image


def weights_init(module):
    """DCGAN's initialisation for one module (use with ``model.apply``): Conv / ConvTranspose weights from
    N(0, 0.02), BatchNorm weights from N(1, 0.02) and biases zero."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn_init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn_init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn_init.normal_(module.weight, 1.0, 0.02)
        nn_init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """Maps latent vectors (N, nz) or (N, nz, 1, 1) to images (N, nc, image_size, image_size) in [-1, 1]."""

    def __init__(self, nz=100, ngf=64, nc=3, image_size=64, init=True):
        super().__init__()
        blocks = _check_config("DCGANGenerator", image_size, nz=nz, ngf=ngf, nc=nc)
        self.nz, self.ngf, self.nc, self.image_size = nz, ngf, nc, image_size
        width = ngf * 2 ** blocks
        layers = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(blocks):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2),
                       nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        if init:
            self.apply(weights_init)

    def config(self):
        """The constructor arguments (what ``config.json`` of a saved generator holds, with its architecture)."""
        return {"architecture": "dcgan_generator", "nz": self.nz, "ngf": self.ngf, "nc": self.nc,
                "image_size": self.image_size}

    def forward(self, z):
        if z.ndim == 2:
            z = z.reshape(z.shape[0], z.shape[1], 1, 1)
        if z.ndim != 4 or z.shape[1] != self.nz or z.shape[2:] != (1, 1):
            raise ValueError(f"DCGANGenerator expects latent vectors shaped (N, {self.nz}) or (N, {self.nz}, 1, 1), "
                             f"got {tuple(z.shape)}")
        return self.main(z)


class DCGANDiscriminator(nn.Module):
    """Maps images (N, nc, image_size, image_size) to the probability (N,) that each is real."""

    def __init__(self, ndf=64, nc=3, image_size=64, init=True):
        super().__init__()
        blocks = _check_config("DCGANDiscriminator", image_size, ndf=ndf, nc=nc)
        self.ndf, self.nc, self.image_size = ndf, nc, image_size
        layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(blocks):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2),
                       nn.LeakyReLU(0.2, inplace=True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)
        if init:
            self.apply(weights_init)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.nc or x.shape[2:] != (self.image_size, self.image_size):
            raise ValueError(f"DCGANDiscriminator expects images shaped (N, {self.nc}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}")
        return self.main(x).reshape(-1)


def _stored_config(entry):
    """The generator config recorded in a weights entry's ``config.json`` (resolved and sha256-checked)."""
    from ...weights.sources import resolve
    if "config.json" not in entry.files:
        raise ValueError(f"weights {entry.name!r} carry no config.json, so the generator's shape is unknown")
    with open(resolve(entry, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    arch = config.pop("architecture", "dcgan_generator")
    if arch != "dcgan_generator":
        raise ValueError(f"weights {entry.name!r}: config.json describes {arch!r}, not dcgan_generator")
    return config


@register_builder
def dcgan_generator(*, weights=None, **kwargs):
    """A DCGAN generator; ``weights`` (``"DEFAULT"`` = ``"dcgan_digits"`` or an entry name) loads a trained one,
    whose shape comes from its ``config.json`` (explicit keyword arguments must agree with it)."""
    entry = resolve_weights(weights, "dcgan_generator")
    if entry is None:
        return DCGANGenerator(**kwargs)
    config = _stored_config(entry)
    for key, value in kwargs.items():
        if key in config and config[key] != value:
            raise ValueError(f"dcgan_generator: weights {entry.name!r} have {key}={config[key]}, not {value!r}")
    state = entry.get_state_dict("model.safetensors")  # found and verified before building
    model = DCGANGenerator(**{**config, **kwargs, "init": False})
    return load_pretrained(model, entry, state)


@register_builder
def dcgan_discriminator(*, weights=None, **kwargs):
    """A DCGAN discriminator (no trained discriminator is shipped: pass ``weights=None``)."""
    if weights is not None:
        raise ValueError("dcgan_discriminator: no pretrained discriminator weights are registered; zoo ships "
                         "only generators (e.g. dcgan_generator(weights='dcgan_digits'))")
    return DCGANDiscriminator(**kwargs)
