"""CIFAR-10 and CIFAR-100 from the "python version" archives of https://www.cs.toronto.edu/~kriz/cifar.html.

Each batch file is a pickled dict (``data``: uint8 N x 3072 array, rows of R, G then B planes of 32x32;
``labels`` or ``fine_labels``: list of ints). The pickles are read with a restricted unpickler that rebuilds
only plain containers and NumPy arrays and refuses any other global (see ``utils.restricted_pickle_load``), and
every file is checked against the md5 torchvision lists before use.
"""
import os

import numpy as np

from .utils import check_integrity, download_and_extract_archive, restricted_pickle_load
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    ``dataset[i]`` is ``(RGB PIL image, int label)`` after the transforms; ``data`` is a uint8 (N, 32, 32, 3)
    NumPy array and ``targets`` a list of ints, as in torchvision. The files are expected in
    ``root/cifar-10-batches-py``; ``download=True`` fetches and extracts the archive when they are not there.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    label_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        self._verify_files()
        data, targets = [], []
        for name, _ in (self.train_list if train else self.test_list):
            path = os.path.join(self.root, self.base_folder, name)
            batch_data, batch_targets = self._read_batch(path)
            data.append(batch_data)
            targets.extend(batch_targets)
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # to HWC
        self.targets = targets
        self._load_meta()

    def _files(self):
        return [*self.train_list, *self.test_list, [self.meta["filename"], self.meta["md5"]]]

    def _verify_files(self):
        """Every file present with its md5; otherwise an error naming the first bad file and what to do."""
        for name, md5 in self._files():
            path = os.path.join(self.root, self.base_folder, name)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{type(self).__name__}: {path} is missing; pass download=True to download "
                                        f"{self.url}")
            if not check_integrity(path, md5):
                raise RuntimeError(f"{type(self).__name__}: {path} is corrupted (its md5 is not {md5}); delete it and "
                                   f"pass download=True to download it again")

    def _check_integrity(self):
        return all(check_integrity(os.path.join(self.root, self.base_folder, name), md5)
                   for name, md5 in self._files())

    def _read_batch(self, path):
        entry = restricted_pickle_load(path)
        if not isinstance(entry, dict) or "data" not in entry or self.label_key not in entry:
            raise ValueError(f"{path}: expected a dict with 'data' and '{self.label_key}' entries")
        data = entry["data"]
        labels = entry[self.label_key]
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            raise ValueError(f"{path}: 'data' should be a uint8 array shaped (N, 3072), got "
                             f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}")
        if len(labels) != len(data):
            raise ValueError(f"{path}: {len(data)} images but {len(labels)} labels")
        return data, [int(v) for v in labels]

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        meta = restricted_pickle_load(path)
        if not isinstance(meta, dict) or self.meta["key"] not in meta:
            raise ValueError(f"{path}: expected a dict with a '{self.meta['key']}' entry")
        self.classes = list(meta[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def download(self):
        """Download and extract the archive (md5-checked) unless every file is already there and intact."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)

    def __getitem__(self, index):
        from PIL import Image
        img = Image.fromarray(self.data[index])
        target = self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: like CIFAR-10 with 100 fine classes (``targets`` are the fine labels)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    label_key = "fine_labels"
