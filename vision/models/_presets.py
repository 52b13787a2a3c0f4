"""Eval transforms of the weights entries, as torchvision's ``ImageClassification`` preset: resize the shorter
side to ``resize_size``, center-crop ``crop_size``, ToTensor (0..1), Normalize(mean, std)."""

__all__ = ["ImageClassificationEval"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def ImageClassificationEval(crop_size=224, resize_size=256, interpolation="bilinear", mean=IMAGENET_MEAN,
                            std=IMAGENET_STD):
    """The eval transform (a ``zoo.vision.transforms.Compose``) taking a PIL image to a (3, crop, crop) float
    tensor."""
    from .. import transforms as T
    mode = interpolation if isinstance(interpolation, T.InterpolationMode) else T.InterpolationMode(interpolation)
    return T.Compose([T.Resize(resize_size, interpolation=mode), T.CenterCrop(crop_size), T.ToTensor(),
                      T.Normalize(mean=list(mean), std=list(std))])
