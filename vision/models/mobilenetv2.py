"""MobileNetV2 (Sandler et al., 2018), torchvision's layout and parameter names.

``features.0`` is the stem (``features.0.0`` conv, ``features.0.1`` BN), ``features.1`` .. ``features.17`` the
inverted-residual blocks (``features.N.conv.0.0`` expand conv, ``.conv.0.1`` BN, ``.conv.1.0`` depthwise conv,
``.conv.1.1`` BN, ``.conv.2`` projection, ``.conv.3`` BN; the first block has no expansion, so its depthwise
conv is ``conv.0`` and its projection ``conv.1`` / ``conv.2``), ``features.18`` the 1x1 head conv, and
``classifier.1`` the linear layer. timm ``mobilenetv2_*`` checkpoints (``conv_stem``, ``blocks.S.B.conv_pw`` ...,
``conv_head``, ``classifier``), which have the same architecture, are renamed on the way in.
"""
import re

from ...core import nn
from ...core.nn.utils.fusion import conv_bn
from ._api import build, match_bn_counters, register_builder

__all__ = ["MobileNetV2", "InvertedResidual", "mobilenet_v2", "timm_mobilenetv2_rules"]

# expansion t, output channels c, repeats n, first stride s (the paper's Table 2)
_SETTINGS = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
             [6, 320, 1, 1]]


def _make_divisible(v, divisor, min_value=None):
    """Round ``v`` to a multiple of ``divisor``, never more than 10% below ``v`` (TF's rule)."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvBNActivation(nn.Sequential):
    """conv (``0``), BatchNorm (``1``), ReLU6 (``2``): torchvision's Conv2dNormActivation."""

    def __init__(self, in_planes, out_planes, kernel_size=3, stride=1, groups=1, norm_layer=None, activation=True):
        norm_layer = norm_layer or nn.BatchNorm2d
        layers = [nn.Conv2d(in_planes, out_planes, kernel_size, stride, (kernel_size - 1) // 2, groups=groups,
                            bias=False), norm_layer(out_planes)]
        if activation:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)

    def forward(self, x):
        x = conv_bn(self[0], self[1], x)
        return self[2](x) if len(self) > 2 else x


class InvertedResidual(nn.Module):
    """1x1 expand (when ``expand_ratio`` > 1), 3x3 depthwise, linear 1x1 projection; residual when the shape
    is kept."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2, got {stride}")
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer))
        layers += [ConvBNActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, norm_layer=norm_layer),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), norm_layer(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.use_res_connect else out


class MobileNetV2(nn.Module):
    """MobileNetV2 with width multiplier ``width_mult`` (channels rounded to multiples of ``round_nearest``)."""

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 dropout=0.2, norm_layer=None, in_channels=3):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        setting = inverted_residual_setting or _SETTINGS
        if any(len(s) != 4 for s in setting):
            raise ValueError(f"inverted_residual_setting should be a list of 4-element lists, got {setting}")
        input_channel = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [ConvBNActivation(in_channels, input_channel, stride=2, norm_layer=norm_layer)]
        for t, c, n, s in setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t, norm_layer))
                input_channel = output_channel
        features.append(ConvBNActivation(input_channel, self.last_channel, kernel_size=1, norm_layer=norm_layer))
        self.features = nn.Sequential(*features)
        self.num_features = self.last_channel
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x):
        """The last feature map (N, last_channel, H/32, W/32), before pooling."""
        return self.features(x)

    def forward(self, x):
        x = self.forward_features(x).mean((2, 3))
        return self.classifier(x)

    @classmethod
    def convert_state_dict(cls, state_dict, model=None):
        """torchvision names pass through; timm ``mobilenetv2_*`` names are renamed (see the module docstring)."""
        if not any(k.startswith("conv_stem.") for k in state_dict):
            return dict(state_dict)
        from ...weights.convert import convert_state_dict
        converted, report = convert_state_dict(state_dict, timm_mobilenetv2_rules(state_dict), None)
        if report.errors or report.duplicates:
            raise RuntimeError(f"cannot convert the timm MobileNetV2 checkpoint:\n{report}")
        return match_bn_counters(converted, model)


_TIMM_EXPAND = {"conv_pw": "conv.0.0", "bn1": "conv.0.1", "conv_dw": "conv.1.0", "bn2": "conv.1.1",
                "conv_pwl": "conv.2", "bn3": "conv.3"}
_TIMM_DS = {"conv_dw": "conv.0.0", "bn1": "conv.0.1", "conv_pw": "conv.1", "bn2": "conv.2"}


def timm_mobilenetv2_rules(source_state_dict):
    """Rules (``zoo.weights.convert``) renaming a timm ``mobilenetv2_*`` state dict to torchvision names.

    timm numbers blocks by stage (``blocks.S.B``); torchvision numbers them flat from 1 (``features.N``). The
    stage sizes and which blocks expand are read from ``source_state_dict``."""
    from ...weights.convert import Rules
    blocks = sorted({(int(m.group(1)), int(m.group(2))) for k in source_state_dict
                     for m in [re.match(r"blocks\.(\d+)\.(\d+)\.", k)] if m})
    if not blocks:
        raise ValueError("not a timm MobileNetV2 state dict: no blocks.S.B.* keys")
    substitute = [(r"^conv_stem\.", "features.0.0."), (r"^bn1\.", "features.0.1."),
                  (r"^conv_head\.", f"features.{len(blocks) + 1}.0."), (r"^bn2\.", f"features.{len(blocks) + 1}.1."),
                  (r"^classifier\.", "classifier.1.")]
    for n, (stage, block) in enumerate(blocks, start=1):
        expands = f"blocks.{stage}.{block}.conv_pwl.weight" in source_state_dict
        table = _TIMM_EXPAND if expands else _TIMM_DS

        def repl(m, n=n, table=table):
            return f"features.{n}.{table[m.group(1)]}."
        substitute.append((rf"^blocks\.{stage}\.{block}\.({'|'.join(table)})\.", repl))
    return Rules(name="timm-mobilenetv2", substitute=substitute,
                 drop=(r"(.*\.)?num_batches_tracked",))


@register_builder
def mobilenet_v2(*, weights=None, num_classes=None, **kwargs):
    """MobileNetV2 (width 1.0)."""
    return build("mobilenet_v2", MobileNetV2, weights, num_classes, **kwargs)
