"""zoo.vision.transforms: torchvision-style image transforms (``import zoo.vision.transforms as T``).

Transforms accept PIL images, uint8 NumPy arrays (HWC) and zoo tensors (CHW or NCHW, uint8 or float) and
return the same kind; ``T.functional`` (torchvision's ``F``) has the stateless functions behind them.
"""
from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, ColorJitter, Compose, ConvertImageDtype, Grayscale, Lambda, Normalize, Pad,
                         PILToTensor, RandomCrop, RandomErasing, RandomGrayscale, RandomHorizontalFlip,
                         RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, ToPILImage, ToTensor)

__all__ = ["functional", "InterpolationMode", "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype",
           "ToPILImage", "Normalize", "Resize", "CenterCrop", "Pad", "Lambda", "RandomCrop", "RandomResizedCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "ColorJitter", "Grayscale",
           "RandomGrayscale", "RandomErasing"]
