"""VGG (Simonyan & Zisserman, 2014), torchvision's layout and parameter names.

``features.N`` are the 3x3 convolutions (with BatchNorm in the ``_bn`` variants), ReLUs and max-pools in
torchvision's order, ``avgpool`` an adaptive average pool to 7x7, and ``classifier.0`` / ``.3`` / ``.6`` the three
linear layers. timm ``vgg*`` checkpoints keep the convolutions' names but hold the first two linear layers as
convolutions (``pre_logits.fc1`` (4096, 512, 7, 7), ``pre_logits.fc2`` (4096, 4096, 1, 1)) and the last as
``head.fc``; they are renamed and reshaped on the way in.
"""
from ...core import nn
from ._api import build, match_bn_counters, register_builder

__all__ = ["VGG", "make_layers", "CFGS", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn", "timm_vgg_rules"]

CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm=False, in_channels=3):
    """The ``features`` Sequential of a VGG configuration (ints are conv widths, ``"M"`` a 2x2 max-pool)."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1)
        layers += [conv, nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)] if batch_norm else [conv, nn.ReLU(True)]
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG over the convolutional ``features`` (from :func:`make_layers`) with torchvision's classifier.

    ``hidden_features`` (4096 in every published VGG) sizes the two hidden linear layers; the first takes the
    last convolution's channels x 7 x 7 (512 x 7 x 7 for the standard configurations)."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5, hidden_features=4096):
        super().__init__()
        self.features = features
        channels = [m.out_channels for m in features.modules() if isinstance(m, nn.Conv2d)]
        if not channels:
            raise ValueError("VGG: features holds no Conv2d")
        self.num_features = channels[-1]
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(self.num_features * 7 * 7, hidden_features), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden_features, hidden_features), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden_features, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward_features(self, x):
        """The last convolutional feature map (N, 512, H/32, W/32 for the standard configurations), before
        pooling and the classifier."""
        return self.features(x)

    def forward(self, x):
        x = self.avgpool(self.forward_features(x))
        return self.classifier(x.flatten(1))

    @classmethod
    def convert_state_dict(cls, state_dict, model=None):
        """torchvision names pass through; timm names are renamed and the conv-shaped linear weights flattened."""
        if not any(k.startswith(("pre_logits.", "head.fc.")) for k in state_dict):
            return match_bn_counters(state_dict, model)
        from ...weights.convert import convert_state_dict
        converted, report = convert_state_dict(state_dict, timm_vgg_rules(), None)
        if report.errors or report.duplicates:
            raise RuntimeError(f"cannot convert the timm VGG checkpoint:\n{report}")
        return match_bn_counters(converted, model)


def timm_vgg_rules():
    """Rules (``zoo.weights.convert``) renaming a timm VGG state dict to torchvision names."""
    from ...weights.convert import Rules, Transform

    def flatten(value, target_shape):
        return value.reshape((value.shape[0], -1))
    return Rules(name="timm-vgg", substitute=((r"^pre_logits\.fc1\.", "classifier.0."),
                                              (r"^pre_logits\.fc2\.", "classifier.3."),
                                              (r"^head\.fc\.", "classifier.6.")),
                 transform=(Transform(r"classifier\.[03]\.weight", flatten),))


def _vgg(builder, cfg, batch_norm, weights, num_classes, **kwargs):
    in_channels = kwargs.pop("in_channels", 3)

    def make(**kw):
        return VGG(make_layers(CFGS[cfg], batch_norm, in_channels), **kw)
    return build(builder, make, weights, num_classes, **kwargs)


@register_builder
def vgg11(*, weights=None, num_classes=None, **kwargs):
    """VGG-11 (configuration A)."""
    return _vgg("vgg11", "A", False, weights, num_classes, **kwargs)


@register_builder
def vgg11_bn(*, weights=None, num_classes=None, **kwargs):
    """VGG-11 with BatchNorm."""
    return _vgg("vgg11_bn", "A", True, weights, num_classes, **kwargs)


@register_builder
def vgg13(*, weights=None, num_classes=None, **kwargs):
    """VGG-13 (configuration B)."""
    return _vgg("vgg13", "B", False, weights, num_classes, **kwargs)


@register_builder
def vgg13_bn(*, weights=None, num_classes=None, **kwargs):
    """VGG-13 with BatchNorm."""
    return _vgg("vgg13_bn", "B", True, weights, num_classes, **kwargs)


@register_builder
def vgg16(*, weights=None, num_classes=None, **kwargs):
    """VGG-16 (configuration D)."""
    return _vgg("vgg16", "D", False, weights, num_classes, **kwargs)


@register_builder
def vgg16_bn(*, weights=None, num_classes=None, **kwargs):
    """VGG-16 with BatchNorm."""
    return _vgg("vgg16_bn", "D", True, weights, num_classes, **kwargs)


@register_builder
def vgg19(*, weights=None, num_classes=None, **kwargs):
    """VGG-19 (configuration E)."""
    return _vgg("vgg19", "E", False, weights, num_classes, **kwargs)


@register_builder
def vgg19_bn(*, weights=None, num_classes=None, **kwargs):
    """VGG-19 with BatchNorm."""
    return _vgg("vgg19_bn", "E", True, weights, num_classes, **kwargs)
