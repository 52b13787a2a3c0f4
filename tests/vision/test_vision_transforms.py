"""zoo.vision.transforms: torchvision semantics checked against hand-computed expectations (always run) and, in
the `oracle` tier, against torchvision itself (skipped where it is not installed).

Tolerances against torchvision's tensor path: exact for crops, pads, flips and conversions; resize within 1
grey level for uint8 and 1e-5 for float32 (float rounding); bilinear rotation within 1 / 1e-4; nearest rotation
may pick the other neighbour at exact ties, in under 1% of pixels. PIL inputs go through Pillow in both
libraries, so PIL results must be identical.
"""

import numpy as np
import pytest
from helpers import torchvision_or_skip
from PIL import Image

import zoo
import zoo.vision.transforms as T
import zoo.vision.transforms.functional as F
from zoo.vision.transforms import InterpolationMode

RNG = np.random.default_rng(1234)
RGB_HWC = RNG.integers(0, 256, (37, 53, 3)).astype(np.uint8)


def _torchvision():
    return torchvision_or_skip()


def chw(a):
    return zoo.tensor(np.ascontiguousarray(np.moveaxis(a, -1, 0)))


def pil(a=RGB_HWC):
    return Image.fromarray(a)


# --- sizes and resize ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size,max_size,hw,expected", [
    (20, None, (40, 60), (20, 30)),        # landscape: height is the short side
    (20, None, (60, 40), (30, 20)),        # portrait
    ([20], None, (45, 60), (20, 26)),      # int(20 * 60 / 45) = 26 (truncated, as torchvision)
    ((10, 7), None, (40, 60), (10, 7)),
    (20, 25, (40, 80), (12, 25)),          # long side 40 > max_size 25: scaled down to it
    (20, 50, (40, 80), (20, 40)),
])
def test_resize_output_size(size, max_size, hw, expected):
    img = zoo.zeros(3, *hw)
    out = F.resize(img, size, max_size=max_size)
    assert tuple(out.shape) == (3, *expected)
    p = F.resize(Image.new("RGB", hw[::-1]), size, max_size=max_size)
    assert p.size == expected[::-1]


def test_resize_same_size_returns_input_and_bad_sizes_are_refused():
    img = zoo.rand(3, 8, 10)
    assert F.resize(img, 8) is img
    with pytest.raises(ValueError, match="1 or 2 element"):
        F.resize(img, [1, 2, 3])
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(img, (4, 4), max_size=10)
    with pytest.raises(ValueError, match="strictly greater"):
        F.resize(img, 8, max_size=8)
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="positive"):
        F.resize(img, 0)
    with pytest.raises(ValueError, match="not supported for tensor images"):
        F.resize(img, 4, InterpolationMode.LANCZOS)
    with pytest.raises(TypeError, match="interpolation"):
        F.resize(img, 4, "cubic-ish")


def test_resize_1d_weights_by_hand():
    x = np.arange(8, dtype=np.float32) ** 2  # a row signal, resized along the width only
    img = zoo.tensor(np.tile(x, (1, 2, 1)))
    # plain bilinear, factor 2 down: sample points 2i + 0.5 → the mean of each pair
    out = F.resize(img, (2, 4), antialias=False).numpy()[0, 0]
    np.testing.assert_allclose(out, (x[0::2] + x[1::2]) / 2, rtol=1e-6)
    # antialiased bilinear, factor 2 down: triangle of half-width 2 → (1, 3, 3, 1)/8 inside, renormalised at edges
    out = F.resize(img, (2, 4), antialias=True).numpy()[0, 0]
    inner = (x[1:-3:2] + 3 * x[2:-2:2] + 3 * x[3:-1:2] + x[4::2]) / 8
    np.testing.assert_allclose(out[1:3], inner, rtol=1e-6)
    np.testing.assert_allclose(out[0], (3 * x[0] + 3 * x[1] + x[2]) / 7, rtol=1e-6)
    # nearest: source index floor(i * in / out)
    out = F.resize(img, (2, 3), InterpolationMode.NEAREST).numpy()[0, 0]
    np.testing.assert_array_equal(out, x[[0, 2, 5]])
    out = F.resize(img, (2, 3), InterpolationMode.NEAREST_EXACT).numpy()[0, 0]
    np.testing.assert_array_equal(out, x[[1, 4, 6]])  # floor((i + 0.5) * 8 / 3)
    # upsampling x2, plain bilinear: source (i + 0.5) / 2 - 0.5, clamped at 0
    small = zoo.tensor(np.array([[[0.0, 4.0]]], dtype=np.float32))
    np.testing.assert_allclose(F.resize(small, (1, 4), antialias=False).numpy()[0, 0], [0, 1, 3, 4])


def test_resize_uint8_rounds_and_keeps_constants():
    img = zoo.tensor(np.array([[[0, 1, 0, 1]]], dtype=np.uint8))
    out = F.resize(img, (1, 2), antialias=False)  # means 0.5 → rounded half to even = 0
    assert out.dtype == zoo.uint8 and out.tolist() == [[[0, 0]]]
    img = zoo.tensor(np.array([[[2, 3, 2, 3]]], dtype=np.uint8))
    assert F.resize(img, (1, 2), antialias=False).tolist() == [[[2, 2]]]
    const = zoo.full((3, 9, 13), 77, dtype=zoo.uint8)
    for mode in ("bilinear", "bicubic", "nearest", "nearest-exact"):
        for aa in (True, False):
            for size in ((4, 5), (20, 31)):
                out = F.resize(const, size, InterpolationMode(mode), antialias=aa)
                assert out.dtype == zoo.uint8 and (out.numpy() == 77).all(), (mode, aa, size)


def test_resize_tensor_is_close_to_pil():
    """zoo's antialiased tensor filter is the one Pillow uses: within 1 grey level (Pillow rounds to 8 bits
    between its two passes). On noise, bicubic overshoots that Pillow clips between passes differ more."""
    yy, xx = np.mgrid[0:37, 0:53]
    smooth = np.stack([120 + 100 * np.sin(xx / 7.0), 120 + 100 * np.cos(yy / 5.0), xx * 4 + yy], -1)
    smooth = smooth.clip(0, 255).astype(np.uint8)
    for size in ((20, 30), (13, 17), (80, 90)):
        for mode in ("bilinear", "bicubic"):
            for a in ((RGB_HWC, smooth) if mode == "bilinear" else (smooth,)):
                p = np.asarray(F.resize(Image.fromarray(a), size, InterpolationMode(mode))).astype(int)
                t = F.resize(a, size, InterpolationMode(mode)).astype(int)
                assert np.abs(p - t).max() <= 1, (size, mode)


def test_numpy_hwc_and_batched_inputs_follow_the_tensor_path():
    out = F.resize(RGB_HWC, (20, 30))
    assert isinstance(out, np.ndarray) and out.shape == (20, 30, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.moveaxis(F.resize(chw(RGB_HWC), (20, 30)).numpy(), 0, -1))
    batch = zoo.tensor(np.stack([np.moveaxis(RGB_HWC, -1, 0), np.moveaxis(RGB_HWC[::-1], -1, 0)]))
    out = F.resize(batch, (20, 30)).numpy()
    np.testing.assert_array_equal(out[1], F.resize(chw(np.ascontiguousarray(RGB_HWC[::-1])), (20, 30)).numpy())
    gray = RGB_HWC[:, :, 0]
    assert F.hflip(gray).shape == gray.shape and np.array_equal(F.hflip(gray), gray[:, ::-1])
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        F.hflip(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="PIL Image, a zoo Tensor or a NumPy array"):
        F.hflip([[1, 2]])


def test_tensors_that_require_grad_are_refused_by_non_differentiable_ops():
    x = zoo.rand(3, 8, 8, requires_grad=True)
    with pytest.raises(NotImplementedError, match="autograd"):
        F.resize(x, 4)
    with zoo.no_grad():
        assert tuple(F.resize(x, 4).shape) == (3, 4, 4)


# --- crops, pads, flips ----------------------------------------------------------------------------------------

def test_crop_and_center_crop():
    img = zoo.arange(5 * 7).reshape(1, 5, 7)
    assert F.crop(img, 1, 2, 2, 3).tolist() == [[[9, 10, 11], [16, 17, 18]]]
    out = F.crop(img, -1, 5, 3, 4).numpy()[0]  # outside the image: zeros
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [5, 6, 0, 0], [12, 13, 0, 0]])
    # centre: top = round((5 - 2) / 2) = 2 (half to even), left = round((7 - 4) / 2) = 2
    assert F.center_crop(img, (2, 4)).tolist() == [[[16, 17, 18, 19], [23, 24, 25, 26]]]
    big = F.center_crop(img, (8, 10)).numpy()[0]  # larger: padded (top 1, bottom 2, left 1, right 2)
    assert big.shape == (8, 10)
    np.testing.assert_array_equal(big[1:6, 1:8], img.numpy()[0])
    assert big[0].sum() == 0 and big[6:].sum() == 0 and big[:, 0].sum() == 0 and big[:, 8:].sum() == 0
    p = F.center_crop(Image.fromarray(img.numpy()[0].astype(np.uint8)), (8, 10))
    np.testing.assert_array_equal(np.asarray(p), big)
    assert F.center_crop(img, 3).shape == (1, 3, 3)


def test_pad_modes_match_numpy_pad():
    a = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    img = zoo.tensor(a)
    np.testing.assert_array_equal(F.pad(img, 1, fill=9).numpy(), np.pad(a, ((0, 0), (1, 1), (1, 1)),
                                                                           constant_values=9))
    for mode, np_mode in (("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")):
        np.testing.assert_array_equal(F.pad(img, [1, 2], padding_mode=mode).numpy(),
                                      np.pad(a, ((0, 0), (2, 2), (1, 1)), mode=np_mode))
    np.testing.assert_array_equal(F.pad(img, [1, 0, 2, 1]).numpy(), np.pad(a, ((0, 0), (0, 1), (1, 2))))
    np.testing.assert_array_equal(F.pad(img, [-1, 1, 0, -1]).numpy(), np.pad(a[:, :2, 1:], ((0, 0), (1, 0), (0, 0))))
    rgb = F.pad(zoo.zeros(3, 2, 2, dtype=zoo.uint8), 1, fill=(10, 20, 30)).numpy()
    assert rgb[:, 0, 0].tolist() == [10, 20, 30] and rgb[:, 1, 1].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="must be smaller than the image"):
        F.pad(img, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        F.pad(img, [1, 2, 3])
    with pytest.raises(ValueError, match="Padding mode"):
        F.pad(img, 1, padding_mode="wrap")
    with pytest.raises(TypeError, match="padding values must be integers"):
        F.pad(img, 1.5)
    p = F.pad(pil(), [2, 3], fill=(1, 2, 3))
    assert p.size == (57, 43) and p.getpixel((0, 0)) == (1, 2, 3)
    pal = pil().convert("P")
    padded = F.pad(pal, 2, padding_mode="edge")
    assert padded.mode == "P" and padded.getpalette() == pal.getpalette()
    np.testing.assert_array_equal(np.asarray(padded), np.pad(np.asarray(pal), 2, mode="edge"))


def test_flips():
    img = zoo.arange(6).reshape(1, 2, 3)
    assert F.hflip(img).tolist() == [[[2, 1, 0], [5, 4, 3]]]
    assert F.vflip(img).tolist() == [[[3, 4, 5], [0, 1, 2]]]
    np.testing.assert_array_equal(np.asarray(F.hflip(pil())), RGB_HWC[:, ::-1])
    zoo.manual_seed(0)
    assert T.RandomHorizontalFlip(p=1.0)(img).tolist() == F.hflip(img).tolist()
    assert T.RandomVerticalFlip(p=0.0)(img) is img
    flips = sum(T.RandomHorizontalFlip(p=0.3)(img).tolist() != img.tolist() for _ in range(400))
    assert 80 <= flips <= 160


# --- rotation ---------------------------------------------------------------------------------------------------

def test_rotate_quarter_turns_match_rot90():
    a = RNG.integers(0, 256, (3, 7, 7)).astype(np.uint8)
    for angle, k in ((90, 1), (180, 2), (-90, -1)):
        out = F.rotate(zoo.tensor(a), angle).numpy()  # counter-clockwise, about the centre
        np.testing.assert_array_equal(out, np.rot90(a, k=k, axes=(1, 2)))
        p = F.rotate(Image.fromarray(np.moveaxis(a, 0, -1)), angle)
        np.testing.assert_array_equal(np.asarray(p), np.moveaxis(np.rot90(a, k=k, axes=(1, 2)), 0, -1))
    rect = zoo.tensor(RNG.integers(0, 256, (1, 4, 6)).astype(np.uint8))
    out = F.rotate(rect, 90, expand=True)
    assert tuple(out.shape) == (1, 6, 4)
    np.testing.assert_array_equal(out.numpy(), np.rot90(rect.numpy(), 1, axes=(1, 2)))


def test_rotate_fill_and_errors():
    img = zoo.ones(3, 9, 9)
    out = F.rotate(img, 45, fill=[0.2, 0.4, 0.6]).numpy()
    np.testing.assert_allclose(out[:, 0, 0], [0.2, 0.4, 0.6])  # a corner comes from outside
    assert (out[:, 4, 4] == 1).all()
    out = F.rotate(img, 45, InterpolationMode.BILINEAR).numpy()
    assert out[0, 0, 0] == 0 and out[0, 4, 4] == 1
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        F.rotate(img, 10, InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match="cannot broadcast"):
        F.rotate(img, 10, fill=[1, 2])
    with pytest.raises(TypeError, match="angle"):
        F.rotate(img, "10")
    assert F.rotate(pil(), 30, InterpolationMode.BICUBIC, fill=(255, 0, 0)).getpixel((0, 0)) == (255, 0, 0)


def test_random_rotation_draws_in_range_and_repr():
    t = T.RandomRotation(30)
    assert t.degrees == [-30.0, 30.0]
    zoo.manual_seed(3)
    angles = [T.RandomRotation.get_params(t.degrees) for _ in range(200)]
    assert -30 <= min(angles) < -20 and 20 < max(angles) <= 30
    assert repr(t) == "RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, expand=False, fill=0)"
    assert repr(T.RandomRotation((0, 10), center=(1, 2))) == \
        "RandomRotation(degrees=[0.0, 10.0], interpolation=nearest, expand=False, center=(1, 2), fill=0)"
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-5)
    out = T.RandomRotation(20, fill=1)(zoo.zeros(3, 10, 10))
    assert tuple(out.shape) == (3, 10, 10)


# --- random crops -----------------------------------------------------------------------------------------------

def test_random_crop():
    img = zoo.arange(100).reshape(1, 10, 10)
    zoo.manual_seed(0)
    seen = set()
    for _ in range(50):
        i, j, h, w = T.RandomCrop.get_params(img, (4, 3))
        assert 0 <= i <= 6 and 0 <= j <= 7 and (h, w) == (4, 3)
        seen.add((i, j))
    assert len(seen) > 10
    assert T.RandomCrop.get_params(img, (10, 10)) == (0, 0, 10, 10)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(11)(img)
    out = T.RandomCrop(12, padding=1)(img)
    assert tuple(out.shape) == (1, 12, 12) and out.numpy()[0, 0].sum() == 0
    out = T.RandomCrop((12, 14), pad_if_needed=True, fill=-7)(img)
    assert tuple(out.shape) == (1, 12, 14) and (out.numpy() == -7).sum() == 12 * 14 - 100
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"


def test_random_resized_crop_params():
    img = zoo.zeros(3, 60, 80)
    zoo.manual_seed(0)
    for _ in range(100):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i and i + h <= 60 and 0 <= j and j + w <= 80
        assert 0.08 * 4800 * 0.8 <= h * w <= 4800
        assert 3 / 4 * 0.8 <= w / h <= 4 / 3 * 1.25
    # no try can fit a crop larger than the image: torchvision's fallback is a centred crop clamped to the ratio
    assert T.RandomResizedCrop.get_params(img, (2.0, 3.0), (3 / 4, 4 / 3)) == (0, 0, 60, 80)
    assert T.RandomResizedCrop.get_params(img, (2.0, 3.0), (2.0, 3.0)) == (10, 0, 40, 80)
    assert T.RandomResizedCrop.get_params(img, (2.0, 3.0), (0.5, 1.0)) == (0, 10, 60, 60)
    assert tuple(T.RandomResizedCrop(24)(img).shape) == (3, 24, 24)
    assert T.RandomResizedCrop((20, 30))(pil()).size == (30, 20)
    assert repr(T.RandomResizedCrop(224)) == ("RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), "
                                              "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)")


# --- colour -----------------------------------------------------------------------------------------------------

def test_colour_adjustments_by_hand():
    img = zoo.tensor(np.array([[[100, 200]], [[50, 0]], [[10, 255]]], dtype=np.uint8))  # (3, 1, 2)
    assert F.adjust_brightness(img, 1.5).tolist() == [[[150, 255]], [[75, 0]], [[15, 255]]]
    gray = F.rgb_to_grayscale(img).numpy()
    expected = (0.2989 * np.float32([100, 200]) + 0.587 * np.float32([50, 0]) + 0.114 * np.float32([10, 255]))
    np.testing.assert_array_equal(gray[0, 0], expected.astype(np.uint8))  # truncated, as torchvision
    assert F.rgb_to_grayscale(img, 3).shape == (3, 1, 2)
    sat0 = F.adjust_saturation(img, 0.0).numpy()
    np.testing.assert_array_equal(sat0, np.repeat(gray, 3, axis=0))
    c0 = F.adjust_contrast(img, 0.0).numpy()
    assert (c0 == c0[0, 0, 0]).all() and c0[0, 0, 0] == int(gray.astype(np.float32).mean())
    f = zoo.tensor(np.array([[[1.0, 0.5]], [[0.0, 0.5]], [[0.0, 0.5]]], dtype=np.float32))
    shifted = F.adjust_hue(f, 1 / 3).numpy()  # red → green; gray keeps its colour
    np.testing.assert_allclose(shifted[:, 0, 0], [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(shifted[:, 0, 1], [0.5, 0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(F.adjust_hue(f, 0.0).numpy(), f.numpy(), atol=1e-6)
    assert F.adjust_hue(img, 0.5).dtype == zoo.uint8
    one = zoo.rand(1, 4, 4)
    assert F.adjust_saturation(one, 0.3) is one and F.adjust_hue(one, 0.2) is one
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_brightness(img, -0.1)
    with pytest.raises(ValueError, match=r"not in \[-0.5, 0.5\]"):
        F.adjust_hue(img, 0.6)
    with pytest.raises(TypeError, match="permitted channel values"):
        F.adjust_contrast(zoo.rand(4, 3, 3), 0.5)
    with pytest.raises(ValueError, match="mode 'P' are not supported"):
        F.adjust_brightness(pil().convert("P"), 1.2)
    assert F.adjust_brightness(pil(), 1.0).tobytes() == pil().tobytes()


def test_color_jitter():
    t = T.ColorJitter(brightness=0.4, contrast=(0.5, 1.5), saturation=0, hue=0.1)
    assert t.brightness == (0.6, 1.4) and t.contrast == (0.5, 1.5) and t.saturation is None and t.hue == (-0.1, 0.1)
    assert repr(t) == "ColorJitter(brightness=(0.6, 1.4), contrast=(0.5, 1.5), saturation=None, hue=(-0.1, 0.1))"
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)
    zoo.manual_seed(5)
    orders = set()
    for _ in range(40):
        order, b, c, s, h = T.ColorJitter.get_params(t.brightness, t.contrast, t.saturation, t.hue)
        assert sorted(order) == [0, 1, 2, 3] and 0.6 <= b <= 1.4 and 0.5 <= c <= 1.5 and s is None
        assert -0.1 <= h <= 0.1
        orders.add(tuple(order))
    assert len(orders) > 5
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="single number or a list/tuple"):
        T.ColorJitter(contrast=(1, 2, 3))
    img = chw(RGB_HWC)
    assert T.ColorJitter()(img) is img
    out = t(img)
    assert out.dtype == zoo.uint8 and tuple(out.shape) == (3, 37, 53)
    assert t(pil()).size == (53, 37)


def test_grayscale_transforms():
    assert T.Grayscale()(pil()).mode == "L"
    assert T.Grayscale(3)(pil()).mode == "RGB"
    out = T.Grayscale(3)(chw(RGB_HWC)).numpy()
    assert out.shape == (3, 37, 53) and (out[0] == out[2]).all()
    zoo.manual_seed(0)
    outs = [T.RandomGrayscale(0.5)(chw(RGB_HWC)) for _ in range(40)]
    gray = sum(bool((o.numpy()[0] == o.numpy()[1]).all()) for o in outs)
    assert 8 <= gray <= 32 and all(o.shape[0] == 3 for o in outs)
    with pytest.raises(ValueError, match="either 1 or 3"):
        T.Grayscale(2)


# --- conversions ------------------------------------------------------------------------------------------------

def test_to_tensor_and_pil_to_tensor():
    x = T.ToTensor()(pil())
    assert x.dtype == zoo.float32 and tuple(x.shape) == (3, 37, 53)
    np.testing.assert_allclose(x.numpy(), np.moveaxis(RGB_HWC, -1, 0) / 255.0, rtol=1e-6)
    np.testing.assert_allclose(F.to_tensor(RGB_HWC).numpy(), x.numpy())
    assert tuple(F.to_tensor(RGB_HWC[:, :, 0]).shape) == (1, 37, 53)
    floats = RNG.random((4, 5, 2)).astype(np.float64)
    assert F.to_tensor(floats).dtype == zoo.float64  # non-uint8 data keeps its values
    assert F.to_tensor(Image.new("1", (3, 2), 1)).tolist() == [[[1.0] * 3] * 2]
    sixteen = Image.fromarray(np.array([[0, 40000]], dtype=np.uint16))
    assert F.to_tensor(sixteen).dtype == zoo.int32 and F.to_tensor(sixteen).tolist() == [[[0, 40000]]]
    p = T.PILToTensor()(pil())
    assert p.dtype == zoo.uint8 and np.array_equal(p.numpy(), np.moveaxis(RGB_HWC, -1, 0))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        F.to_tensor(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        F.pil_to_tensor(RGB_HWC)


def test_to_pil_image_round_trips():
    assert np.array_equal(np.asarray(T.ToPILImage()(T.ToTensor()(pil()))), RGB_HWC)
    assert np.array_equal(np.asarray(F.to_pil_image(chw(RGB_HWC))), RGB_HWC)
    assert F.to_pil_image(zoo.rand(1, 4, 4)).mode == "L"
    assert F.to_pil_image(zoo.rand(1, 4, 4), "F").mode == "F"
    assert F.to_pil_image(zoo.zeros(4, 4, 4, dtype=zoo.uint8)).mode == "RGBA"
    assert F.to_pil_image(zoo.zeros(2, 4, 4, dtype=zoo.uint8)).mode == "LA"
    assert F.to_pil_image(zoo.zeros(3, 4, 4, dtype=zoo.uint8), "HSV").mode == "HSV"
    assert F.to_pil_image(zoo.tensor([[[0.5]]])).getpixel((0, 0)) == 127  # 0.5 * 255 truncated
    assert F.to_pil_image(np.array([[300, 2]], dtype=np.int16)).mode == "I;16"
    with pytest.raises(ValueError, match="Incorrect mode"):
        F.to_pil_image(zoo.zeros(1, 2, 2, dtype=zoo.uint8), "RGB")
    with pytest.raises(ValueError, match="> 4 channels"):
        F.to_pil_image(zoo.zeros(5, 2, 2, dtype=zoo.uint8))
    with pytest.raises(TypeError, match="Input type int64 is not supported"):
        F.to_pil_image(zoo.zeros(1, 2, 2, dtype=zoo.int64))
    assert repr(T.ToPILImage()) == "ToPILImage()" and repr(T.ToPILImage("RGB")) == "ToPILImage(mode=RGB)"


def test_convert_image_dtype():
    f = zoo.tensor([[[0.0, 0.5, 1.0]]])
    assert F.convert_image_dtype(f, zoo.uint8).tolist() == [[[0, 127, 255]]]
    u = zoo.tensor(np.array([[[0, 51, 255]]], dtype=np.uint8))
    np.testing.assert_allclose(T.ConvertImageDtype(zoo.float32)(u).numpy(), [[[0, 0.2, 1.0]]], rtol=1e-6)
    assert F.convert_image_dtype(u, zoo.int16).tolist() == [[[0, 51 * 128, 255 * 128]]]
    assert F.convert_image_dtype(zoo.tensor(np.array([[[32767]]], dtype=np.int16)), zoo.uint8).tolist() == \
        [[[255]]]
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(f, zoo.int32)
    assert repr(T.ConvertImageDtype(zoo.uint8)) == "ConvertImageDtype(dtype=zoo.uint8)"


def test_normalize():
    x = zoo.tensor(np.stack([np.full((2, 2), v, np.float32) for v in (0.5, 0.25, 1.0)]))
    out = T.Normalize([0.5, 0.25, 0.5], [0.5, 0.5, 0.25])(x)
    np.testing.assert_allclose(out.numpy()[:, 0, 0], [0, 0, 2])
    assert x.numpy()[0, 0, 0] == 0.5  # not in place by default
    y = x.clone()
    assert F.normalize(y, [0.5] * 3, [0.5] * 3, inplace=True) is y and y.numpy()[0, 0, 0] == 0
    leaf = zoo.rand(3, 2, 2, requires_grad=True)
    F.normalize(leaf, [0.1, 0.2, 0.3], [2.0, 4.0, 0.5]).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy()[:, 0, 0], [0.5, 0.25, 2.0])
    batch = zoo.rand(2, 3, 4, 4)
    np.testing.assert_allclose(F.normalize(batch, [0.5] * 3, [0.5] * 3).numpy()[1],
                               F.normalize(batch[1], [0.5] * 3, [0.5] * 3).numpy())
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(x, [0, 0, 0], [1, 0, 1])
    with pytest.raises(TypeError, match="should be a float tensor"):
        F.normalize(zoo.zeros(3, 2, 2, dtype=zoo.uint8), [0] * 3, [1] * 3)
    with pytest.raises(ValueError, match=r"\(..., C, H, W\)"):
        F.normalize(zoo.zeros(2, 2), [0], [1])
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        F.normalize(x, [0, 0], [1, 1, 1])
    with pytest.raises(TypeError, match="Tensor Image"):
        F.normalize(pil(), [0] * 3, [1] * 3)
    assert repr(T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))) == \
        "Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))"


def test_random_erasing():
    img = zoo.ones(3, 20, 30)
    zoo.manual_seed(2)
    out = T.RandomErasing(p=1.0, value=(0.0, 0.5, 0.25))(img).numpy()
    erased = out[0] == 0
    rows, cols = np.nonzero(erased)
    h, w = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert erased.sum() == h * w and 0.02 * 600 * 0.5 <= h * w <= 0.33 * 600 * 1.5  # one rectangle
    assert (out[1][erased] == 0.5).all() and (out[2][erased] == 0.25).all() and (out[:, ~erased] == 1).all()
    assert img.numpy().min() == 1  # not in place
    rand = T.RandomErasing(p=1.0, value="random")(img).numpy()
    assert (rand != 1).any()
    assert T.RandomErasing(p=0.0)(img) is img
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(img)
    with pytest.raises(TypeError, match="tensor images"):
        T.RandomErasing()(pil())
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.5, 2))
    with pytest.raises(ValueError, match="'random'"):
        T.RandomErasing(value="noise")
    assert repr(T.RandomErasing()) == \
        "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)"


# --- composition, reprs, reproducibility --------------------------------------------------------------------------

def test_reprs_match_torchvision():
    assert repr(T.Resize(256)) == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.Resize((32, 48), InterpolationMode.BICUBIC, antialias=False)) == \
        "Resize(size=(32, 48), interpolation=bicubic, max_size=None, antialias=False)"
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"
    assert repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"
    assert repr(T.ToTensor()) == "ToTensor()" and repr(T.Lambda(abs)) == "Lambda()"
    assert repr(T.Compose([T.Resize(8), T.ToTensor()])) == \
        "Compose(\n    Resize(size=8, interpolation=bilinear, max_size=None, antialias=True)\n    ToTensor()\n)"


def test_interpolation_accepts_pil_constants_and_names():
    assert T.Resize(8, interpolation=3).interpolation is InterpolationMode.BICUBIC
    assert T.Resize(8, interpolation="nearest").interpolation is InterpolationMode.NEAREST
    assert T.Resize(8, interpolation=Image.Resampling.LANCZOS).interpolation is InterpolationMode.LANCZOS


def test_pipeline_is_reproducible_under_a_seed():
    pipeline = T.Compose([T.RandomResizedCrop(24), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                          T.RandomRotation(10), T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3),
                          T.RandomErasing(value="random")])

    def run(seed):
        zoo.manual_seed(seed)
        return [pipeline(pil()).numpy() for _ in range(3)]

    a, b, c = run(7), run(7), run(8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert a[0].shape == (3, 24, 24) and a[0].dtype == np.float32


def test_transforms_are_modules_and_lambda_checks():
    import zoo.nn as nn
    seq = nn.Sequential(T.Resize(8), T.Normalize([0.5] * 3, [0.5] * 3))
    assert tuple(seq(zoo.rand(3, 16, 16)).shape) == (3, 8, 8)
    assert T.Lambda(lambda x: x + 1)(1) == 2
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="must be callable"):
        T.Compose([T.ToTensor(), 3])


def test_image_size_helpers():
    assert F.get_image_size(pil()) == [53, 37] and F.get_dimensions(pil()) == [3, 37, 53]
    assert F.get_image_size(chw(RGB_HWC)) == [53, 37] and F.get_image_num_channels(zoo.zeros(5, 5)) == 1
    assert F.get_dimensions(RGB_HWC) == [3, 37, 53]
    out = F.resized_crop(chw(RGB_HWC), 2, 3, 20, 30, (10, 15))
    assert tuple(out.shape) == (3, 10, 15)


# --- oracle: torchvision itself -----------------------------------------------------------------------------------

@pytest.mark.oracle
def test_oracle_tensor_resize():
    tv = _torchvision()
    import torch
    TF = tv.transforms.functional
    for dtype in (np.uint8, np.float32):
        a = RNG.integers(0, 256, (2, 3, 37, 53)).astype(dtype)
        if dtype == np.float32:
            a /= 255
        for size in ((20, 30), (61, 90), (37, 20), 24):
            for mode in ("bilinear", "bicubic", "nearest", "nearest-exact"):
                for aa in (True, False):
                    z = F.resize(zoo.tensor(a), size, InterpolationMode(mode), antialias=aa).numpy()
                    t = TF.resize(torch.tensor(a), size, tv.transforms.InterpolationMode(mode), antialias=aa).numpy()
                    assert z.shape == t.shape and z.dtype == t.dtype
                    np.testing.assert_allclose(z.astype(np.float64), t.astype(np.float64),
                                               atol=1 if dtype == np.uint8 else 1e-5, err_msg=f"{size} {mode} {aa}")


@pytest.mark.oracle
def test_oracle_tensor_rotate():
    tv = _torchvision()
    import torch
    TF = tv.transforms.functional
    for dtype in (np.uint8, np.float32):
        a = RNG.integers(0, 256, (3, 37, 53)).astype(dtype)
        if dtype == np.float32:
            a /= 255
        fill = [0.5, 0.2, 1.0] if dtype == np.float32 else [100.0, 50.0, 255.0]
        for angle in (30, -45, 90, 17.5):
            for mode in ("nearest", "bilinear"):
                for expand, center, f in ((False, None, None), (True, None, fill), (False, (5, 7), fill)):
                    z = F.rotate(zoo.tensor(a), angle, InterpolationMode(mode), expand, center, f).numpy()
                    t = TF.rotate(torch.tensor(a), angle, tv.transforms.InterpolationMode(mode), expand, center,
                                  f).numpy()
                    assert z.shape == t.shape and z.dtype == t.dtype
                    bad = np.abs(z.astype(np.float64) - t) > (1 if dtype == np.uint8 else 1e-4)
                    assert bad.mean() < (0.01 if mode == "nearest" else 1e-9), (angle, mode, expand, center)


@pytest.mark.oracle
def test_oracle_tensor_colour_geometry_and_conversions():
    tv = _torchvision()
    import torch
    TF = tv.transforms.functional
    for dtype in (np.uint8, np.float32):
        a = RNG.integers(0, 256, (2, 3, 17, 23)).astype(dtype)
        if dtype == np.float32:
            a /= 255
        z, t = zoo.tensor(a), torch.tensor(a)
        calls = [("adjust_brightness", (1.3,)), ("adjust_contrast", (0.7,)), ("adjust_contrast", (1.6,)),
                 ("adjust_saturation", (0.3,)), ("adjust_saturation", (1.8,)), ("adjust_hue", (0.2,)),
                 ("adjust_hue", (-0.4,)), ("rgb_to_grayscale", (3,)), ("hflip", ()), ("vflip", ()),
                 ("center_crop", ((10, 10),)), ("center_crop", ((30, 40),)), ("crop", (-3, -4, 10, 40)),
                 ("pad", ([1, 2, 3, 4], 7, "constant")), ("pad", ([2, 1], 0, "reflect")), ("pad", ([3], 0, "edge")),
                 ("pad", ([4, 1], 0, "symmetric")), ("pad", ([-2, 3, 1, -1], 0, "reflect"))]
        for name, args in calls:
            zo, to = getattr(F, name)(z, *args).numpy(), getattr(TF, name)(t, *args).numpy()
            assert zo.shape == to.shape and zo.dtype == to.dtype, name
            np.testing.assert_allclose(zo.astype(np.float64), to.astype(np.float64),
                                       atol=1 if dtype == np.uint8 else 1e-6, err_msg=f"{name} {args}")
        for target in ("uint8", "float32", "float64", "int16"):
            zo = F.convert_image_dtype(z, getattr(zoo, target)).numpy()
            to = TF.convert_image_dtype(t, getattr(torch, target)).numpy()
            assert zo.dtype == to.dtype and np.array_equal(zo, to), target
    x = RNG.random((3, 8, 9)).astype(np.float32)
    np.testing.assert_allclose(F.normalize(zoo.tensor(x), [0.4, 0.5, 0.6], [0.2, 0.3, 0.4]).numpy(),
                               TF.normalize(torch.tensor(x), [0.4, 0.5, 0.6], [0.2, 0.3, 0.4]).numpy(), rtol=1e-6)


@pytest.mark.oracle
def test_oracle_pil_paths_are_identical():
    tv = _torchvision()
    TF = tv.transforms.functional
    TIM = tv.transforms.InterpolationMode
    base = pil()
    images = {"RGB": base, "L": base.convert("L"), "P": base.convert("P"), "RGBA": base.convert("RGBA")}

    def same(a, b):
        return a.mode == b.mode and a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b)) and \
            a.getpalette() == b.getpalette()

    for mode, im in images.items():
        calls = [("pad", ([3, 2], 7, "constant")), ("pad", ([1, 2, 3, 4], 0, "edge")), ("pad", ([2], 0, "reflect")),
                 ("pad", ([-2, 3, 1, -1], 0, "symmetric")), ("hflip", ()), ("vflip", ()), ("center_crop", (40,)),
                 ("crop", (-2, 3, 20, 60)), ("rotate", (30, TIM.NEAREST, True, None, 3)),
                 ("rotate", (45, TIM.NEAREST, False, (5, 6), None)), ("resize", ((20, 30), TIM.NEAREST))]
        if mode != "P":
            calls += [("resize", ((20, 30),)), ("resize", (24, TIM.BICUBIC)), ("resize", ((60, 70), TIM.LANCZOS)),
                      ("rotate", (-20, TIM.BILINEAR, True)), ("adjust_brightness", (1.4,)),
                      ("adjust_contrast", (0.6,)), ("adjust_saturation", (1.5,)), ("adjust_hue", (0.3,)),
                      ("adjust_hue", (-0.3,)), ("rgb_to_grayscale", (3,))]
        for name, args in calls:
            zo = getattr(F, name)(im, *[InterpolationMode(a.value) if isinstance(a, TIM) else a for a in args])
            assert same(zo, getattr(TF, name)(im, *args)), (mode, name, args)
        np.testing.assert_array_equal(F.to_tensor(im).numpy(), TF.to_tensor(im).numpy())
        np.testing.assert_array_equal(F.pil_to_tensor(im).numpy(), TF.pil_to_tensor(im).numpy())


@pytest.mark.oracle
def test_oracle_to_pil_image():
    tv = _torchvision()
    import torch
    TF = tv.transforms.functional
    arrays = [RNG.random((3, 5, 6), dtype=np.float32), RNG.integers(0, 256, (4, 5, 6)).astype(np.uint8),
              RNG.integers(0, 256, (1, 5, 6)).astype(np.uint8), RNG.random((1, 5, 6), dtype=np.float32),
              RNG.integers(0, 3000, (1, 5, 6)).astype(np.int16), RNG.integers(0, 256, (2, 5, 6)).astype(np.uint8)]
    for a in arrays:
        for mode in (None, "F", "YCbCr", "LA"):
            try:
                expected = TF.to_pil_image(torch.tensor(a), mode)
            except (ValueError, TypeError) as e:
                with pytest.raises(type(e)):
                    F.to_pil_image(zoo.tensor(a), mode)
                continue
            for got in (F.to_pil_image(zoo.tensor(a), mode), F.to_pil_image(np.moveaxis(a, 0, -1), mode)):
                assert got.mode == expected.mode and np.array_equal(np.asarray(got), np.asarray(expected))


@pytest.mark.oracle
def test_oracle_transform_reprs_and_deterministic_transforms():
    tv = _torchvision()
    TT = tv.transforms
    pairs = [(T.Resize(256), TT.Resize(256)),
             (T.Resize((32, 48), 3, None, False), TT.Resize((32, 48), TT.InterpolationMode.BICUBIC, None, False)),
             (T.CenterCrop(224), TT.CenterCrop(224)),
             (T.RandomCrop(32, padding=4), TT.RandomCrop(32, padding=4)),
             (T.RandomResizedCrop(224), TT.RandomResizedCrop(224)),
             (T.RandomHorizontalFlip(), TT.RandomHorizontalFlip()),
             (T.RandomRotation(30), TT.RandomRotation(30)),
             (T.ColorJitter(0.4, 0.3, 0.2, 0.1), TT.ColorJitter(0.4, 0.3, 0.2, 0.1)),
             (T.Grayscale(3), TT.Grayscale(3)),
             (T.RandomGrayscale(), TT.RandomGrayscale()),
             (T.Normalize([0.5], [0.2]), TT.Normalize([0.5], [0.2])),
             (T.RandomErasing(), TT.RandomErasing()),
             (T.ToTensor(), TT.ToTensor()),
             (T.Pad(4, 1, "edge"), TT.Pad(4, 1, "edge"))]
    for z, t in pairs:
        assert repr(z) == repr(t)
    det = [(T.Compose([T.Resize(20), T.CenterCrop(18), T.Grayscale(3), T.ToTensor(),
                       T.Normalize([0.5] * 3, [0.2] * 3)]),
            TT.Compose([TT.Resize(20), TT.CenterCrop(18), TT.Grayscale(3), TT.ToTensor(),
                        TT.Normalize([0.5] * 3, [0.2] * 3)]))]
    for z, t in det:
        np.testing.assert_allclose(z(pil()).numpy(), t(pil()).numpy(), rtol=1e-5, atol=1e-6)
