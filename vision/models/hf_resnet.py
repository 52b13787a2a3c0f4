"""ResNet as Hugging Face Transformers' ``ResNetModel`` / ``ResNetForImageClassification`` (``microsoft/resnet-*``),
with its parameter names.

Names: ``resnet.embedder.embedder.convolution`` / ``.normalization`` (7x7 stride-2 stem, then a 3x3 max-pool),
``resnet.encoder.stages.S.layers.B.shortcut.convolution|normalization`` (where the shape changes) and
``.layer.I.convolution|normalization`` (the block's convolutions), and ``classifier.1`` (after a Flatten). The
stride of a bottleneck block sits on its 3x3 convolution unless ``downsample_in_bottleneck``. This is the same
network as torchvision's ResNet-50 under other names (see ``zoo.weights.convert.hf_resnet``).
"""
from ...core import nn
from ...weights.pretrained import PretrainedConfig, PreTrainedModel
from ._outputs import BaseModelOutputWithPoolingAndNoAttention, ImageClassifierOutputWithNoAttention
from .vit import activation, classification_loss

__all__ = ["ResNetConfig", "ResNetModel", "ResNetForImageClassification", "ResNetPreTrainedModel"]


class ResNetConfig(PretrainedConfig):
    """Hugging Face's ``ResNetConfig`` (same fields and defaults: ResNet-50)."""
    model_type = "resnet"
    layer_types = ["basic", "bottleneck"]

    def __init__(self, num_channels=3, embedding_size=64, hidden_sizes=(256, 512, 1024, 2048), depths=(3, 4, 6, 3),
                 layer_type="bottleneck", hidden_act="relu", downsample_in_first_stage=False,
                 downsample_in_bottleneck=False, out_features=None, out_indices=None, **kwargs):
        if layer_type not in self.layer_types:
            raise ValueError(f"layer_type={layer_type!r} is not one of {', '.join(self.layer_types)}")
        self.num_channels = num_channels
        self.embedding_size = embedding_size
        self.hidden_sizes = list(hidden_sizes)
        self.depths = list(depths)
        if len(self.hidden_sizes) != len(self.depths):
            raise ValueError(f"ResNetConfig: {len(self.hidden_sizes)} hidden_sizes for {len(self.depths)} depths")
        self.layer_type = layer_type
        self.hidden_act = hidden_act
        self.downsample_in_first_stage = downsample_in_first_stage
        self.downsample_in_bottleneck = downsample_in_bottleneck
        self.stage_names = ["stem"] + [f"stage{i}" for i in range(1, len(self.depths) + 1)]
        self.out_features = out_features
        self.out_indices = out_indices
        super().__init__(**kwargs)


class ResNetConvLayer(nn.Module):
    """convolution (no bias, padding k // 2) -> normalization (BatchNorm) -> activation (or none)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, activation_name="relu"):
        super().__init__()
        self.convolution = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                                     padding=kernel_size // 2, bias=False)
        self.normalization = nn.BatchNorm2d(out_channels)
        self.activation = activation(activation_name) if activation_name is not None else nn.Identity()

    def forward(self, x):
        return self.activation(self.normalization(self.convolution(x)))


class ResNetEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embedder = ResNetConvLayer(config.num_channels, config.embedding_size, kernel_size=7, stride=2,
                                        activation_name=config.hidden_act)
        self.pooler = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.num_channels = config.num_channels

    def forward(self, pixel_values):
        if pixel_values.ndim != 4 or pixel_values.shape[1] != self.num_channels:
            raise ValueError("Make sure that the channel dimension of the pixel values match with the one set in "
                             f"the configuration ({self.num_channels}); got pixel_values of shape "
                             f"{tuple(pixel_values.shape)}")
        return self.pooler(self.embedder(pixel_values))


class ResNetShortCut(nn.Module):
    """1x1 convolution + BatchNorm projecting the residual to the new shape."""

    def __init__(self, in_channels, out_channels, stride=2):
        super().__init__()
        self.convolution = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
        self.normalization = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.normalization(self.convolution(x))


class ResNetBasicLayer(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, activation_name="relu"):
        super().__init__()
        apply_shortcut = in_channels != out_channels or stride != 1
        self.shortcut = ResNetShortCut(in_channels, out_channels, stride) if apply_shortcut else nn.Identity()
        self.layer = nn.Sequential(ResNetConvLayer(in_channels, out_channels, stride=stride,
                                                   activation_name=activation_name),
                                   ResNetConvLayer(out_channels, out_channels, activation_name=None))
        self.activation = activation(activation_name)

    def forward(self, x):
        return self.activation(self.layer(x) + self.shortcut(x))


class ResNetBottleNeckLayer(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, activation_name="relu", reduction=4,
                 downsample_in_bottleneck=False):
        super().__init__()
        apply_shortcut = in_channels != out_channels or stride != 1
        reduces = out_channels // reduction
        self.shortcut = ResNetShortCut(in_channels, out_channels, stride) if apply_shortcut else nn.Identity()
        self.layer = nn.Sequential(
            ResNetConvLayer(in_channels, reduces, kernel_size=1, stride=stride if downsample_in_bottleneck else 1,
                            activation_name=activation_name),
            ResNetConvLayer(reduces, reduces, stride=1 if downsample_in_bottleneck else stride,
                            activation_name=activation_name),
            ResNetConvLayer(reduces, out_channels, kernel_size=1, activation_name=None))
        self.activation = activation(activation_name)

    def forward(self, x):
        return self.activation(self.layer(x) + self.shortcut(x))


class ResNetStage(nn.Module):
    def __init__(self, config, in_channels, out_channels, stride=2, depth=2):
        super().__init__()
        if config.layer_type == "bottleneck":
            first = ResNetBottleNeckLayer(in_channels, out_channels, stride, config.hidden_act,
                                          downsample_in_bottleneck=config.downsample_in_bottleneck)
            rest = [ResNetBottleNeckLayer(out_channels, out_channels, activation_name=config.hidden_act)
                    for _ in range(depth - 1)]
        else:
            first = ResNetBasicLayer(in_channels, out_channels, stride, config.hidden_act)
            rest = [ResNetBasicLayer(out_channels, out_channels, activation_name=config.hidden_act)
                    for _ in range(depth - 1)]
        self.layers = nn.Sequential(first, *rest)

    def forward(self, x):
        return self.layers(x)


class ResNetEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        stages = [ResNetStage(config, config.embedding_size, config.hidden_sizes[0],
                              stride=2 if config.downsample_in_first_stage else 1, depth=config.depths[0])]
        for (cin, cout), depth in zip(zip(config.hidden_sizes, config.hidden_sizes[1:]), config.depths[1:]):
            stages.append(ResNetStage(config, cin, cout, depth=depth))
        self.stages = nn.ModuleList(stages)

    def forward(self, x, output_hidden_states=False):
        hidden = [x] if output_hidden_states else None
        for stage in self.stages:
            x = stage(x)
            if output_hidden_states:
                hidden.append(x)
        return x, (tuple(hidden) if hidden is not None else None)


class ResNetPreTrainedModel(PreTrainedModel):
    """Initialization and loading shared by the ResNet classes (``base_model_prefix = "resnet"``)."""
    config_class = ResNetConfig
    base_model_prefix = "resnet"
    main_input_name = "pixel_values"
    _keys_to_ignore_on_load_missing = [r"num_batches_tracked$"]
    _keys_to_ignore_on_load_unexpected = [r"num_batches_tracked$"]

    def _init_weights(self, module):
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.Linear):
            nn.init.kaiming_uniform_(module.weight, a=5 ** 0.5)
            if module.bias is not None:
                bound = 1 / module.weight.shape[1] ** 0.5 if module.weight.shape[1] > 0 else 0
                nn.init.uniform_(module.bias, -bound, bound)
        elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)

    def post_init(self):
        self.apply(self._init_weights)


class ResNetModel(ResNetPreTrainedModel):
    """The bare ResNet: ``last_hidden_state`` (batch, hidden_sizes[-1], H/32, W/32) and ``pooler_output``
    (its global average, (batch, C, 1, 1))."""

    def __init__(self, config, _init_weights=True):
        super().__init__(config)
        self.embedder = ResNetEmbeddings(config)
        self.encoder = ResNetEncoder(config)
        self.pooler = nn.AdaptiveAvgPool2d((1, 1))
        if _init_weights:
            self.post_init()

    def forward(self, pixel_values, output_hidden_states=None, return_dict=None):
        x, hidden = self.encoder(self.embedder(pixel_values), bool(output_hidden_states))
        out = BaseModelOutputWithPoolingAndNoAttention(last_hidden_state=x, pooler_output=self.pooler(x),
                                                       hidden_states=hidden)
        return out if return_dict is not False else out.to_tuple()


class ResNetForImageClassification(ResNetPreTrainedModel):
    """ResNet with ``classifier`` = Flatten (``0``) + Linear (``1``) on the pooled features."""

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels or 0
        self.resnet = ResNetModel(config, _init_weights=False)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(config.hidden_sizes[-1], self.num_labels) if self.num_labels > 0 else nn.Identity())
        self.post_init()

    def forward(self, pixel_values=None, labels=None, output_hidden_states=None, return_dict=None):
        out = self.resnet(pixel_values, output_hidden_states=output_hidden_states)
        logits = self.classifier(out.pooler_output)
        loss = classification_loss(self.config, logits, labels) if labels is not None else None
        result = ImageClassifierOutputWithNoAttention(loss=loss, logits=logits, hidden_states=out.hidden_states)
        return result if return_dict is not False else result.to_tuple()
