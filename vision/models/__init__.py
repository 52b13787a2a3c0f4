"""zoo.vision.models: image model architectures with the parameter names of the checkpoints users have.

torchvision-style builders (``resnet50(weights=None | "DEFAULT" | entry name, num_classes=...)``) for LeNet-5,
ResNet, MobileNetV2, VGG and EfficientNet-Lite, and Hugging Face Transformers classes (``ViTModel``,
``ViTForImageClassification``, ``ResNetModel``, ``ResNetForImageClassification``) that ``from_pretrained`` builds
from a ``config.json``. :func:`get_model` builds by name, :func:`list_models` lists the builders.
"""
from ._api import get_model, get_model_builder, get_model_weights, get_weight, list_models
from .efficientnet_lite import (EfficientNetLite, efficientnet_lite0, efficientnet_lite1, efficientnet_lite2,
                                efficientnet_lite3, efficientnet_lite4)
from .hf_resnet import ResNetConfig, ResNetForImageClassification, ResNetModel
from .lenet import LeNet5, lenet5
from .mobilenetv2 import MobileNetV2, mobilenet_v2
from .resnet import (ResNet, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d,
                     wide_resnet50_2)
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .vit import ViTConfig, ViTForImageClassification, ViTModel

__all__ = ["get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models",
           "LeNet5", "lenet5", "ResNet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "resnext50_32x4d", "wide_resnet50_2", "MobileNetV2", "mobilenet_v2", "VGG", "vgg11", "vgg11_bn", "vgg13",
           "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "EfficientNetLite", "efficientnet_lite0",
           "efficientnet_lite1", "efficientnet_lite2", "efficientnet_lite3", "efficientnet_lite4",
           "ViTConfig", "ViTModel", "ViTForImageClassification", "ResNetConfig", "ResNetModel",
           "ResNetForImageClassification"]

# DCGAN (generator / discriminator, PyTorch-tutorial key names); the dcgan_digits generator ships in the store
from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_discriminator, dcgan_generator  # noqa: E402

__all__ += ["DCGANGenerator", "DCGANDiscriminator", "dcgan_generator", "dcgan_discriminator"]
