"""zoo.vision.utils (make_grid, save_image) and the lazy zoo.vision namespace; the `oracle` tier compares
make_grid with torchvision's (exactly)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import torchvision_or_skip
from PIL import Image

import zoo
from zoo.vision.utils import make_grid, save_image


def _torchvision():
    return torchvision_or_skip()


def test_make_grid_layout_by_hand():
    imgs = zoo.tensor(np.arange(1, 6, dtype=np.float32).reshape(5, 1, 1, 1) * np.ones((5, 3, 2, 2), np.float32))
    grid = make_grid(imgs, nrow=2, padding=1, pad_value=-1).numpy()
    # 2 per row, 3 rows: (2 + 1) * 3 + 1 = 10 high, (2 + 1) * 2 + 1 = 7 wide
    assert grid.shape == (3, 10, 7)
    for k in range(5):
        y, x = divmod(k, 2)
        assert (grid[:, 1 + 3 * y:3 + 3 * y, 1 + 3 * x:3 + 3 * x] == k + 1).all()
    assert (grid[:, 0, :] == -1).all() and (grid[:, :, 3] == -1).all()
    assert (grid[:, 7:9, 4:6] == -1).all()  # the missing 6th image stays padding


def test_make_grid_shapes_and_channels():
    assert tuple(make_grid(zoo.rand(4, 4)).shape) == (3, 4, 4)        # one (H, W) image, made RGB
    assert tuple(make_grid(zoo.rand(1, 4, 4)).shape) == (3, 4, 4)
    assert tuple(make_grid(zoo.rand(2, 1, 4, 4), padding=0).shape) == (3, 4, 8)
    assert tuple(make_grid([zoo.rand(3, 4, 4)] * 3, nrow=3, padding=2).shape) == (3, 8, 20)
    assert make_grid(zoo.zeros(2, 3, 2, 2, dtype=zoo.uint8), pad_value=255).dtype == zoo.uint8
    with pytest.raises(ValueError, match="same shape"):
        make_grid([zoo.rand(3, 4, 4), zoo.rand(3, 5, 4)])
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        make_grid(zoo.rand(1, 2, 3, 4, 5))
    with pytest.raises(TypeError, match="zoo.Tensor"):
        make_grid(np.zeros((2, 3, 4, 4)))
    grad = zoo.rand(2, 3, 4, 4, requires_grad=True)
    assert not make_grid(grad).requires_grad


def test_make_grid_normalize():
    imgs = zoo.tensor(np.stack([np.full((3, 2, 2), v, np.float32) for v in (-2.0, 0.0, 6.0)]))
    grid = make_grid(imgs, nrow=3, padding=0, normalize=True).numpy()
    np.testing.assert_allclose(grid[0, 0, [0, 2, 4]], [0.0, 0.25, 1.0])
    grid = make_grid(imgs, nrow=3, padding=0, normalize=True, value_range=(0.0, 4.0)).numpy()
    np.testing.assert_allclose(grid[0, 0, [0, 2, 4]], [0.0, 0.0, 1.0])  # clipped to the range first
    ramp = zoo.tensor(np.stack([np.linspace(a, b, 4, dtype=np.float32).reshape(1, 2, 2).repeat(3, 0)
                                for a, b in ((0, 3), (10, 40))]))
    grid = make_grid(ramp, padding=0, normalize=True, scale_each=True).numpy()
    np.testing.assert_allclose(grid[0, :, :2].ravel(), [0, 1 / 3, 2 / 3, 1], rtol=1e-6)
    np.testing.assert_allclose(grid[0, :, 2:].ravel(), [0, 1 / 3, 2 / 3, 1], rtol=1e-6)
    assert ramp.numpy()[1].max() == 40  # input untouched
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(imgs, normalize=True, value_range=[0, 1])


def test_save_image_writes_png_atomically(tmp_path):
    img = zoo.tensor(np.array([[[0.0, 0.5], [1.0, 0.2]]] * 3, dtype=np.float32))
    path = tmp_path / "one.png"
    save_image(img, path)
    back = np.asarray(Image.open(path))
    assert back.shape == (2, 2, 3)
    np.testing.assert_array_equal(back[:, :, 0], [[0, 128], [255, 51]])  # x * 255 + 0.5, truncated
    save_image(zoo.rand(5, 3, 4, 4), str(tmp_path / "grid.jpg"), nrow=5, padding=1)
    assert Image.open(tmp_path / "grid.jpg").format == "JPEG" and Image.open(tmp_path / "grid.jpg").size == (26, 6)
    save_image(zoo.zeros(3, 2, 2, dtype=zoo.uint8) + 7, tmp_path / "u8.png")
    assert (np.asarray(Image.open(tmp_path / "u8.png")) == 7).all()  # uint8 as is
    with open(tmp_path / "obj", "wb") as f:
        save_image(img, f)
    assert Image.open(tmp_path / "obj").format == "PNG"
    with pytest.raises(ValueError, match="unknown image file extension '.xyz'"):
        save_image(img, tmp_path / "bad.xyz")
    # a failed write leaves neither the target nor a temporary file behind
    path.write_bytes(b"old")
    with pytest.raises(Exception):
        save_image(img, path, format="NOT-A-FORMAT")
    assert path.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["grid.jpg", "obj", "one.png", "u8.png"]


def test_vision_namespace_is_lazy():
    code = ("import sys, zoo, zoo.vision\n"
            "assert 'PIL' not in sys.modules and 'zoo.vision.transforms' not in sys.modules\n"
            "assert callable(zoo.vision.make_grid) and 'zoo.vision.utils' in sys.modules\n"
            "import zoo.vision as v\n"
            "assert v.transforms.Resize and v.datasets.MNIST\n"
            "assert {'transforms', 'datasets', 'models', 'pipelines', 'utils'} <= set(dir(v))\n"
            "try:\n    v.nonexistent\nexcept AttributeError as e:\n    assert 'nonexistent' in str(e)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))


@pytest.mark.oracle
def test_oracle_make_grid():
    tv = _torchvision()
    import torch
    rng = np.random.default_rng(0)
    cases = [((5, 3, 4, 6), {}), ((5, 3, 4, 6), dict(nrow=2, padding=1, pad_value=0.5)),
             ((3, 1, 5, 5), dict(normalize=True)), ((4, 3, 4, 4), dict(normalize=True, scale_each=True)),
             ((4, 3, 4, 4), dict(normalize=True, value_range=(0.2, 0.7), nrow=3)), ((1, 3, 4, 4), {}),
             ((3, 4, 4), {}), ((1, 4, 4), {}), ((4, 4), {}), ((7, 3, 2, 3), dict(nrow=3, padding=0))]
    for shape, kwargs in cases:
        a = (rng.random(shape, dtype=np.float32) * 4 - 1).astype(np.float32)
        z = make_grid(zoo.tensor(a), **kwargs).numpy()
        t = tv.utils.make_grid(torch.tensor(a), **kwargs).numpy()
        assert z.shape == t.shape, (shape, kwargs)
        np.testing.assert_allclose(z, t, rtol=1e-6, atol=1e-7, err_msg=str((shape, kwargs)))
