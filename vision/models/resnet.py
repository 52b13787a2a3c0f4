"""ResNet (He et al., 2015), torchvision's v1.5 layout and parameter names.

``conv1`` / ``bn1`` / ``maxpool``, four stages ``layer1`` .. ``layer4`` of blocks (``layerN.B.conv1``, ``bn1`` ...,
``downsample.0`` / ``downsample.1`` where the shape changes), ``avgpool`` and ``fc``; the stride of a
bottleneck block sits on its 3x3 convolution (v1.5). torchvision and timm ResNet checkpoints load as they are;
Hugging Face ``ResNetForImageClassification`` checkpoints are renamed on the way in (``convert_state_dict``).
"""
from ...core import nn
from ...core.nn.utils.fusion import conv_bn
from ._api import build, match_bn_counters, register_builder

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "wide_resnet50_2"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(conv_bn(self.conv1, self.bn1, x))
        out = conv_bn(self.conv2, self.bn2, out)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided, grouped), 1x1 expand by 4, with a residual connection (ResNet-50 and deeper)."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(conv_bn(self.conv1, self.bn1, x))
        out = self.relu(conv_bn(self.conv2, self.bn2, out))
        out = conv_bn(self.conv3, self.bn3, out)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A ResNet of ``block`` (BasicBlock or Bottleneck) with ``layers`` blocks per stage.

    ``zero_init_residual`` starts every block's last BN at zero (each block begins as the identity);
    ``groups`` / ``width_per_group`` give ResNeXt and Wide ResNet."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None, in_channels=3):
        super().__init__()
        if isinstance(block, str):
            block = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        if len(layers) != 4:
            raise ValueError(f"ResNet expects 4 stage depths, got layers={list(layers)}")
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, got "
                             f"{replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.num_features = 512 * block.expansion
        self.fc = nn.Linear(self.num_features, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward_features(self, x):
        """The last feature map (N, num_features, H/32, W/32), before pooling."""
        x = self.maxpool(self.relu(conv_bn(self.conv1, self.bn1, x)))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        x = self.avgpool(self.forward_features(x))
        return self.fc(x.flatten(1))

    @classmethod
    def convert_state_dict(cls, state_dict, model=None):
        """torchvision / timm names pass through (a DataParallel ``module.`` prefix is dropped, BN
        ``num_batches_tracked`` is added or dropped to match); Hugging Face ResNet names are renamed."""
        from ...weights.convert import convert_state_dict, hf_resnet, torchvision_resnet
        hf = any(k.startswith(("resnet.embedder.", "embedder.embedder.")) for k in state_dict)
        rules = hf_resnet() if hf else torchvision_resnet()
        converted, _ = convert_state_dict(state_dict, rules, None)
        return match_bn_counters(converted, model)


def _resnet(builder, block, layers, weights, num_classes, **kwargs):
    return build(builder, lambda **kw: ResNet(block, layers, **kw), weights, num_classes, **kwargs)


@register_builder
def resnet18(*, weights=None, num_classes=None, **kwargs):
    """ResNet-18: BasicBlock, (2, 2, 2, 2)."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, num_classes, **kwargs)


@register_builder
def resnet34(*, weights=None, num_classes=None, **kwargs):
    """ResNet-34: BasicBlock, (3, 4, 6, 3)."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, num_classes, **kwargs)


@register_builder
def resnet50(*, weights=None, num_classes=None, **kwargs):
    """ResNet-50: Bottleneck, (3, 4, 6, 3)."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, num_classes, **kwargs)


@register_builder
def resnet101(*, weights=None, num_classes=None, **kwargs):
    """ResNet-101: Bottleneck, (3, 4, 23, 3)."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, num_classes, **kwargs)


@register_builder
def resnet152(*, weights=None, num_classes=None, **kwargs):
    """ResNet-152: Bottleneck, (3, 8, 36, 3)."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, num_classes, **kwargs)


@register_builder
def resnext50_32x4d(*, weights=None, num_classes=None, **kwargs):
    """ResNeXt-50 32x4d: Bottleneck with 32 groups of width 4."""
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], weights, num_classes, groups=32,
                   width_per_group=4, **kwargs)


@register_builder
def wide_resnet50_2(*, weights=None, num_classes=None, **kwargs):
    """Wide ResNet-50-2: Bottleneck with twice the inner width."""
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], weights, num_classes, width_per_group=128,
                   **kwargs)
