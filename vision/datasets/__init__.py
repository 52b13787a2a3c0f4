"""zoo.vision.datasets: torchvision-style image datasets (ImageFolder, DatasetFolder, MNIST, FashionMNIST,
CIFAR10, CIFAR100). Samples are PIL images that ``zoo.vision.transforms`` then convert."""
from .cifar import CIFAR10, CIFAR100
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, ImageLoadError, default_loader, pil_loader
from .mnist import MNIST, FashionMNIST
from .utils import DownloadError
from .vision import StandardTransform, VisionDataset

__all__ = ["VisionDataset", "StandardTransform", "DatasetFolder", "ImageFolder", "ImageLoadError", "IMG_EXTENSIONS",
           "default_loader", "pil_loader", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "DownloadError"]
